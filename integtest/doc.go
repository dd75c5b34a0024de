// Package integtest is the test kit for integ connectors: one call per test
// runs a source through the real command tree (cmd/cli, in process, with a
// deadline) against an httptest fixture server, in the Singer or the
// Airbyte protocol, and checks what every connector must get right.
//
// A connector's test file needs three things: a fixture server answering
// like the vendor's documentation, a config pointing at it, and calls:
//
//	func TestConformance(t *testing.T) {
//		srv := integtest.NewServer(t, fixture()) // records every request
//		integtest.Conformance(t, mysource.Source(), map[string]any{
//			"base_url": srv.URL, "api_key": "test-key-1234",
//		})
//	}
//
//	func TestFailures(t *testing.T) { // 401, 403, 429, 5xx, broken JSON, secrets
//		integtest.Failures(t, mysource.Source(), fixture(), func(srv *integtest.Server) any {
//			return map[string]any{"base_url": srv.URL, "api_key": "test-key-1234"}
//		})
//	}
//
//	func TestBadCredentials(t *testing.T) { // the vendor's own refusal
//		srv := integtest.NewServer(t, fixture())
//		cfg := map[string]any{"base_url": srv.URL, "api_key": "wrong-key-0000"}
//		integtest.BadCredentials(t, mysource.Source(), cfg, []string{"refused the credentials", "Invalid API key"})
//	}
//
//	func TestIssues(t *testing.T) {
//		srv := integtest.NewServer(t, fixture())
//		cfg := map[string]any{"base_url": srv.URL, "api_key": "test-key-1234"}
//		res := integtest.Sync(t, mysource.Source(), cfg, integtest.WithStreams("issues"))
//		if n := len(res.Records("issues")); n != 3 {
//			t.Errorf("%d issues", n)
//		}
//		r := srv.Requests()[0] // the parameters and headers the vendor documents
//		if r.Query.Get("per_page") != "100" || !r.HeaderIs("Authorization", "Bearer test-key-1234") {
//			t.Errorf("first request %s", r)
//		}
//		// An incremental stream resumes from where the last sync ended.
//		again := integtest.Sync(t, mysource.Source(), cfg,
//			integtest.WithStreams("issues"), integtest.WithState(res.FinalState()))
//		_ = again.Records("issues")
//	}
//
// [Conformance] runs the standard checks in both protocols: spec and
// --about, config and stream schemas, check, discover, every record against
// its schema, every Airbyte message against the official protocol schema,
// no record lost when resuming from any checkpoint, and no secret in any
// output. [Sync] runs one sync and returns a [Result] to assert on:
// Records, States, FinalState, Logs, Failure, Stdout, Stderr and ExitCode.
// [Failures] serves the fixture behind a fault injector and checks what
// every connector must survive: a 401 or a 403 is a config error in plain
// words and is not retried, a 429's Retry-After is waited, a burst of 5xx is retried,
// a cut-off JSON body fails naming the stream, and no secret is printed,
// even one the server quotes back. [BadCredentials] checks the vendor's own
// refusal of a wrong secret. [Check] and [Discover] run those commands
// with a config; [Run] runs any other command line (--about, ...).
// [Waits] records the retry layer's waits instead of sleeping, and
// [Faults], embedded in a fixture, lets a test answer chosen requests.
//
// Every run fails the test when it exits non-zero (unless
// [WithExpectedFailure]), does not end within its deadline
// ([DefaultTimeout], or [WithTimeout]), writes anything but whole protocol
// messages to stdout, or prints a secret: the config's secret fields, and
// values obtained at run time named with [WithSecrets]. Give fixtures
// realistic secrets ("test-key-1234", not "tok"): they are looked for as
// plain substrings, and values shorter than 4 bytes are not looked for.
//
// Runs go through the cmd/cli command tree, retrying 3 times without
// sleeping (see [WithHTTP]); checkpoints follow the engine's defaults unless
// [WithCheckpointRecords] or [WithCheckpointInterval] say otherwise
// (Conformance checkpoints every page).
package integtest
