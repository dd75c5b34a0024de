// Package faultsuite holds integ's fault-injection tests: throttling,
// bursts of server errors, broken bodies and signals at random moments, run
// against the PokeAPI connector and an incremental test source through the
// real protocol entry points and binaries. It has no code of its own.
//
// The random tests print, when they fail, the -seed that replays them:
//
//	go test -run '^TestSIGTERMThenResume$' -seed 42 ./internal/faultsuite
package faultsuite
