package integtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/third_party/jsonschema"
	"github.com/tidwall/gjson"
)

// Conformance runs the checks every connector must pass, against the
// fixture server config points at, in both protocols:
//
//   - --about (Singer) and spec (Airbyte) succeed, and the config schema
//     they publish, like the source's own, is a valid JSON Schema;
//   - check succeeds with config;
//   - discover gives, in both protocols, the same streams, each with a
//     valid JSON Schema;
//   - a sync in each protocol succeeds, every record validates against its
//     stream's discovered schema, and every Airbyte message validates
//     against the official protocol schema;
//   - resuming from every checkpoint of that sync gives, with the records
//     written before the checkpoint, every record of the full sync at least
//     once (records are told apart by primary key, or whole when a stream
//     has none);
//   - no secret of config (and none given WithSecrets) appears in the
//     stdout or stderr of any command, at --log-level debug.
//
// Options apply to every sync (WithStreams, WithMode, WithTimeout, ...);
// checkpoints are written after every page unless WithCheckpointRecords or
// WithCheckpointInterval say otherwise. Keep the fixture small: every
// checkpoint costs one more sync.
func Conformance(t testing.TB, src *integ.Source, config any, opts ...Option) {
	t.Helper()
	o := newOptions(opts)
	if o.checkpointRecords == 0 && o.checkpointInterval == 0 {
		o.checkpointRecords = 1
	}
	o.secrets = append(o.secrets, configSecrets(t, src, config)...)
	f := newFiles(t)
	cfgPath := f.write("config.json", config)
	c := &conformance{t: t, src: src, o: o, config: config, cfgPath: cfgPath}

	c.about()
	c.spec()
	c.configSchema()
	c.check()
	singerSchemas := c.discoverSinger()
	airbyteSchemas := c.discoverAirbyte()
	if names(singerSchemas) != names(airbyteSchemas) {
		t.Errorf("conformance: discover gives streams %s in Singer but %s in Airbyte", names(singerSchemas), names(airbyteSchemas))
	}
	singer := c.read(Singer, singerSchemas)
	airbyte := c.read(Airbyte, airbyteSchemas)
	if singer != nil && airbyte != nil {
		c.compare(singer, airbyte)
	}
}

// compare fails when the two protocols' syncs differ in their records
// (told apart as in the resume check, so a field that changes from run to
// run, such as a sync time, does not count).
func (c *conformance) compare(a, b *Result) {
	c.t.Helper()
	streams := map[string]bool{}
	for _, r := range append(a.AllRecords(), b.AllRecords()...) {
		streams[r.Stream] = true
	}
	for _, s := range sortedKeys(streams) {
		x, y := a.Records(s), b.Records(s)
		if len(x) != len(y) {
			c.t.Errorf("conformance: stream %q has %d records in Singer but %d in Airbyte", s, len(x), len(y))
			continue
		}
		kxs, kys := make([]string, len(x)), make([]string, len(y))
		for i := range x {
			kxs[i], kys[i] = c.key(Record{s, x[i]}), c.key(Record{s, y[i]})
		}
		if st := c.src.Stream(s); st != nil && st.Sliced() {
			// Windows interleave their records: compare them as sets.
			slices.Sort(kxs)
			slices.Sort(kys)
		}
		for i := range x {
			kx, ky := kxs[i], kys[i]
			if kx != ky {
				c.t.Errorf("conformance: stream %q record %d is %.300s in Singer but %.300s in Airbyte", s, i+1, a.quote([]byte(kx)), b.quote([]byte(ky)))
				break
			}
		}
	}
}

type conformance struct {
	t       testing.TB
	src     *integ.Source
	o       options
	config  any
	cfgPath string
}

// command runs one command with the suite's options.
func (c *conformance) command(args ...string) *Result {
	c.t.Helper()
	o := c.o
	o.args, o.expectFailure = nil, false
	return run(c.t, c.src, args, o)
}

func (c *conformance) about() {
	c.t.Helper()
	res := c.command("--about")
	var about struct {
		Name         string          `json:"name"`
		Capabilities []string        `json:"capabilities"`
		Settings     json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(res.Stdout, &about); err != nil {
		c.t.Errorf("conformance: %s: %v", res, err)
		return
	}
	if about.Name == "" || len(about.Capabilities) == 0 {
		c.t.Errorf("conformance: %s: no name or capabilities: %.300s", res, res.Stdout)
	}
	if _, err := compileSchema("about settings", about.Settings); err != nil {
		c.t.Errorf("conformance: %s: settings: %v", res, err)
	}
}

func (c *conformance) spec() {
	c.t.Helper()
	res := c.command("spec")
	specs := res.MessagesOf("SPEC")
	if len(specs) != 1 {
		c.t.Errorf("conformance: %s wrote %d SPEC messages, want 1", res, len(specs))
		return
	}
	var m struct {
		Spec struct {
			ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		} `json:"spec"`
	}
	json.Unmarshal(specs[0], &m)
	if _, err := compileSchema("connectionSpecification", m.Spec.ConnectionSpecification); err != nil {
		c.t.Errorf("conformance: %s: connectionSpecification: %v", res, err)
	}
}

func (c *conformance) configSchema() {
	c.t.Helper()
	raw, err := json.Marshal(c.src.ConfigSchema())
	if err == nil {
		_, err = compileSchema("config schema", raw)
	}
	if err != nil {
		c.t.Errorf("conformance: the source's config schema: %v", err)
	}
}

func (c *conformance) check() {
	c.t.Helper()
	res := c.command("check", "--config", c.cfgPath)
	var m struct {
		ConnectionStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"connectionStatus"`
	}
	st := res.MessagesOf("CONNECTION_STATUS")
	if len(st) == 1 {
		json.Unmarshal(st[0], &m)
	}
	if m.ConnectionStatus.Status != "SUCCEEDED" {
		c.t.Errorf("conformance: %s with the good config: %d CONNECTION_STATUS, status %q: %s %s",
			res, len(st), m.ConnectionStatus.Status, m.ConnectionStatus.Message, res.Failure())
	}
}

// streamSchemas are the compiled schemas of a discovered catalog.
type streamSchemas map[string]*jsonschema.Schema

func names(s streamSchemas) string {
	var n []string
	for k := range s {
		n = append(n, k)
	}
	sort.Strings(n)
	return "[" + strings.Join(n, " ") + "]"
}

func (c *conformance) discoverSinger() streamSchemas {
	c.t.Helper()
	res := c.command("--config", c.cfgPath, "--discover")
	var cat struct {
		Streams []struct {
			Stream string          `json:"tap_stream_id"`
			Schema json.RawMessage `json:"schema"`
		} `json:"streams"`
	}
	json.Unmarshal(res.Stdout, &cat)
	out := streamSchemas{}
	for _, s := range cat.Streams {
		sch, err := compileSchema(s.Stream, s.Schema)
		if err != nil {
			c.t.Errorf("conformance: %s: stream %q: %v", res, s.Stream, err)
		}
		out[s.Stream] = sch
	}
	return out
}

func (c *conformance) discoverAirbyte() streamSchemas {
	c.t.Helper()
	res := c.command("discover", "--config", c.cfgPath)
	out := streamSchemas{}
	cats := res.MessagesOf("CATALOG")
	if len(cats) != 1 {
		c.t.Errorf("conformance: %s wrote %d CATALOG messages, want 1", res, len(cats))
		return out
	}
	var m struct {
		Catalog struct {
			Streams []struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"json_schema"`
			} `json:"streams"`
		} `json:"catalog"`
	}
	json.Unmarshal(cats[0], &m)
	for _, s := range m.Catalog.Streams {
		sch, err := compileSchema(s.Name, s.Schema)
		if err != nil {
			c.t.Errorf("conformance: %s: stream %q: %v", res, s.Name, err)
		}
		out[s.Name] = sch
	}
	return out
}

// read syncs in p, validates every record, then resumes from every
// checkpoint.
func (c *conformance) read(p Protocol, schemas streamSchemas) *Result {
	c.t.Helper()
	full := c.sync(p, nil)
	if full.ExitCode != 0 {
		return nil
	}
	invalid := map[string]int{}
	for _, rec := range full.AllRecords() {
		sch, listed := schemas[rec.Stream]
		if !listed {
			c.t.Errorf("conformance: %s: a record of stream %q, which discover does not list", full, rec.Stream)
			continue
		}
		if sch == nil {
			continue // its schema is invalid, which is reported
		}
		if err := validateRecord(sch, rec.Data); err != nil {
			if invalid[rec.Stream]++; invalid[rec.Stream] <= 3 {
				c.t.Errorf("conformance: %s: a %q record does not match its stream's schema: %v\n%.500s", full, rec.Stream, err, full.quote(rec.Data))
			}
		}
	}
	for stream, n := range invalid {
		if n > 3 {
			c.t.Errorf("conformance: %s: %d %q records in all do not match the schema", full, n, stream)
		}
	}
	want := map[string][]string{}
	for _, rec := range full.AllRecords() {
		want[rec.Stream] = append(want[rec.Stream], c.key(rec))
	}
	c.t.Logf("conformance: %s: %d records, resuming from each of %d checkpoints", full, len(full.AllRecords()), len(full.Checkpoints()))
	for i, cp := range full.Checkpoints() {
		resumed := c.sync(p, cp.State)
		if resumed.ExitCode != 0 {
			continue
		}
		got := map[string]bool{}
		for _, rec := range full.AllRecords()[:cp.Records] {
			got[rec.Stream+"\x00"+c.key(rec)] = true
		}
		for _, rec := range resumed.AllRecords() {
			got[rec.Stream+"\x00"+c.key(rec)] = true
		}
		for _, stream := range sortedKeys(want) {
			var lost []string
			for _, k := range want[stream] {
				if !got[stream+"\x00"+k] {
					lost = append(lost, k)
				}
			}
			if len(lost) > 0 {
				c.t.Errorf("conformance: %s: resuming from checkpoint %d of %d (state %.300s) loses %d %q records, e.g. %.300s",
					p, i+1, len(full.Checkpoints()), full.quote(cp.State), len(lost), stream, full.quote([]byte(lost[0])))
			}
		}
	}
	return full
}

func (c *conformance) sync(p Protocol, state json.RawMessage) *Result {
	c.t.Helper()
	o := c.o
	o.protocol, o.state, o.expectFailure = p, state, false
	return syncWith(c.t, c.src, c.config, o)
}

// key tells records apart: the primary key's values, or the whole record.
func (c *conformance) key(rec Record) string {
	if st := c.src.Stream(rec.Stream); st != nil && len(st.PrimaryKey) > 0 {
		var parts []string
		for _, f := range st.PrimaryKey {
			parts = append(parts, f+"="+gjson.GetBytes(rec.Data, f).Raw)
		}
		return strings.Join(parts, ",")
	}
	var b bytes.Buffer
	if json.Compact(&b, rec.Data) != nil {
		return string(rec.Data)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compileSchema compiles a JSON Schema document (draft 7 unless it says
// otherwise), checking it against its meta-schema.
func compileSchema(name string, raw []byte) (*jsonschema.Schema, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("no schema")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft7)
	comp.AssertFormat()
	url := "mem:///" + strings.NewReplacer(" ", "_", "/", "_").Replace(name) + ".json"
	if err := comp.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	s, err := comp.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("not a valid JSON Schema: %w", err)
	}
	return s, nil
}

func validateRecord(s *jsonschema.Schema, rec []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}
