package sobjects_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/sobjects"
)

// TestReadThroughCommandTree runs discover and then a read of one stream
// through the binaries' command tree (cmd/cli.Execute, by integtest): the
// read makes one list call, no describe, and queries only its stream.
func TestReadThroughCommandTree(t *testing.T) {
	const selected = "Opportunity"
	for _, p := range []integtest.Protocol{integtest.Airbyte, integtest.Singer} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(t, objects)
			src := sobjects.Source()
			args := []string{"discover", "--config", f.config}
			if p == integtest.Singer {
				args[0] = "--discover"
			}
			disc := integtest.Run(t, src, args, integtest.WithHTTP(noRetry), integtest.WithSecrets(token))
			if !slices.ContainsFunc(disc.Logs(), func(s string) bool { return strings.Contains(s, "resolving the schemas of 800 streams") }) {
				t.Errorf("no discovery log in %q", disc.Logs())
			}
			var catalog []byte
			switch p {
			case integtest.Airbyte:
				msgs := disc.MessagesOf("CATALOG")
				if len(msgs) != 1 {
					t.Fatalf("%d CATALOG messages", len(msgs))
				}
				var m struct {
					Catalog struct{ Streams []map[string]any } `json:"catalog"`
				}
				if err := json.Unmarshal(msgs[0], &m); err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(m.Catalog.Streams, func(s map[string]any) bool { return s["name"] == selected })
				if len(m.Catalog.Streams) != objects+1 || i < 0 {
					t.Fatalf("%d streams, %s at %d", len(m.Catalog.Streams), selected, i)
				}
				catalog, _ = json.Marshal(map[string]any{"streams": []any{map[string]any{
					"stream": m.Catalog.Streams[i], "sync_mode": "incremental", "destination_sync_mode": "append",
				}}})
			case integtest.Singer:
				var cat map[string]any
				if err := json.Unmarshal(disc.Stdout, &cat); err != nil {
					t.Fatal(err)
				}
				for _, e := range cat["streams"].([]any) {
					e := e.(map[string]any)
					md := e["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
					md["selected"] = e["tap_stream_id"] == selected
				}
				catalog, _ = json.Marshal(cat)
			}
			before := f.server.Counts()
			res := integtest.Sync(t, src, map[string]any{"instance_url": f.url, "access_token": token},
				integtest.WithProtocol(p), integtest.WithCatalog(catalog), integtest.WithHTTP(noRetry), integtest.WithSecrets(token))
			checkReadCalls(t, delta(before, f.server.Counts()), selected, 0)
			if n := len(res.Records(selected)); n != 3 {
				t.Errorf("%d records, want 3", n)
			}
			if n := len(res.AllRecords()); n != 3 {
				t.Errorf("%d records in all, want 3 of %s", n, selected)
			}
		})
	}
}
