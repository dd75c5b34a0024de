// Package driver is what a wire protocol implements to carry an integ sync:
// the protocol's encoder for each stream, the checkpoints and results the
// engine hands it, and the line-serialising output both write to.
//
// It is for protocol implementers, as database/sql/driver is for database
// drivers. Connector authors never need it: they declare sources and
// streams with package integ, and the Singer and Airbyte protocols
// (protocol/singer, protocol/airbyte) already implement this package.
//
// The engine (integ.Source.Sync) calls [Protocol.Stream] once per stream of
// a sync, then the returned [StreamEncoder] from one goroutine, in order:
// Start, then Page before each page's records, Record for each record,
// State at checkpoints, End. Encoders append whole lines to a buffer the
// engine owns and writes through an [Output], so a record costs no
// allocation and lines from concurrent streams never interleave.
package driver
