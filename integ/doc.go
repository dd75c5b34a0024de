// Package integ is the protocol-neutral core of the integ framework.
//
// An integration declares a [Source]: a typed config struct and a list of
// [Stream]s, each with a record type (or an explicit [Schema]), a primary key,
// an optional replication key and a [RunnerFunc]. The runner talks to the API
// through an [HttpContext] and emits records; integ does everything else:
// config schemas and validation, catalog selection, incremental state,
// checkpoints, logging and error classification. The wire protocols (Singer,
// Airbyte, or any other) plug in through the [Protocol] interface and never
// leak into an integration.
//
// Record bytes travel from the HTTP response to the output unchanged: integ
// splits the response's record array with gjson and splices each element into
// the protocol envelope, so ids such as 9007199254740993 survive byte for byte.
package integ
