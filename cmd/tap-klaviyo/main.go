// Command tap-klaviyo is the Klaviyo connector: a Singer tap and an Airbyte
// source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/klaviyo"
)

func main() { os.Exit(cli.Main(klaviyo.Source())) }
