package integtest

import (
	"encoding/json"
	"testing"

	"github.com/integ/integ/integ"
)

// RefusesConfigs fails the test for every document of bad that src's
// config schema accepts, and for a refusal that is not a config error.
//
//	integtest.RefusesConfigs(t, Source(), `{}`, `{"api_key":"k1234567","page_size":0}`)
func RefusesConfigs(t testing.TB, src *integ.Source, bad ...string) {
	t.Helper()
	for _, doc := range bad {
		_, err := src.ParseConfig(json.RawMessage(doc))
		switch {
		case err == nil:
			t.Errorf("integtest: config %s accepted", doc)
		case integ.KindOf(err) != integ.ConfigFailure:
			t.Errorf("integtest: config %s refused with a %v, not a config error: %v", doc, integ.KindOf(err), err)
		}
	}
}

// DecodeConfig parses doc with src's config schema (defaults applied) and
// decodes it into a C, failing the test at once when either fails: a test
// asserts the defaults on what it returns.
//
//	c := integtest.DecodeConfig[Config](t, Source(), `{"api_key":"k1234567"}`)
//	if c.PageSize != 100 { ... }
func DecodeConfig[C any](t testing.TB, src *integ.Source, doc string) C {
	t.Helper()
	var c C
	cfg, err := src.ParseConfig(json.RawMessage(doc))
	if err != nil {
		t.Fatalf("integtest: config %s: %v", doc, err)
	}
	if err := cfg.Decode(&c); err != nil {
		t.Fatalf("integtest: config %s: decoding: %v", doc, err)
	}
	return c
}
