package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// stream is one checked stream declaration, ready to run.
type stream struct {
	cfg         StreamConfig
	url         *template // base_url + path, with the parent's fields
	method      string
	body        any // POST: the decoded body, its strings templates
	params      map[string]*template
	recordsPath string
	pager       *Pagination // nil: one request
	schema      *integ.Schema
	startDate   string

	sampledPages int // pages the schema inference read
}

// listStreams is the source's StreamListFunc: it checks every declaration
// (no request is made while any is wrong) and lists the streams. A stream
// whose config gives no schema is listed without one: inferSchema samples
// its records when a command needs it (discover; read only when the catalog
// has no schema for it).
func listStreams(c *integ.HttpContext) ([]*integ.Stream, error) {
	decls, err := declared(c)
	if err != nil {
		return nil, err
	}
	out := make([]*integ.Stream, 0, len(decls))
	for _, d := range decls {
		desc := fmt.Sprintf("%s %s", d.method, requests.RedactURL(d.url.String()))
		if d.cfg.Parent != "" {
			desc += fmt.Sprintf(", once per record of %q", d.cfg.Parent)
		}
		if d.schema != nil {
			if err := d.checkKeys(-1); err != nil {
				return nil, err
			}
		} else {
			desc += "; schema inferred from a sample of records"
		}
		out = append(out, d.stream(desc))
	}
	return out, nil
}

// inferSchema is the source's SchemaFunc: it infers a listed stream's
// schema from a sample of its records.
func inferSchema(c *integ.HttpContext, name string) (*integ.Schema, error) {
	decls, err := declared(c)
	if err != nil {
		return nil, err
	}
	for _, d := range decls {
		if d.cfg.Name != name {
			continue
		}
		n, err := d.infer(c, decls)
		if err != nil {
			return nil, err
		}
		if err := d.checkKeys(n); err != nil {
			return nil, err
		}
		return d.schema, nil
	}
	return nil, fmt.Errorf("stream %q is not declared in the config", name)
}

// frameworkKeys are the top-level config keys the framework adds
// (requests_per_second, validate_records...), valid besides Config's.
func frameworkKeys() []string {
	frameworkOnce.Do(func() { frameworkList = listFrameworkKeys() })
	return frameworkList
}

var (
	frameworkOnce sync.Once
	frameworkList []string
)

func listFrameworkKeys() []string {
	own := map[string]bool{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		own[name] = true
	}
	var out []string
	if s := Source().ConfigSchema(); s != nil {
		for _, name := range s.PropertyNames() {
			if !own[name] {
				out = append(out, name)
			}
		}
	}
	return out
}

// declared checks the config's keys, HTTP settings and stream
// declarations.
func declared(c *integ.HttpContext) ([]*stream, error) {
	var raw json.RawMessage
	if err := c.Load(&raw, nil); err != nil {
		return nil, err
	}
	if err := checkConfigKeys(raw); err != nil {
		return nil, err
	}
	var cfg Config
	if err := c.Load(&cfg, nil); err != nil {
		return nil, err
	}
	if err := checkHTTP(&cfg); err != nil {
		return nil, err
	}
	decls, err := declare(&cfg)
	if err != nil {
		return nil, integ.ConfigErrorf("%w", err)
	}
	return decls, nil
}

// configType is the type the config decodes into.
var configType = reflect.TypeOf(Config{})

// checkConfigKeys fails on a key tap-rest does not know, at any depth.
func checkConfigKeys(raw json.RawMessage) error {
	if errs := unknownKeys(raw, configType, "", frameworkKeys()); len(errs) > 0 {
		return integ.ConfigErrorf("the config has keys tap-rest does not know (a typo is otherwise ignored): %w", errors.Join(errs...))
	}
	return nil
}

// checkKeys checks that the primary key and replication key are properties
// of the schema (given, or inferred from n records). The framework checks
// this too, but its message does not reach the user.
func (d *stream) checkKeys(n int) error {
	if len(d.schema.Properties) == 0 {
		return nil // nothing is known about the records' fields
	}
	where := "a property of the stream's schema"
	if n >= 0 {
		where = fmt.Sprintf("a field of the records (none of the %d read to infer the schema has it)", n)
	}
	var errs []error
	for _, k := range d.cfg.PrimaryKey {
		if d.schema.Property(k) == nil {
			errs = append(errs, fmt.Errorf("stream %q: primary_key %q is not %s%s", d.cfg.Name, k, where, didYouMean(k, d.schema.PropertyNames())))
		}
	}
	if k := d.cfg.ReplicationKey; k != "" {
		segs := integ.SplitKey(k)
		if _, missing := d.schema.PropertyPath(segs); missing >= 0 {
			var names []string
			at := d.schema
			if missing > 0 {
				at, _ = d.schema.PropertyPath(segs[:missing])
			}
			if at != nil {
				names = at.PropertyNames()
			}
			part := ""
			if missing > 0 {
				part = fmt.Sprintf(" (%q has no field %q)", integ.JoinKey(segs[:missing]...), segs[missing])
			}
			errs = append(errs, fmt.Errorf("stream %q: replication_key %q is not %s%s%s", d.cfg.Name, k, where, part, didYouMean(segs[missing], names)))
		}
	}
	if len(errs) > 0 {
		return integ.ConfigErrorf("%w", errors.Join(errs...))
	}
	return nil
}

// declare checks the config's stream declarations and returns them ready to
// run, or an error naming every wrong field of every stream.
func declare(cfg *Config) ([]*stream, error) {
	var errs []error
	if len(cfg.Streams) == 0 {
		errs = append(errs, errors.New("streams: the config declares no streams"))
	}
	if cfg.StartDate != "" {
		if _, err := parseTimeValue(cfg.StartDate); err != nil || isNumber(cfg.StartDate) {
			errs = append(errs, fmt.Errorf("start_date %q is not an RFC 3339 date-time or a YYYY-MM-DD date", cfg.StartDate))
		}
	}
	names := make([]string, 0, len(cfg.Streams))
	for _, sc := range cfg.Streams {
		names = append(names, sc.Name)
	}
	for _, sc := range cfg.Streams {
		if sc.Parent != "" && sc.Parent != sc.Name && !slices.Contains(names, sc.Parent) {
			errs = append(errs, fmt.Errorf("stream %q: parent %q is not a stream of the config%s", sc.Name, sc.Parent, didYouMean(sc.Parent, names)))
		}
	}
	seen := map[string]bool{}
	var out []*stream
	for i, sc := range cfg.Streams {
		label := fmt.Sprintf("stream %q", sc.Name)
		if strings.TrimSpace(sc.Name) == "" {
			label = fmt.Sprintf("streams[%d]", i)
			errs = append(errs, fmt.Errorf("%s: name is empty", label))
		} else if seen[sc.Name] {
			errs = append(errs, fmt.Errorf("%s: name is used by another stream too", label))
		}
		seen[sc.Name] = true
		d, problems := declareStream(cfg.BaseURL, sc)
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("%s: %s", label, p))
		}
		if len(problems) == 0 {
			d.startDate = cfg.StartDate
			out = append(out, d)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// declareStream checks one declaration; problems name the field.
func declareStream(baseURL string, sc StreamConfig) (*stream, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	d := &stream{cfg: sc, recordsPath: sc.RecordsPath, method: strings.ToUpper(orDefault(sc.Method, "GET")), params: map[string]*template{}}
	uses := map[string]bool{} // template names the stream uses

	switch p := strings.TrimSpace(sc.Path); {
	case p == "":
		bad("path is missing (the endpoint, relative to base_url: \"/posts\")")
	case strings.ContainsAny(p, " \t\r\n"):
		bad("path %q contains white space", sc.Path)
	case openAPIParam(p) != "":
		bad("path %q has %s, an OpenAPI placeholder tap-rest does not fill: write the value, or {{parent.<field>}} in a child stream (set parent) to take it from each parent record", sc.Path, openAPIParam(p))
	default:
		u := p
		if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
			u = strings.TrimRight(baseURL, "/") + "/" + strings.TrimLeft(p, "/")
		}
		t, err := parseTemplate(u)
		switch {
		case err != nil:
			bad("path: %v", err)
		case t.uses(varBookmark) || t.uses(varStartDate) || t.uses(varNow):
			bad("path %q: only {{parent.<field>}} may be used in a path (put the bookmark in params)", sc.Path)
		default:
			d.url = t
			if t.uses(varParent) {
				uses[varParent] = true
			}
		}
	}
	switch d.method {
	case "GET":
		if len(sc.Body) > 0 && string(sc.Body) != "null" {
			bad("body is only sent with method POST (set \"method\": \"POST\")")
		}
	case "POST":
		if len(sc.Body) > 0 && string(sc.Body) != "null" {
			b, err := decodeBody(sc.Body)
			if err != nil {
				bad("body is not JSON: %v", err)
			} else if _, ok := b.(map[string]any); !ok {
				bad("body must be a JSON object")
			} else if err := bodyTemplates(b, "body", uses); err != nil {
				bad("%v", err)
			} else {
				d.body = b
			}
		}
	default:
		bad("method %q is not supported (use GET or POST)", sc.Method)
	}
	switch sc.Format {
	case "", FormatJSON:
	case FormatJSONLines:
		if sc.RecordsPath != "" {
			bad("records_path is not used with format \"jsonl\" (every line is a record)")
		}
		if sc.Pagination != nil && sc.Pagination.Type != "" && sc.Pagination.Type != PageNone {
			bad("pagination is not supported with format \"jsonl\" (the body is read as one stream of records)")
		}
		if raw := strings.TrimSpace(string(sc.Schema)); raw == "" || raw == "null" {
			bad("format \"jsonl\" needs a schema (inference reads JSON pages only)")
		}
	default:
		bad("format %q is unknown (use json or jsonl)%s", sc.Format, didYouMean(sc.Format, []string{FormatJSON, FormatJSONLines}))
	}
	if err := checkPath(sc.RecordsPath); err != nil {
		bad("records_path %q is not a valid gjson path: %v", sc.RecordsPath, err)
	}
	if sc.RecordFilter != "" {
		if err := checkPath("#(" + sc.RecordFilter + ")"); err != nil {
			bad("record_filter %q is not a valid gjson condition: %v", sc.RecordFilter, err)
		}
	}
	for i, k := range sc.PrimaryKey {
		if k == "" {
			bad("primary_key[%d] is empty", i)
		}
	}
	if k := sc.ReplicationKey; k != "" {
		for _, seg := range integ.SplitKey(k) {
			if seg == "" {
				bad("replication_key %q has an empty part (a field name with a dot is written with \\.)", k)
				break
			}
		}
	}
	if sc.IncrementalParam != "" {
		if _, ok := sc.Params[sc.IncrementalParam]; ok {
			bad("incremental_param %q is in params too: keep one (params {\"%s\": \"{{bookmark}}\"} is the same)", sc.IncrementalParam, sc.IncrementalParam)
		}
		d.params[sc.IncrementalParam] = &template{parts: []tmplPart{{name: varBookmark}}}
		uses[varBookmark] = true
	}
	if sc.Sorted && sc.ReplicationKey == "" {
		bad("sorted needs a replication_key (sorted says records come in replication_key order)")
	}
	for _, k := range sc.Params.sortedKeys() {
		if k == "" {
			bad("params has an empty name")
			continue
		}
		t, err := parseTemplate(sc.Params[k])
		if err != nil {
			bad("params.%s: %v", k, err)
			continue
		}
		for _, p := range t.parts {
			if p.name != "" {
				uses[p.name] = true
			}
		}
		d.params[k] = t
	}
	if uses[varBookmark] && sc.ReplicationKey == "" && sc.IncrementalParam != "" {
		bad("incremental_param %q needs a replication_key (the record field the bookmark is read from)", sc.IncrementalParam)
	} else if uses[varBookmark] && sc.ReplicationKey == "" {
		bad("{{bookmark}} (or incremental_param) needs a replication_key: the record field the bookmark is read from")
	}
	if uses[varParent] && sc.Parent == "" {
		bad("{{parent.<field>}} is used, but the stream has no parent (set parent to the stream whose records it reads)")
	}
	if sc.Parent == sc.Name && sc.Name != "" {
		bad("parent names the stream itself")
	}
	if sc.PartitionKey != "" {
		if sc.Parent == "" {
			bad("partition_key is only used by a child stream (set parent)")
		} else if err := checkPath(sc.PartitionKey); err != nil {
			bad("partition_key %q is not a valid gjson path: %v", sc.PartitionKey, err)
		}
	}
	if sc.Pagination != nil {
		problems = append(problems, checkPagination(sc.Pagination, d.method)...)
		if t := sc.Pagination.Type; t != "" && t != PageNone {
			d.pager = sc.Pagination
		}
	}
	if raw := strings.TrimSpace(string(sc.Schema)); raw != "" && raw != "null" {
		s := new(integ.Schema)
		if err := s.UnmarshalJSON(sc.Schema); err != nil {
			bad("schema: %v", err)
		} else if len(s.Type) > 0 && !s.Type.Has("object") {
			bad("schema: records are objects, but the schema's type is %v", []string(s.Type))
		} else {
			d.schema = s
		}
	}
	return d, problems
}

// paginationFields lists the fields each pagination type uses, besides type
// and the stop conditions every type has (has_more_path, short_page_ends,
// max_pages).
var paginationFields = map[string][]string{
	PageNone:       {},
	PagePage:       {"page_param", "size_param", "size", "start"},
	PageOffset:     {"offset_param", "limit_param", "size"},
	PageLinkHeader: {"size_param", "size"},
	PageNextURL:    {"path", "size_param", "size"},
	PageCursor:     {"path", "param", "size_param", "size"},
	PageLastRecord: {"field", "param", "size_param", "size"},
	PageBodyCursor: {"path", "field", "size"},
}

var paginationTypes = []string{PageNone, PagePage, PageOffset, PageLinkHeader, PageNextURL, PageCursor, PageLastRecord, PageBodyCursor}

// checkPagination names every problem of a pagination block.
func checkPagination(p *Pagination, method string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	typ := p.Type
	if typ == "" {
		typ = PageNone
	}
	allowed, ok := paginationFields[typ]
	if !ok {
		bad("pagination.type %q is unknown%s (use %s)", p.Type, didYouMean(p.Type, paginationTypes), strings.Join(paginationTypes, ", "))
		return problems
	}
	set := map[string]bool{
		"page_param": p.PageParam != "", "size_param": p.SizeParam != "", "size": p.Size != 0,
		"start": p.Start != nil, "offset_param": p.OffsetParam != "", "limit_param": p.LimitParam != "",
		"path": p.Path != "", "param": p.Param != "", "field": p.Field != "",
	}
	for _, f := range []string{"page_param", "size_param", "size", "start", "offset_param", "limit_param", "path", "param", "field"} {
		if set[f] && !slices.Contains(allowed, f) {
			bad("pagination.%s is not used by pagination.type %q", f, typ)
		}
	}
	if typ == PageNone && (p.HasMorePath != "" || p.ShortPageEnds || p.MaxPages != 0) {
		bad("pagination.type \"none\" reads one page: has_more_path, short_page_ends and max_pages do not apply")
	}
	if p.Size < 0 {
		bad("pagination.size %d is negative", p.Size)
	}
	if p.MaxPages < 0 {
		bad("pagination.max_pages %d is negative", p.MaxPages)
	}
	if p.SizeParam != "" && p.Size == 0 {
		bad("pagination.size_param %q needs pagination.size", p.SizeParam)
	}
	if p.ShortPageEnds && p.Size == 0 {
		bad("pagination.short_page_ends needs pagination.size (the number of records of a full page)")
	}
	if p.Start != nil && *p.Start < 0 {
		bad("pagination.start %d is negative", *p.Start)
	}
	if p.HasMorePath != "" {
		if err := checkPath(p.HasMorePath); err != nil {
			bad("pagination.has_more_path %q is not a valid gjson path: %v", p.HasMorePath, err)
		}
	}
	what := map[string]string{PageNextURL: "page's URL", PageCursor: "page's token", PageBodyCursor: "page's token"}
	switch typ {
	case PageNextURL, PageCursor, PageBodyCursor:
		if p.Path == "" {
			bad("pagination.path is required for pagination.type %q (the gjson path to the next %s in the body)", typ, what[typ])
		} else if err := checkPath(p.Path); err != nil {
			bad("pagination.path %q is not a valid gjson path: %v", p.Path, err)
		}
	}
	switch typ {
	case PageCursor:
		if p.Param == "" {
			bad("pagination.param is required for pagination.type \"cursor\" (the query parameter that receives the token)")
		}
	case PageLastRecord:
		if p.Param == "" {
			bad("pagination.param is required for pagination.type \"last_record\" (the query parameter that receives the last record's field: starting_after)")
		}
		if err := checkPath(p.Field); err != nil {
			bad("pagination.field %q is not a valid gjson path: %v", p.Field, err)
		}
	case PageBodyCursor:
		if method != "POST" {
			bad("pagination.type \"body_cursor\" needs method POST (the token is sent in the body)")
		}
		if p.Field == "" {
			bad("pagination.field is required for pagination.type \"body_cursor\" (the body field that receives the token: after)")
		}
	}
	return problems
}

// stream builds the framework's stream.
func (d *stream) stream(desc string) *integ.Stream {
	opts := []integ.StreamOption{integ.Description(desc)}
	if len(d.cfg.PrimaryKey) > 0 {
		opts = append(opts, integ.PrimaryKey(d.cfg.PrimaryKey...))
	}
	if d.cfg.ReplicationKey != "" {
		opts = append(opts, integ.Incremental(d.cfg.ReplicationKey))
	}
	if d.cfg.Sorted {
		opts = append(opts, integ.Sorted())
	}
	if f := d.cfg.RecordFilter; f != "" {
		q := "#(" + f + ")"
		opts = append(opts, integ.Filter(func(rec gjson.Result) bool {
			return gjson.Get("["+rec.Raw+"]", q).Exists()
		}))
	}
	if d.cfg.Parent != "" {
		opts = append(opts, integ.ChildOf(d.cfg.Parent))
		if k := d.cfg.PartitionKey; k != "" {
			opts = append(opts, integ.PartitionBy(func(parent gjson.Result) string { return parent.Get(k).String() }))
		}
	}
	if d.schema == nil {
		// Its schema comes from discover (or the catalog): maybe inferred.
		opts = append(opts, watchInferred())
	}
	st := integ.NewStream(d.cfg.Name, nil, d.run, opts...)
	st.Schema = d.schema // nil: inferred when needed
	return st
}
