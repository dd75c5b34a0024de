package integtest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

// Check runs the Airbyte check command with config (a JSON document, as in
// Sync) and returns its result: read it with ConnectionStatus. A FAILED
// status exits 0; a config integ cannot parse fails the run (say so with
// WithExpectedFailure). The config's secrets must appear in no output.
func Check(t testing.TB, src *integ.Source, config any, opts ...Option) *Result {
	t.Helper()
	return command(t, src, config, "check", newOptions(opts))
}

// Discover runs discover with config: Airbyte's discover command with
// WithProtocol(Airbyte), else the Singer tap's --discover. Read the
// catalog with Messages("CATALOG") (Airbyte) or Stdout (Singer).
func Discover(t testing.TB, src *integ.Source, config any, opts ...Option) *Result {
	t.Helper()
	o := newOptions(opts)
	if o.protocol == Airbyte {
		return command(t, src, config, "discover", o)
	}
	return command(t, src, config, "--discover", o)
}

func command(t testing.TB, src *integ.Source, config any, cmd string, o options) *Result {
	t.Helper()
	path := newFiles(t).write("config.json", config)
	o.secrets = append(o.secrets, configSecrets(t, src, config)...)
	args := []string{cmd, "--config", path}
	if cmd == "--discover" {
		args = []string{"--config", path, cmd}
	}
	return run(t, src, args, o)
}

// ConnectionStatus returns the status (SUCCEEDED or FAILED) and message of
// a check's CONNECTION_STATUS message, or "" when it wrote none.
func (r *Result) ConnectionStatus() (status, message string) { return connectionStatus(r) }

// BadCredentials runs, with a config whose credentials the fixture refuses,
// a sync in each protocol and check, and fails the test unless each of them
// reports a config error (check: FAILED; Airbyte: failure_type
// config_error) whose message holds every one of words: the vendor's own
// explanation, as the fixture answers it, and integ's advice. It returns
// the two syncs' results (Singer, Airbyte) for further assertions. opts
// apply to the syncs (WithStreams, ...).
//
//	cfg["api_key"] = "pk_wrong_0000"
//	integtest.BadCredentials(t, Source(), cfg, []string{"refused the credentials", "Invalid API key"})
func BadCredentials(t testing.TB, src *integ.Source, config any, words []string, opts ...Option) []*Result {
	t.Helper()
	has := func(msg string) bool {
		for _, w := range words {
			if !strings.Contains(msg, w) {
				return false
			}
		}
		return msg != ""
	}
	var out []*Result
	for _, p := range []Protocol{Singer, Airbyte} {
		o := newOptions(append(slices.Clone(opts), WithProtocol(p), WithExpectedFailure()))
		o.label = "credentials the fixture refuses"
		res := syncWith(t, src, config, o)
		if res.ExitCode == 0 {
			t.Errorf("%s: the sync succeeded with refused credentials", res)
		}
		if !has(res.Failure()) {
			t.Errorf("%s: failure %q lacks one of %q", res, res.quote([]byte(res.Failure())), words)
		}
		if p == Airbyte && res.FailureType() != "config_error" {
			t.Errorf("%s: failure_type %q, want config_error", res, res.FailureType())
		}
		if n := len(res.AllRecords()); n != 0 {
			t.Errorf("%s: %d records with refused credentials", res, n)
		}
		out = append(out, res)
	}
	o := newOptions([]Option{WithExpectedFailure()})
	o.label = "credentials the fixture refuses"
	res := command(t, src, config, "check", o)
	if status, msg := res.ConnectionStatus(); status != "FAILED" || !has(msg) {
		t.Errorf("%s: status %q, message %q: want FAILED with %q", res, status, res.quote([]byte(msg)), words)
	}
	return out
}

// CatalogStreams returns the names of the streams a discover wrote, in
// catalog order: the Singer catalog's tap_stream_id, or the Airbyte
// CATALOG message's stream names.
func (r *Result) CatalogStreams() []string {
	var names []string
	if r.Protocol == Singer {
		var cat struct {
			Streams []struct {
				ID string `json:"tap_stream_id"`
			} `json:"streams"`
		}
		json.Unmarshal(r.Stdout, &cat)
		for _, s := range cat.Streams {
			names = append(names, s.ID)
		}
		return names
	}
	for _, m := range r.MessagesOf("CATALOG") {
		var c struct {
			Catalog struct {
				Streams []struct{ Name string } `json:"streams"`
			} `json:"catalog"`
		}
		json.Unmarshal(m, &c)
		for _, s := range c.Catalog.Streams {
			names = append(names, s.Name)
		}
	}
	return names
}
