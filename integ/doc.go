// Package integ is the protocol-neutral core of the integ framework.
//
// An integration declares a [Source]: a typed config struct and a list of
// [Stream]s, each with a record type (or an explicit schema, [JSONSchema]), a
// primary key, an optional replication key and a [RunnerFunc]. The runner
// talks to the API through an [HttpContext] and emits records; integ does
// everything else: config schemas and validation, catalog selection,
// incremental state, checkpoints, logging and error classification. The wire
// protocols (Singer, Airbyte, or any other) plug in through package
// [github.com/integ/integ/integ/driver] and never leak into an integration.
//
// What a real SaaS API needs, each declared rather than hand-written:
//   - child streams as partitions with their own state: [ChildOf],
//     [PartitionBy], [HttpContext.Partition];
//   - auth built once per process, renewing and persisting credentials:
//     [WithAuth], [Session];
//   - record reshaping before bookmarks and validation: [Transform],
//     [Flatten], [Drop], [AddField], [Filter]; nested replication keys;
//   - error, retry and rate policy per source: [OnError], [WithErrorPolicy],
//     [SkipOn], [WithRetry], [WithAdaptiveLimit];
//   - streams found at run time: [WithStreamList], [WithSchemaResolver];
//   - bodies that are not JSON: [HttpContext.EmitCSV],
//     [HttpContext.EmitJSONLines];
//   - a typed config decoded once: [ConfigOf].
//
// Record bytes travel from the HTTP response to the output unchanged: integ
// splits the response's record array and splices each element into the
// protocol envelope, so ids such as 9007199254740993 survive byte for byte.
package integ
