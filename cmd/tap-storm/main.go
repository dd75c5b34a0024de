// Command tap-storm is the Storm (Norce Commerce) Query API connector: a
// Singer tap and an Airbyte source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/storm"
)

func main() { os.Exit(cli.Main(storm.Source())) }
