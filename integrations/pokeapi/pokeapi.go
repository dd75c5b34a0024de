// Package pokeapi is the PokeAPI connector (https://pokeapi.co/docs/v2), and
// the example to copy when writing a new one: a config struct, a record type
// per stream, and one runner that pages through a list endpoint.
package pokeapi

import (
	"strconv"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Config is the connector's config. Its JSON Schema (for --about, spec and
// validation) is generated from the fields and their tags.
type Config struct {
	BaseURL  string `json:"base_url" title:"Base URL" description:"Root of the PokeAPI v2 (or a mirror of it)." default:"https://pokeapi.co/api/v2" format:"uri" pattern:"^https?://" examples:"https://pokeapi.co/api/v2"`
	PageSize int    `json:"page_size" title:"Page size" description:"Records asked for per request." default:"100" minimum:"1" maximum:"10000"`
}

// NamedResource is the shape of every PokeAPI list entry.
type NamedResource struct {
	Name string `json:"name" description:"The resource's unique name."`
	URL  string `json:"url" format:"uri" description:"The resource's detail URL."`
}

// Pokemon is a Pokémon's detail record (a subset of the API's fields;
// the others pass through unchanged).
type Pokemon struct {
	ID             int    `json:"id"`
	Name           string `json:"name"`
	Height         int    `json:"height" description:"In decimetres."`
	Weight         int    `json:"weight" description:"In hectograms."`
	BaseExperience *int   `json:"base_experience"`
	IsDefault      bool   `json:"is_default"`
	Order          int    `json:"order"`
	Types          []struct {
		Slot int           `json:"slot"`
		Type NamedResource `json:"type"`
	} `json:"types"`
	Abilities []struct {
		Ability  NamedResource `json:"ability"`
		IsHidden bool          `json:"is_hidden"`
		Slot     int           `json:"slot"`
	} `json:"abilities"`
}

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("pokeapi", Config{},
		integ.WithTitle("PokeAPI"),
		integ.WithDescription("Pokémon, types and abilities from the PokeAPI."),
		integ.WithDocumentationURL("https://pokeapi.co/docs/v2"),
		integ.WithStreams(
			list("pokemon", "Every Pokémon."),
			list("type", "Every Pokémon type."),
			list("ability", "Every ability."),
			integ.NewStream("pokemon_details", Pokemon{}, details,
				integ.ChildOf("pokemon"),
				integ.PrimaryKey("id"),
				integ.Description("Each Pokémon's detail record: one request per Pokémon, so not selected by default."),
				integ.NotSelectedByDefault(),
			),
		),
	)
}

// list declares a stream over one of PokeAPI's named-resource lists.
func list(resource, doc string) *integ.Stream {
	return integ.NewStream(resource, NamedResource{}, listRunner(resource),
		integ.PrimaryKey("name"),
		integ.Description(doc),
		integ.EstimateFrom("count"),
	)
}

// listRunner reads GET {base_url}/{resource}?limit=&offset= and follows the
// absolute "next" URL until it is null.
func listRunner(resource string) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[Config](c)
		if err != nil {
			return err
		}
		first := requests.New(strings.TrimRight(cfg.BaseURL, "/")+"/"+resource).
			Query("limit", strconv.Itoa(cfg.PageSize)).
			Query("offset", "0")
		return c.EmitPages(first, requests.NextURL("next"), "results")
	}
}

// details fetches the detail record of one Pokémon from the list entry's URL.
func details(c *integ.HttpContext) error {
	return c.EmitObject(requests.New(c.Parent().Get("url").String()))
}
