// Command tap-pokeapi is the PokeAPI connector: a Singer tap and an Airbyte
// source in one binary.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/pokeapi"
)

func main() { os.Exit(cli.Main(pokeapi.Source())) }
