package integtest

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/integ/integ/integ"
)

// Protocol names the wire protocol a run speaks.
type Protocol string

// The protocols every integ binary speaks.
const (
	Singer  Protocol = "singer"
	Airbyte Protocol = "airbyte"
)

// DefaultTimeout bounds every run unless WithTimeout says otherwise: a
// connector that loops fails its test in seconds, not at go test's timeout.
const DefaultTimeout = 10 * time.Second

// Option tunes a Sync, a Run or a Conformance suite.
type Option func(*options)

type options struct {
	protocol           Protocol
	streams            []string
	mode               integ.SyncMode
	catalog            json.RawMessage
	state              json.RawMessage
	checkpointRecords  int64
	checkpointInterval time.Duration
	args               []string
	timeout            time.Duration
	secrets            []string
	expectFailure      bool
	logLevel           string
	now                func() time.Time
	http               *integ.HTTPOptions
	faultsOn           func(*http.Request) bool
	label              string // names the run in failure messages
}

func newOptions(opts []Option) options {
	o := options{protocol: Singer, timeout: DefaultTimeout, logLevel: "debug"}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithProtocol chooses the protocol of a Sync (default Singer).
func WithProtocol(p Protocol) Option { return func(o *options) { o.protocol = p } }

// WithStreams selects these streams only (default: every stream the source
// selects by default). The catalog is built from the run's own discover.
func WithStreams(names ...string) Option { return func(o *options) { o.streams = names } }

// WithMode asks for this sync mode for every selected stream that supports
// it (default: incremental where the stream has a replication key).
func WithMode(m integ.SyncMode) Option { return func(o *options) { o.mode = m } }

// WithCatalog passes a catalog verbatim, in the protocol's own form (a
// Singer catalog, or an Airbyte configured catalog). It wins over
// WithStreams and WithMode.
func WithCatalog(raw json.RawMessage) Option { return func(o *options) { o.catalog = raw } }

// WithState passes an input state in the protocol's own form: what
// Result.States and Result.FinalState return.
func WithState(raw json.RawMessage) Option { return func(o *options) { o.state = raw } }

// WithCheckpointRecords writes a checkpoint at the end of the first page
// after n records; 1 checkpoints every page.
func WithCheckpointRecords(n int64) Option { return func(o *options) { o.checkpointRecords = n } }

// WithCheckpointInterval writes a checkpoint at the end of the first page
// after d.
func WithCheckpointInterval(d time.Duration) Option {
	return func(o *options) { o.checkpointInterval = d }
}

// WithArgs appends command-line arguments to the run's.
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// WithTimeout bounds the run (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithSecrets names values obtained at run time (tokens, session ids) that
// must never appear in any output, besides the config's secret fields.
func WithSecrets(values ...string) Option {
	return func(o *options) { o.secrets = append(o.secrets, values...) }
}

// WithExpectedFailure says the run is meant to fail: a non-zero exit code
// does not fail the test (assert Result.Failure instead).
func WithExpectedFailure() Option { return func(o *options) { o.expectFailure = true } }

// WithLogLevel sets --log-level (default debug, so that every log line is
// checked for secrets too).
func WithLogLevel(level string) Option { return func(o *options) { o.logLevel = level } }

// WithClock fixes the sync's clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHTTP replaces the HTTP tuning (default: 3 attempts with no sleeping
// between them, so retry tests run fast).
func WithHTTP(h integ.HTTPOptions) Option { return func(o *options) { o.http = &h } }

// Protocols returns both protocols, Singer first: a test that must hold
// in each ranges over it.
//
//	for _, p := range integtest.Protocols() {
//		t.Run(string(p), func(t *testing.T) { ... integtest.WithProtocol(p) ... })
//	}
func Protocols() []Protocol { return []Protocol{Singer, Airbyte} }
