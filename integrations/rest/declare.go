package rest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// inferSample is how many records of the first page schema inference reads.
const inferSample = 100

// stream is one checked stream declaration, ready to run.
type stream struct {
	cfg         StreamConfig
	url         string
	recordsPath string
	pager       *Pagination // nil: one request
	schema      *integ.Schema
}

// listStreams is the source's StreamListFunc: it checks every declaration
// (no request is made while any is wrong) and lists the streams. A stream
// whose config gives no schema is listed without one: inferSchema reads its
// first page when a command needs it (discover; read only when the catalog
// has no schema for it).
func listStreams(c *integ.HttpContext) ([]*integ.Stream, error) {
	decls, err := declared(c)
	if err != nil {
		return nil, err
	}
	out := make([]*integ.Stream, 0, len(decls))
	for _, d := range decls {
		desc := fmt.Sprintf("GET %s", requests.RedactURL(d.url))
		if d.schema != nil {
			if err := d.checkKeys(-1); err != nil {
				return nil, err
			}
		} else {
			desc += "; schema inferred from the first page"
		}
		out = append(out, d.stream(desc))
	}
	return out, nil
}

// inferSchema is the source's SchemaFunc: it infers a listed stream's
// schema from its first page.
func inferSchema(c *integ.HttpContext, name string) (*integ.Schema, error) {
	decls, err := declared(c)
	if err != nil {
		return nil, err
	}
	for _, d := range decls {
		if d.cfg.Name != name {
			continue
		}
		n, err := d.infer(c)
		if err != nil {
			return nil, err
		}
		if err := d.checkKeys(n); err != nil {
			return nil, err
		}
		c.Logger().Info(fmt.Sprintf("stream %q: schema inferred from %d records", name, n))
		return d.schema, nil
	}
	return nil, fmt.Errorf("stream %q is not declared in the config", name)
}

// declared checks the config's HTTP settings and stream declarations.
func declared(c *integ.HttpContext) ([]*stream, error) {
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

// checkKeys checks that the primary key and replication key are top-level
// properties of the schema (given, or inferred from n records). The
// framework checks this too, but its message does not reach the user.
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
			errs = append(errs, fmt.Errorf("stream %q: primary_key %q is not %s", d.cfg.Name, k, where))
		}
	}
	if k := d.cfg.ReplicationKey; k != "" && d.schema.Property(k) == nil {
		errs = append(errs, fmt.Errorf("stream %q: replication_key %q is not %s", d.cfg.Name, k, where))
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
	d := &stream{cfg: sc, recordsPath: sc.RecordsPath}

	switch p := strings.TrimSpace(sc.Path); {
	case p == "":
		bad("path is missing (the endpoint, relative to base_url: \"/posts\")")
	case strings.ContainsAny(p, " \t\r\n"):
		bad("path %q contains white space", sc.Path)
	case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		d.url = p
	default:
		d.url = strings.TrimRight(baseURL, "/") + "/" + strings.TrimLeft(p, "/")
	}
	if err := checkPath(sc.RecordsPath); err != nil {
		bad("records_path %q is not a valid gjson path: %v", sc.RecordsPath, err)
	}
	for i, k := range sc.PrimaryKey {
		if k == "" {
			bad("primary_key[%d] is empty", i)
		}
	}
	if sc.IncrementalParam != "" && sc.ReplicationKey == "" {
		bad("incremental_param %q needs a replication_key (the record field the bookmark is read from)", sc.IncrementalParam)
	}
	if sc.Sorted && sc.ReplicationKey == "" {
		bad("sorted needs a replication_key (sorted says records come in replication_key order)")
	}
	for k := range sc.Params {
		if k == "" {
			bad("params has an empty name")
		}
	}
	if sc.Pagination != nil {
		problems = append(problems, checkPagination(sc.Pagination)...)
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

// paginationFields lists the fields each pagination type uses, besides type.
var paginationFields = map[string][]string{
	PageNone:       {},
	PagePage:       {"page_param", "size_param", "size", "start"},
	PageOffset:     {"offset_param", "limit_param", "size"},
	PageLinkHeader: {"size_param", "size"},
	PageNextURL:    {"path", "size_param", "size"},
	PageCursor:     {"path", "param", "size_param", "size"},
}

// checkPagination names every problem of a pagination block.
func checkPagination(p *Pagination) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	typ := p.Type
	if typ == "" {
		typ = PageNone
	}
	allowed, ok := paginationFields[typ]
	if !ok {
		bad("pagination.type %q is unknown (use none, page, offset, link_header, next_url or cursor)", p.Type)
		return problems
	}
	set := map[string]bool{
		"page_param": p.PageParam != "", "size_param": p.SizeParam != "", "size": p.Size != 0,
		"start": p.Start != nil, "offset_param": p.OffsetParam != "", "limit_param": p.LimitParam != "",
		"path": p.Path != "", "param": p.Param != "",
	}
	for _, f := range []string{"page_param", "size_param", "size", "start", "offset_param", "limit_param", "path", "param"} {
		if set[f] && !slices.Contains(allowed, f) {
			bad("pagination.%s is not used by pagination.type %q", f, typ)
		}
	}
	if p.Size < 0 {
		bad("pagination.size %d is negative", p.Size)
	}
	if p.SizeParam != "" && p.Size == 0 {
		bad("pagination.size_param %q needs pagination.size", p.SizeParam)
	}
	if p.Start != nil && *p.Start < 0 {
		bad("pagination.start %d is negative", *p.Start)
	}
	switch typ {
	case PageNextURL, PageCursor:
		if p.Path == "" {
			bad("pagination.path is required for pagination.type %q (the gjson path to the next %s in the body)", typ, map[string]string{PageNextURL: "page's URL", PageCursor: "page's token"}[typ])
		} else if err := checkPath(p.Path); err != nil {
			bad("pagination.path %q is not a valid gjson path: %v", p.Path, err)
		}
		if typ == PageCursor && p.Param == "" {
			bad("pagination.param is required for pagination.type \"cursor\" (the query parameter that receives the token)")
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
	st := integ.NewStream(d.cfg.Name, nil, d.run, opts...)
	st.Schema = d.schema // nil: inferred when needed
	return st
}

// firstRequest is the stream's first page: params, then the paging
// parameters of the first page.
func (d *stream) firstRequest() *requests.Request {
	req := requests.New(d.url)
	for _, k := range d.cfg.Params.sortedKeys() {
		req.SetQuery(k, d.cfg.Params[k])
	}
	p := d.pager
	if p == nil {
		return req
	}
	switch p.Type {
	case PagePage:
		req.SetQuery(orDefault(p.PageParam, "page"), strconv.Itoa(p.start()))
		if p.SizeParam != "" {
			req.SetQuery(p.SizeParam, strconv.Itoa(p.Size))
		}
	case PageOffset:
		req.SetQuery(orDefault(p.OffsetParam, "offset"), "0")
		if p.Size > 0 {
			req.SetQuery(orDefault(p.LimitParam, "limit"), strconv.Itoa(p.Size))
		}
	default:
		if p.SizeParam != "" {
			req.SetQuery(p.SizeParam, strconv.Itoa(p.Size))
		}
	}
	return req
}

func (p *Pagination) start() int {
	if p.Start == nil {
		return 1
	}
	return *p.Start
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// paginator returns a new paginator for one run of the stream. Every type
// also stops on an empty page, and on a page shorter than size when size is
// set.
func (p *Pagination) paginator() requests.Paginator {
	var next requests.Paginator
	switch p.Type {
	case PagePage:
		next = requests.PageNumber(orDefault(p.PageParam, "page"), p.SizeParam, p.Size, p.start())
	case PageOffset:
		limit := ""
		if p.Size > 0 {
			limit = orDefault(p.LimitParam, "limit")
		}
		next = requests.Offset(orDefault(p.OffsetParam, "offset"), limit, p.Size)
	case PageLinkHeader:
		next = requests.LinkHeader()
	case PageNextURL:
		next = requests.NextURL(p.Path)
	case PageCursor:
		next = requests.Cursor(p.Path, p.Param)
	}
	size := p.Size
	return requests.PaginatorFunc(func(prev *requests.Request, resp *requests.JSONResponse, count int) (*requests.Request, error) {
		if count == 0 || size > 0 && count < size {
			return nil, nil
		}
		return next.Next(prev, resp, count)
	})
}

// run reads the stream: the first request with the bookmark, then every
// page.
func (d *stream) run(c *integ.HttpContext) error {
	first := d.firstRequest()
	if d.cfg.IncrementalParam != "" {
		if b := c.Bookmark(); b.Exists() {
			first.SetQuery(d.cfg.IncrementalParam, b.String())
		}
	}
	if d.pager == nil {
		return c.EmitBatch(first, nil, d.recordsPath)
	}
	return c.EmitPages(first, d.pager.paginator(), d.recordsPath)
}

// infer reads the first page and sets the schema from up to inferSample of
// its records; it returns how many records it used.
func (d *stream) infer(c *integ.HttpContext) (int, error) {
	req := d.firstRequest()
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("stream %q: reading the first page to infer a schema (give one in the stream's schema to skip this): %w", d.cfg.Name, err)
	}
	arr := gjson.ParseBytes(resp.Body)
	if d.recordsPath != "" {
		arr = resp.Get(d.recordsPath)
	}
	if !arr.Exists() {
		return 0, integ.ConfigErrorf("stream %q: records_path %q is not in the response from %s", d.cfg.Name, d.recordsPath, requests.RedactURL(req.URL()))
	}
	if arr.Type != gjson.Null && !arr.IsArray() {
		what := "the body"
		if d.recordsPath != "" {
			what = fmt.Sprintf("records_path %q", d.recordsPath)
		}
		return 0, integ.ConfigErrorf("stream %q: %s in the response from %s is not an array of records (set records_path to where the array is)", d.cfg.Name, what, requests.RedactURL(req.URL()))
	}
	inf := newInferrer()
	n := 0
	for _, rec := range arr.Array() {
		if n == inferSample {
			break
		}
		if !rec.IsObject() {
			return 0, integ.ConfigErrorf("stream %q: element %d at records_path %q in the response from %s is not a JSON object", d.cfg.Name, n, d.recordsPath, requests.RedactURL(req.URL()))
		}
		inf.add(rec)
		n++
	}
	d.schema = inf.schema()
	return n, nil
}
