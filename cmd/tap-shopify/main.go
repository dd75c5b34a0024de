// Command tap-shopify is the Shopify connector (GraphQL Admin API): a
// Singer tap and an Airbyte source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/shopify"
)

func main() { os.Exit(cli.Main(shopify.Source())) }
