package integtest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/airbyteschema"
)

// Sync runs a whole sync of src with config (a JSON document: string,
// []byte, json.RawMessage or any value encoded as JSON) through the real
// command tree, in process: the Singer tap by default, the Airbyte read
// with WithProtocol(Airbyte). The config points at whatever fixture server
// the test started. The test fails if the sync exits non-zero (unless
// WithExpectedFailure), does not end within its deadline, writes anything
// but protocol messages to stdout (for Airbyte: anything the official
// protocol schema rejects) or prints one of the config's secrets.
func Sync(t testing.TB, src *integ.Source, config any, opts ...Option) *Result {
	t.Helper()
	return syncWith(t, src, config, newOptions(opts))
}

func syncWith(t testing.TB, src *integ.Source, config any, o options) *Result {
	t.Helper()
	f := newFiles(t)
	cfgPath := f.write("config.json", config)
	o.secrets = append(o.secrets, configSecrets(t, src, config)...)

	var args []string
	switch o.protocol {
	case Singer:
		args = []string{"--config", cfgPath}
	case Airbyte:
		args = []string{"read", "--config", cfgPath}
	default:
		t.Fatalf("integtest: unknown protocol %q", o.protocol)
	}
	catalog := o.catalog
	if catalog == nil && (o.protocol == Airbyte || o.streams != nil || o.mode != "") {
		catalog = buildCatalog(t, src, cfgPath, o)
	}
	if catalog != nil {
		args = append(args, "--catalog", f.write("catalog.json", catalog))
	}
	if o.state != nil {
		args = append(args, "--state", f.write("state.json", o.state))
	}
	return run(t, src, args, o)
}

// configSecrets returns the values of the config's secret fields.
func configSecrets(t testing.TB, src *integ.Source, config any) []string {
	t.Helper()
	raw, err := jsonBytes(config)
	if err != nil {
		t.Fatalf("integtest: config: %v", err)
	}
	cfg, err := src.ParseConfig(raw)
	if err != nil {
		return nil // the run reports it; a test may mean it
	}
	return cfg.Secrets()
}

// buildCatalog discovers src's catalog in o's protocol and selects o's
// streams (default: those selected by default) in o's mode.
func buildCatalog(t testing.TB, src *integ.Source, cfgPath string, o options) json.RawMessage {
	t.Helper()
	d := o
	d.expectFailure, d.args = false, nil
	selected := func(name string) bool {
		if o.streams != nil {
			return slices.Contains(o.streams, name)
		}
		// A stream listed at run time (WithStreamList) is unknown to src
		// before it is resolved: it is selected, as the tap selects it.
		st := src.Stream(name)
		return st == nil || !st.NotSelectedByDefault
	}
	if o.protocol == Singer {
		res := run(t, src, []string{"--config", cfgPath, "--discover"}, d)
		var cat struct {
			Streams []map[string]any `json:"streams"`
		}
		if err := json.Unmarshal(res.Stdout, &cat); err != nil {
			t.Fatalf("integtest: %s: %v", res, err)
		}
		for _, s := range cat.Streams {
			name, _ := s["tap_stream_id"].(string)
			md, _ := s["metadata"].([]any)
			for _, e := range md {
				e, _ := e.(map[string]any)
				if b, _ := e["breadcrumb"].([]any); len(b) == 0 {
					m, _ := e["metadata"].(map[string]any)
					if m == nil {
						continue
					}
					m["selected"] = selected(name)
					switch o.mode {
					case integ.ModeFullRefresh:
						m["replication-method"] = "FULL_TABLE"
					case integ.ModeIncremental:
						if m["replication-key"] != nil {
							m["replication-method"] = "INCREMENTAL"
						}
					}
				}
			}
		}
		b, _ := json.Marshal(cat)
		return b
	}
	res := run(t, src, []string{"discover", "--config", cfgPath}, d)
	var cat struct {
		Streams []struct {
			Name               string          `json:"name"`
			SupportedSyncModes []string        `json:"supported_sync_modes"`
			DefaultCursorField []string        `json:"default_cursor_field"`
			Raw                json.RawMessage `json:"-"`
		} `json:"streams"`
	}
	var raws struct {
		Streams []json.RawMessage `json:"streams"`
	}
	for _, m := range res.MessagesOf("CATALOG") {
		var w struct {
			Catalog json.RawMessage `json:"catalog"`
		}
		json.Unmarshal(m, &w)
		json.Unmarshal(w.Catalog, &cat)
		json.Unmarshal(w.Catalog, &raws)
	}
	if len(raws.Streams) == 0 && len(src.Streams) > 0 {
		t.Fatalf("integtest: %s wrote no catalog", res)
	}
	var configured []map[string]any
	for i, s := range cat.Streams {
		if !selected(s.Name) {
			continue
		}
		mode := string(o.mode)
		if mode == "" || !slices.Contains(s.SupportedSyncModes, mode) {
			mode = string(integ.ModeFullRefresh)
			if o.mode == "" && slices.Contains(s.SupportedSyncModes, string(integ.ModeIncremental)) {
				mode = string(integ.ModeIncremental)
			}
		}
		cs := map[string]any{"stream": raws.Streams[i], "sync_mode": mode, "destination_sync_mode": "append"}
		if mode == string(integ.ModeIncremental) {
			cs["cursor_field"] = s.DefaultCursorField
		}
		configured = append(configured, cs)
	}
	b, _ := json.Marshal(map[string]any{"streams": configured})
	if err := airbyteschema.Validate("ConfiguredAirbyteCatalog", b); err != nil {
		t.Fatalf("integtest: the configured catalog built from %s: %v", res, err)
	}
	return b
}
