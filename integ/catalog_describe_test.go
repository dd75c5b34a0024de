package integ

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestDescribe checks the stream a protocol is handed: the declaration with
// the plan's choices, and the selected schema encoded once.
func TestDescribe(t *testing.T) {
	type rec struct {
		ID      int    `json:"id"`
		Updated string `json:"updated"`
		Name    string `json:"name"`
	}
	st := NewStream("items", rec{}, func(*HttpContext) error { return nil }, PrimaryKey("id"), Incremental("updated"))
	tests := []struct {
		name        string
		plan        *StreamPlan
		incremental bool
		schema      string
		warning     string
	}{
		{"incremental, two fields", &StreamPlan{Stream: st, Mode: ModeIncremental, Schema: st.Schema.Select([]string{"id", "updated"})},
			true, `{"type":"object","properties":{"id":{"type":"integer"},"updated":{"type":"string"}}}`, ""},
		{"full refresh", &StreamPlan{Stream: st, Mode: ModeFullRefresh, Schema: &Schema{Type: Types{"object"}}}, false, `{"type":"object"}`, ""},
		{"a schema that cannot be encoded", &StreamPlan{Stream: st, Mode: ModeFullRefresh, Schema: &Schema{Default: make(chan int)}},
			false, `{}`, "cannot be encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			d := tt.plan.describe(slog.New(slog.NewTextHandler(&logs, nil)))
			if d.Name != "items" || len(d.PrimaryKey) != 1 || d.PrimaryKey[0] != "id" || d.ReplicationKey != "updated" || d.Incremental != tt.incremental {
				t.Errorf("described as %+v", d)
			}
			if got := mustCompact(t, string(d.Schema)); got != mustCompact(t, tt.schema) {
				t.Errorf("schema %s, want %s", got, tt.schema)
			}
			if tt.warning == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tt.warning) {
				t.Errorf("logs %q, want %q", logs.String(), tt.warning)
			}
		})
	}
}

func mustCompact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
