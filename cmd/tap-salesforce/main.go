// Command tap-salesforce is the Salesforce connector: a Singer tap and an
// Airbyte source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/salesforce"
)

func main() { os.Exit(cli.Main(salesforce.Source())) }
