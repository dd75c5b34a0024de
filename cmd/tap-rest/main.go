// Command tap-rest is the generic REST connector: a Singer tap and an Airbyte
// source whose streams are declared in its config (see integrations/rest).
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/rest"
)

func main() { os.Exit(cli.Main(rest.Source())) }
