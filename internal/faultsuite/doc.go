// Package faultsuite holds integ's fault-injection tests: throttling,
// bursts of server errors, broken bodies and signals at random moments, run
// against the PokeAPI connector and an incremental test source through the
// real protocol entry points and binaries. It has no code of its own.
package faultsuite
