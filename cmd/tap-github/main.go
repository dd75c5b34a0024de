// Command tap-github is the GitHub connector: a Singer tap and an Airbyte
// source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/github"
)

func main() { os.Exit(cli.Main(github.Source())) }
