package integtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// FailuresRetryAfter is the Retry-After, in seconds, of the 429s the
// Failures suite answers; its syncs record waits instead of sleeping.
const FailuresRetryAfter = 7

// Failures runs the failure checks every connector must pass. It serves
// fixture behind a fault injector (a recording [Server]), builds the config
// with config from that server, and then, in turn:
//
//   - syncs once without faults, to learn how many records each stream has
//     (the fixture must serve at least one);
//   - answers every request with 401 Unauthorized: a sync in each protocol
//     fails with a config error (Airbyte failure_type config_error) in plain
//     words (it names the credentials and a stream, no Go stack trace), no
//     request is sent more than twice (once more is fair: an OAuth source
//     renews its token and retries), and check reports FAILED saying so (if
//     it sent a request the faults hit);
//   - answers every request with 403 Forbidden: the sync fails with a
//     config error that says access was refused and names a stream, and no
//     request is sent twice;
//   - answers the first attempt of every request with 429 Too Many Requests
//     and Retry-After: [FailuresRetryAfter]: the sync waits that long before
//     each retry and gets every record;
//   - answers the first two attempts of every request with 502 then 503: the
//     sync retries and gets every record;
//   - answers every request with a cut-off JSON body: the sync fails in
//     each protocol and its failure names the stream (as "name");
//   - in every run, no secret of the config appears in stdout or stderr, not
//     even when the 401 answer echoes the credentials the request carried.
//
// WithFaultsOn limits the faults to some requests (say, not a login or
// token exchange that has its own tests); WithStreams limits the syncs.
// Other options apply to every run, as in Sync. Keep the fixture small: it
// is synced eight times.
func Failures(t testing.TB, src *integ.Source, fixture http.Handler, config func(srv *Server) any, opts ...Option) {
	t.Helper()
	o := newOptions(opts)
	o.expectFailure = false
	inj := &injector{next: fixture, match: o.faultsOn}
	srv := NewServer(t, inj)
	cfg := config(srv)
	o.secrets = append(o.secrets, configSecrets(t, src, cfg)...)
	f := newFiles(t)
	cfgPath := f.write("config.json", cfg)
	fs := &failures{t: t, src: src, o: o, cfg: cfg, cfgPath: cfgPath, srv: srv, inj: inj}

	// The catalogs are discovered without faults: the suite tests syncs.
	fs.catalogs = map[Protocol]any{}
	for _, p := range Protocols() {
		po := o
		po.protocol = p
		fs.catalogs[p] = buildCatalog(t, src, cfgPath, po)
	}
	base := fs.sync("no faults", Singer, faultNone, o)
	fs.want = base.Counts()
	if len(base.AllRecords()) == 0 {
		t.Fatalf("failures: %s synced no record without faults: the fixture must serve some", base)
	}
	fs.unauthorized()
	fs.forbidden()
	fs.throttled()
	fs.serverErrors()
	fs.invalidJSON()
}

// WithFaultsOn makes the Failures suite inject its faults only into the
// requests match accepts (default: every request); the others reach the
// fixture untouched.
func WithFaultsOn(match func(r *http.Request) bool) Option {
	return func(o *options) { o.faultsOn = match }
}

type failures struct {
	t        testing.TB
	src      *integ.Source
	o        options
	cfg      any
	cfgPath  string
	srv      *Server
	inj      *injector
	catalogs map[Protocol]any
	want     map[string]int
	streams  []string
}

// sync runs one sync of the suite's catalog with the injector in mode.
func (fs *failures) sync(name string, p Protocol, mode faultMode, o options) *Result {
	fs.t.Helper()
	fs.inj.set(mode)
	defer fs.inj.set(faultNone)
	fs.srv.Reset()
	f := newFiles(fs.t)
	args := []string{"--config", fs.cfgPath, "--catalog", f.write("catalog.json", fs.catalogs[p])}
	if p == Airbyte {
		args = append([]string{"read"}, args...)
	}
	o.protocol, o.label = p, name
	return run(fs.t, fs.src, args, o)
}

// syncedStreams names the streams the suite's syncs select.
func (fs *failures) syncedStreams() []string {
	if fs.streams != nil {
		return fs.streams
	}
	names := map[string]bool{}
	for s := range fs.want {
		names[s] = true
	}
	for _, st := range fs.src.Streams {
		if fs.o.streams != nil && slices.Contains(fs.o.streams, st.Name) || fs.o.streams == nil && !st.NotSelectedByDefault {
			names[st.Name] = true
		}
	}
	fs.streams = sortedKeys(names)
	return fs.streams
}

// stackTrace matches what a panic or a Go error chain leaks to a user.
var stackTrace = regexp.MustCompile(`goroutine [0-9]+|panic:|\.go:[0-9]+`)

// refusal is a fault the sync must fail on, with a plain message naming
// a stream.
type refusal struct {
	name      string
	mode      faultMode
	status    int    // the status the injector answers
	word      string // the failure says it, in plain words
	configErr string // why Airbyte's failure_type must be config_error ("": no matter)
	repeats   int    // how often one request may be answered status (0: no matter)
}

// refuse runs a sync that meets c in each protocol given.
func (fs *failures) refuse(c refusal, protocols ...Protocol) {
	fs.t.Helper()
	o := fs.o
	o.expectFailure = true
	for _, p := range protocols {
		res := fs.sync(c.name, p, c.mode, o)
		if res.ExitCode == 0 {
			fs.t.Errorf("failures: %s: the sync succeeded", res)
			continue
		}
		fs.plainFailure(res, c.word)
		fs.namesStream(res)
		if p == Airbyte && c.configErr != "" && res.FailureType() != "config_error" {
			fs.t.Errorf("failures: %s: failure_type %q, want config_error: %s", res, res.FailureType(), c.configErr)
		}
		if again := fs.inj.repeated(c.status, c.repeats); c.repeats > 0 && len(again) > 0 {
			fs.t.Errorf("failures: %s: sent again after its %d (a refusal is not transient): %s", res, c.status, strings.Join(again, ", "))
		}
	}
}

func (fs *failures) unauthorized() {
	fs.t.Helper()
	// Once more is fair: an OAuth source renews its token and retries.
	fs.refuse(refusal{name: "401 on every request", mode: faultUnauthorized, status: http.StatusUnauthorized, word: "credentials",
		configErr: "refused credentials are the config's to fix, retrying cannot help", repeats: 2}, Protocols()...)

	fs.inj.set(faultUnauthorized)
	o := fs.o
	o.expectFailure, o.label = true, "401 on every request"
	res := run(fs.t, fs.src, []string{"check", "--config", fs.cfgPath}, o)
	fs.inj.set(faultNone)
	if fs.inj.answered(http.StatusUnauthorized) == 0 {
		return // check sends none of the requests WithFaultsOn chose
	}
	status, msg := connectionStatus(res)
	if status != "FAILED" {
		fs.t.Errorf("failures: %s: status %q, want FAILED", res, status)
	} else if !strings.Contains(strings.ToLower(msg), "credentials") || stackTrace.MatchString(msg) {
		fs.t.Errorf("failures: %s: message %q does not say in plain words that the credentials were refused", res, res.quote([]byte(msg)))
	}
}

func (fs *failures) forbidden() {
	fs.t.Helper()
	fs.refuse(refusal{name: "403 on every request", mode: faultForbidden, status: http.StatusForbidden, word: "access",
		configErr: "a missing permission is the config's to fix", repeats: 1}, Airbyte)
}

// namesStream fails the test unless res's failure names a synced stream.
func (fs *failures) namesStream(res *Result) {
	fs.t.Helper()
	msg := res.Failure()
	for _, s := range fs.syncedStreams() {
		if strings.Contains(msg, fmt.Sprintf("%q", s)) {
			return
		}
	}
	fs.t.Errorf("failures: %s: failure %q names none of the streams %v", res, res.quote([]byte(msg)), fs.syncedStreams())
}

// plainFailure fails the test unless res reported a failure that contains
// word and no stack trace.
func (fs *failures) plainFailure(res *Result, word string) {
	fs.t.Helper()
	msg := res.Failure()
	switch {
	case msg == "":
		fs.t.Errorf("failures: %s: no failure reported (Singer: a CRITICAL line; Airbyte: a TRACE error)", res)
	case !strings.Contains(strings.ToLower(msg), word):
		fs.t.Errorf("failures: %s: failure %q does not mention %s", res, res.quote([]byte(msg)), word)
	case stackTrace.MatchString(msg):
		fs.t.Errorf("failures: %s: failure %q shows Go internals to a user", res, res.quote([]byte(msg)))
	}
}

func (fs *failures) throttled() {
	fs.t.Helper()
	var w Waits
	o := fs.o
	WithWaits(&w, 3)(&o)
	res := fs.sync("429 on every first attempt", Singer, faultThrottled, o)
	fs.sameRecords(res)
	refused := fs.inj.answered(http.StatusTooManyRequests)
	want := time.Duration(FailuresRetryAfter) * time.Second
	if n := w.Count(want); refused == 0 || n < refused {
		fs.t.Errorf("failures: %s: %d answers were 429 with Retry-After: %d, but the sync waited %v before retrying %d times (waits: %v)",
			res, refused, FailuresRetryAfter, want, n, w.All())
	}
}

func (fs *failures) serverErrors() {
	fs.t.Helper()
	o := fs.o
	o.http = &integ.HTTPOptions{Retry: requests.RetryOptions{
		MaxAttempts: 3,
		Sleep:       func(context.Context, time.Duration) error { return nil },
	}}
	res := fs.sync("502 then 503 on every request", Airbyte, faultBurst, o)
	fs.sameRecords(res)
	if fs.inj.answered(http.StatusBadGateway) == 0 {
		fs.t.Errorf("failures: %s: no request reached the fault injector", res)
	}
}

func (fs *failures) invalidJSON() {
	fs.t.Helper()
	fs.refuse(refusal{name: "a cut-off JSON body", mode: faultBrokenJSON, status: http.StatusOK}, Protocols()...)
}

// sameRecords fails the test unless res has, stream by stream, as many
// records as the sync without faults.
func (fs *failures) sameRecords(res *Result) {
	fs.t.Helper()
	got := res.Counts()
	if fmt.Sprint(got) != fmt.Sprint(fs.want) {
		fs.t.Errorf("failures: %s: records per stream %v, want %v as without faults", res, got, fs.want)
	}
}

// connectionStatus reads an Airbyte check's CONNECTION_STATUS.
func connectionStatus(res *Result) (status, message string) {
	for _, m := range res.MessagesOf("CONNECTION_STATUS") {
		var cs struct {
			ConnectionStatus struct{ Status, Message string } `json:"connectionStatus"`
		}
		if json.Unmarshal(m, &cs) == nil {
			return cs.ConnectionStatus.Status, cs.ConnectionStatus.Message
		}
	}
	return "", ""
}
