package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

// TestReadUsesCatalogSchema: a read whose catalog gives the stream's schema
// does not read a first page to infer it; one that gives none does.
func TestReadUsesCatalogSchema(t *testing.T) {
	sch := new(integ.Schema)
	if err := sch.UnmarshalJSON([]byte(`{"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}`)); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/page?page=1&per_page=10", "/page?page=2&per_page=10", "/page?page=3&per_page=10", "/page?page=4&per_page=10"}
	tests := []struct {
		name    string
		catalog *integ.Catalog
		want    []string
	}{
		{"catalog with schema", &integ.Catalog{Streams: []integ.CatalogStream{{Name: "posts", Schema: sch}}}, pages},
		{"catalog without schema", &integ.Catalog{Streams: []integ.CatalogStream{{Name: "posts"}}}, append(slices.Clone(pages), pages...)},
		{"no catalog", nil, append(slices.Clone(pages), pages...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, 25)
			src := Source()
			cfg, err := src.ParseConfig(json.RawMessage(config(srv, `"path": "/page", "records_path": "data", "pagination": {"type": "page", "size_param": "per_page", "size": 10}`)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			listed, err := src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: fastRetry})
			if err != nil {
				t.Fatal(err)
			}
			if got := api.log(); len(got) != 0 {
				t.Errorf("listing made requests %q, want none", got)
			}
			resolved, err := listed.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: fastRetry, Schemas: integ.SchemasSelected, Catalog: tt.catalog})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = resolved.Sync(ctx, integ.SyncOptions{Config: cfg, Catalog: tt.catalog, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), HTTP: fastRetry})
			if err != nil {
				t.Fatal(err)
			}
			if got := api.log(); !slices.Equal(got, tt.want) {
				t.Errorf("requests %q, want %q", got, tt.want)
			}
			if n := bytes.Count(out.Bytes(), []byte(`"title"`)); n != 25 {
				t.Errorf("%d records, want 25", n)
			}
		})
	}
}
