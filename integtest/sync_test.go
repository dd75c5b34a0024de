package integtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/testsource"
)

func TestSyncInBothProtocols(t *testing.T) {
	srv, _ := eventsServer(t, 5)
	cfg := map[string]any{"base_url": srv.URL, "api_key": token}
	tests := []struct {
		protocol   integtest.Protocol
		finalState string
	}{
		{integtest.Singer, `{"bookmarks":{"events":{"replication_key":"updated_at","replication_key_value":"2024-03-01T12:04:00Z"}}}`},
		{integtest.Airbyte, `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"events"},"stream_state":{"replication_key":"updated_at","replication_key_value":"2024-03-01T12:04:00Z"}},"sourceStats":{"recordCount":0.0}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"__ab_no_cursor_state_message":true}},"sourceStats":{"recordCount":3.0}}]`},
	}
	for _, tt := range tests {
		t.Run(string(tt.protocol), func(t *testing.T) {
			res := integtest.Sync(t, testsource.Source(), cfg, integtest.WithProtocol(tt.protocol), integtest.WithCheckpointRecords(1))
			if res.ExitCode != 0 || len(res.Records("events")) != 5 || len(res.Records("users")) != 3 {
				t.Errorf("exit %d, %d events, %d users", res.ExitCode, len(res.Records("events")), len(res.Records("users")))
			}
			if len(res.States()) < 4 {
				t.Errorf("%d states, want one a page", len(res.States()))
			}
			if got := string(res.FinalState()); got != tt.finalState {
				t.Errorf("final state\n%s\nwant\n%s", got, tt.finalState)
			}
			if (tt.protocol == integtest.Singer && len(res.Logs()) == 0) || len(res.Stdout) == 0 { // Singer logs metrics
				t.Errorf("%d log lines, %d bytes of stdout", len(res.Logs()), len(res.Stdout))
			}
			if n := len(srv.Requests()); n == 0 {
				t.Error("no request recorded")
			}
			for _, r := range srv.Requests() {
				if !r.HeaderIs("Authorization", "Bearer "+token) {
					t.Errorf("%s without the token", r)
				}
			}
		})
	}
}

func TestSyncOptions(t *testing.T) {
	srv, _ := eventsServer(t, 3)
	cfg := map[string]any{"base_url": srv.URL, "api_key": token}
	catalog := json.RawMessage(`{"streams":[{"tap_stream_id":"users","stream":"users","schema":{"type":"object"},"metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]}]}`)
	state := json.RawMessage(`{"bookmarks":{"events":{"replication_key":"updated_at","replication_key_value":"2024-03-01T12:02:00Z"}}}`)
	tests := []struct {
		name         string
		opts         []integtest.Option
		events, user int
	}{
		{"streams", []integtest.Option{integtest.WithStreams("users")}, 0, 3},
		{"catalog", []integtest.Option{integtest.WithCatalog(catalog)}, 0, 3},
		{"state", []integtest.Option{integtest.WithState(state)}, 1, 3},
		{"full refresh ignores the state", []integtest.Option{integtest.WithState(state), integtest.WithMode("full_refresh")}, 3, 3},
		{"airbyte streams", []integtest.Option{integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("events")}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := integtest.Sync(t, testsource.Source(), cfg, tt.opts...)
			if len(res.Records("events")) != tt.events || len(res.Records("users")) != tt.user {
				t.Errorf("%d events, %d users; want %d, %d", len(res.Records("events")), len(res.Records("users")), tt.events, tt.user)
			}
		})
	}
}

func TestSyncFailures(t *testing.T) {
	srv, _ := eventsServer(t, 3)
	bad := map[string]any{"base_url": srv.URL, "api_key": "wrong-key-0000"}
	got := failures(t, func(tb testing.TB) { integtest.Sync(tb, testsource.Source(), bad) })
	if len(got) != 1 || !strings.Contains(got[0], "exit code 1") || !strings.Contains(got[0], "401") {
		t.Errorf("a failing sync: %q", got)
	}
	res := integtest.Sync(t, testsource.Source(), bad, integtest.WithExpectedFailure(), integtest.WithProtocol(integtest.Airbyte))
	if res.ExitCode != 1 || res.FailureType() != "config_error" || !strings.Contains(res.Failure(), "401") {
		t.Errorf("exit %d, %s %q", res.ExitCode, res.FailureType(), res.Failure())
	}
}
