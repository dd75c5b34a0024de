// Command tap-sitoo is the Sitoo connector: a Singer tap and an Airbyte
// source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/sitoo"
)

func main() { os.Exit(cli.Main(sitoo.Source())) }
