// Command tap-hubspot is the HubSpot CRM connector: a Singer tap and an
// Airbyte source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/hubspot"
)

func main() { os.Exit(cli.Main(hubspot.Source())) }
