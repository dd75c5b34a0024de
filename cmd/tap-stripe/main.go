// Command tap-stripe is the Stripe connector: a Singer tap and an Airbyte
// source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/stripe"
)

func main() { os.Exit(cli.Main(stripe.Source())) }
