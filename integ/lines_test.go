package integ

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// decodeAll runs a decoder to the end and returns its records, one a line,
// and its error.
func decodeAll(t testing.TB, dec recordDecoder) (string, error) {
	t.Helper()
	var out []string
	var rec []byte
	for {
		var err error
		rec, err = dec.next(rec[:0])
		if err == io.EOF {
			return strings.Join(out, "\n"), nil
		}
		if err != nil {
			return strings.Join(out, "\n"), err
		}
		if !json.Valid(rec) || bytes.ContainsAny(rec, "\r\n") {
			t.Fatalf("record is not single-line JSON: %q", rec)
		}
		out = append(out, string(rec))
	}
}

var csvSchema = mustSchema(`{"type":"object","properties":{"id":{"type":"integer"},"amount":{"type":["null","number"]},"active":{"type":"boolean"},"name":{"type":"string"}}}`)

func mustSchema(s string) *Schema {
	sc := new(Schema)
	if err := sc.UnmarshalJSON([]byte(s)); err != nil {
		panic(err)
	}
	return sc
}

func TestCSVDecoder(t *testing.T) {
	tests := []struct {
		name, in string
		opts     []CSVOption
		want     string
		wantErr  string
	}{
		{"typed columns", "id,amount,active,name\n9007199254740993,1.5e3,TRUE,ünï\n2,-0.25,false,\"a,b\"\n",
			nil, `{"id":9007199254740993,"amount":1.5e3,"active":true,"name":"ünï"}` + "\n" + `{"id":2,"amount":-0.25,"active":false,"name":"a,b"}`, ""},
		{"values that do not parse stay strings", "id,amount,active\n1.0,1.,yes\n007,NaN,0\n",
			nil, `{"id":"1.0","amount":"1.","active":"yes"}` + "\n" + `{"id":"007","amount":"NaN","active":"0"}`, ""},
		{"quoted newlines, quotes and CRLF", "name,note\r\n\"multi\nline\",\"say \"\"hi\"\"\"\r\n",
			nil, `{"name":"multi\nline","note":"say \"hi\""}`, ""},
		{"empty values are empty strings", "name,note,id\n,,\n", nil, `{"name":"","note":"","id":null}`, ""},
		{"empty values as null", "name,note,id\n,x,\n", []CSVOption{CSVEmptyAsNull()}, `{"name":null,"note":"x","id":null}`, ""},
		{"byte order mark and odd header names", "\ufeffid,\"we\"\"ird\\\"\n1,\x01\n", nil, `{"id":1,"we\"ird\\":"\u0001"}`, ""},
		{"line separators are escaped", "name\n\u2028\n", nil, `{"name":"\u2028"}`, ""},
		{"invalid utf-8 is replaced", "name\n\xff\n", nil, `{"name":"\ufffd"}`, ""},
		{"semicolons", "id;name\n1;x\n", []CSVOption{CSVDelimiter(';')}, `{"id":1,"name":"x"}`, ""},
		{"empty body", "", nil, "", ""},
		{"header only", "id,name\n", nil, "", ""},
		{"too many fields", "id,name\n1,a\n2,b,c\n", nil, `{"id":1,"name":"a"}`, "record on line 3: wrong number of fields"},
		{"bare quote", "id,name\n1,a\"b\n", nil, "", `bare " in non-quoted-field`},
		{"unterminated quote", "id,name\n1,\"abc\n", nil, "", `extraneous or missing " in quoted-field`},
		{"duplicate header", "id,id\n1,2\n", nil, "", `the header row names column "id" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := csvOptions{comma: ','}
			for _, opt := range tt.opts {
				opt(&o)
			}
			got, err := decodeAll(t, newCSVDecoder(strings.NewReader(tt.in), csvSchema, o))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestJSONLinesDecoder(t *testing.T) {
	long := `{"k":"` + strings.Repeat("x", 100<<10) + `"}`
	tests := []struct {
		name, in string
		max      int64
		want     string
		wantErr  string
	}{
		{"lines, blanks, CRLF, no final newline", "{\"a\":1}\n\n  \r\n{\"b\":9007199254740993}\r\n{\"c\":\"ü\\u00fc\"}",
			0, `{"a":1}` + "\n" + `{"b":9007199254740993}` + "\n" + `{"c":"ü\u00fc"}`, ""},
		{"nested and escaped keys", `{"a\"b":{"c":[1,{"d":null}]},"__parentId":"gid://x"}` + "\n", 0, `{"a\"b":{"c":[1,{"d":null}]},"__parentId":"gid://x"}`, ""},
		{"a line longer than the buffer", long + "\n{\"z\":1}\n", 0, long + "\n" + `{"z":1}`, ""},
		{"a line over the limit", long + "\n", 1 << 10, "", "longer than 1024 bytes"},
		{"bad line names its number", "{\"a\":1}\n\n{\"a\":\n", 0, `{"a":1}`, `line 3: not a JSON object: {"a":`},
		{"an array is not a record", "[1,2]\n", 0, "", "line 1: not a JSON object"},
		{"two objects on a line", "{} {}\n", 0, "", "line 1: not a JSON object"},
		{"a carriage return between tokens becomes a space", "{\"a\":1,\r\"b\":2}\n", 0, `{"a":1, "b":2}`, ""},
		{"empty body", "", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAll(t, newJSONLinesDecoder(strings.NewReader(tt.in), tt.max))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("\n got: %.200s\nwant: %.200s", got, tt.want)
			}
		})
	}
}

// FuzzCSV checks the decoder against encoding/csv: the same rows, each
// value a string under its header's name, and valid single-line JSON.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,b\n\"x\ny\",\"\"\"\"\n", "a\n\xff\n", "a,a\n1,2\n", "a,b\n1\n", "\ufeffa\n\u2028\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := decodeAll(t, newCSVDecoder(strings.NewReader(in), &Schema{}, csvOptions{comma: ','}))
		ref := csv.NewReader(strings.NewReader(in))
		rows, refErr := ref.ReadAll()
		if refErr != nil {
			if err == nil {
				t.Fatalf("encoding/csv fails (%v) but the decoder does not", refErr)
			}
			return
		}
		if err != nil {
			if len(rows) > 0 && strings.Contains(err.Error(), "twice") {
				return // a duplicate header name: refused on purpose
			}
			t.Fatalf("decoder fails (%v) where encoding/csv reads %q", err, rows)
		}
		var recs []string
		if got != "" {
			recs = strings.Split(got, "\n")
		}
		if len(rows) > 0 {
			rows = rows[1:]
		}
		if len(recs) != len(rows) {
			t.Fatalf("%d records, encoding/csv has %d rows", len(recs), len(rows))
		}
		for i, rec := range recs {
			var m map[string]string
			if err := json.Unmarshal([]byte(rec), &m); err != nil {
				t.Fatal(err)
			}
			for j, v := range rows[i] {
				if want := validUTF8(v); m[headerAt(t, in, j)] != want {
					t.Fatalf("row %d column %d: %q, want %q", i, j, m[headerAt(t, in, j)], want)
				}
			}
		}
	})
}

func headerAt(t *testing.T, in string, j int) string {
	row, err := csv.NewReader(strings.NewReader(in)).Read()
	if err != nil {
		t.Fatal(err)
	}
	if j == 0 {
		return validUTF8(strings.TrimPrefix(row[0], "\ufeff"))
	}
	return validUTF8(row[j])
}

// validUTF8 replaces each invalid byte with U+FFFD, as the decoder does.
func validUTF8(s string) string { return strings.Map(func(r rune) rune { return r }, s) }

// FuzzJSONLines checks that every non-blank line comes out as the same
// JSON value, and that a line that is not an object is refused.
func FuzzJSONLines(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n\n{\"b\":[1,2]}", "{\"a\":\n", "[1]\n", "{}\r\n{} {}\n", "{\"a\":\"\\u2028\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":1}\r{\"b\":2}", "{\"a\":1e400}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := decodeAll(t, newJSONLinesDecoder(strings.NewReader(in), 1<<20))
		var recs []string
		if got != "" {
			recs = strings.Split(got, "\n")
		}
		var want []string
		var bad bool
		for _, line := range strings.Split(in, "\n") {
			l := strings.TrimSpace(line)
			if l == "" {
				continue
			}
			if !strings.HasPrefix(l, "{") || !json.Valid([]byte(l)) {
				bad = true
				break
			}
			want = append(want, strings.ReplaceAll(l, "\r", " ")) // whitespace CR: a space on the way out
		}
		switch {
		case bad && err == nil:
			t.Fatalf("a bad line was accepted: %q", in)
		case !bad && err != nil:
			t.Fatalf("good lines were refused: %v", err)
		case err != nil:
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		if len(recs) != len(want) {
			t.Fatalf("%d records from %d good lines", len(recs), len(want))
		}
		for i, r := range recs {
			if r != want[i] {
				t.Fatalf("record %d: %s, want the line as it was: %s", i, r, want[i])
			}
		}
	})
}

// exportAPI serves /export.csv and /export.jsonl with n rows, and counts
// requests.
func exportAPI(t *testing.T, n int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since := r.URL.Query().Get("since")
		switch r.URL.Path {
		case "/export.csv":
			fmt.Fprint(w, "Id,Name,Amount,Updated\r\n")
			for i := 1; i <= n; i++ {
				ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
				if ts < since {
					continue
				}
				fmt.Fprintf(w, "%d,\"name %d, \"\"quoted\"\"\nline\",%d.5,%s\r\n", i, i, i, ts)
			}
		case "/export.jsonl":
			for i := 1; i <= n; i++ {
				ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
				fmt.Fprintf(w, `{"id":"gid://shopify/Order/%d","attributes":{"updated":%q,"total":9007199254740993}}`+"\n\n", i, ts)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEmitCSVSync(t *testing.T) {
	srv := exportAPI(t, 2500)
	type row struct {
		ID      int64     `json:"Id"`
		Name    string    `json:"Name"`
		Amount  float64   `json:"Amount"`
		Updated time.Time `json:"Updated"`
		Org     string    `json:"org"`
	}
	run := func(c *HttpContext) error {
		req := requests.New(srv.URL + "/export.csv")
		if b := c.Bookmark(); b.Exists() {
			req = req.Query("since", b.String())
		}
		return c.EmitCSV(req)
	}
	src := NewSource("sf", eventsConfig{}, WithStreams(NewStream("accounts", row{}, run, PrimaryKey("Id"), Incremental("Updated"), Sorted(),
		AddField("org", func(c *HttpContext) any { return "acme" }))))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := runSync(t, src, srv.URL, nil, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(out, "REC ")
	if len(recs) != 2500 {
		t.Fatalf("%d records, want 2500", len(recs))
	}
	if want := `REC accounts {"Id":1,"Name":"name 1, \"quoted\"\nline","Amount":1.5,"Updated":"2024-01-01T00:00:01Z","org":"acme"}`; recs[0] != want {
		t.Errorf("first record\n got: %s\nwant: %s", recs[0], want)
	}
	states := lines(out, "STATE ")
	if len(states) != 3 { // after 1000, 2000, and at the end
		t.Errorf("%d checkpoints, want 3 (rows are checkpointed as they stream):\n%s", len(states), strings.Join(states, "\n"))
	}
	if !strings.Contains(states[0], `"replication_key_value":"2024-01-01T00:16:40Z"`) {
		t.Errorf("first checkpoint does not cover row 1000: %s", states[0])
	}
}

func TestEmitJSONLinesNestedKeyAndResume(t *testing.T) {
	srv := exportAPI(t, 5)
	run := func(c *HttpContext) error { return c.EmitJSONLines(requests.New(srv.URL + "/export.jsonl")) }
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},"attributes":{"type":"object","properties":{"updated":{"type":"string","format":"date-time"},"total":{"type":"integer"}}}}}`)
	src := NewSource("shop", eventsConfig{}, WithStreams(NewStream("orders", nil, run, JSONSchema(schema), PrimaryKey("id"), Incremental("attributes.updated"))))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	st := &State{Streams: map[string]json.RawMessage{"orders": json.RawMessage(`{"replication_key":"attributes.updated","replication_key_value":"2024-01-01T00:00:04Z"}`)}}
	out, err := runSync(t, src, srv.URL, nil, st, 1000)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(out, "REC ")
	if len(recs) != 2 || !strings.Contains(recs[0], "Order/4") || !strings.Contains(recs[1], `"total":9007199254740993`) {
		t.Errorf("resume must keep only records at or after the bookmark:\n%s", strings.Join(recs, "\n"))
	}
	if !strings.Contains(out, `STATE orders {"replication_key":"attributes.updated","replication_key_value":"2024-01-01T00:00:05Z"}`) {
		t.Errorf("state:\n%s", out)
	}
}

func TestEmitStreamedErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad.jsonl":
			fmt.Fprint(w, "{\"id\":1}\n{\"id\":2}\nnot json\n")
		case "/bad.csv":
			fmt.Fprint(w, "id\n1\n2,3\n")
		default:
			http.Error(w, "gone", http.StatusGone)
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ path, want string }{
		{"/bad.jsonl", `stream "s": JSON Lines body from ` + srv.URL + `/bad.jsonl: line 3: not a JSON object: not json`},
		{"/bad.csv", `stream "s": CSV body from ` + srv.URL + `/bad.csv: record on line 3: wrong number of fields`},
		{"/missing.csv", "410 Gone"},
	} {
		run := func(c *HttpContext) error {
			if strings.HasSuffix(tc.path, ".jsonl") {
				return c.EmitJSONLines(requests.New(srv.URL + tc.path))
			}
			return c.EmitCSV(requests.New(srv.URL + tc.path))
		}
		src := NewSource("x", eventsConfig{}, WithStreams(NewStream("s", nil, run, JSONSchema(json.RawMessage(`{"type":"object"}`)))))
		out, err := runSync(t, src, srv.URL, nil, nil, 1000)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.path, err, tc.want)
		}
		if tc.path != "/missing.csv" && len(lines(out, "REC ")) != 1+strings.Count(tc.path, "jsonl") {
			t.Errorf("%s: the records before the bad line must go out:\n%s", tc.path, out)
		}
	}
}

// genCSV generates a CSV body of about size bytes without holding it, and
// samples the heap as it goes.
type genCSV struct {
	jsonl     bool // JSON Lines instead of CSV
	left, row int
	pending   []byte
	peak      uint64
	ms        runtime.MemStats
}

func (g *genCSV) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		if g.left <= 0 {
			return 0, io.EOF
		}
		if g.row == 0 && !g.jsonl {
			g.pending = append(g.pending, "Id,Name,Amount,Updated\n"...)
		}
		for range 2000 {
			g.row++
			if g.jsonl {
				g.pending = fmt.Appendf(g.pending, `{"Id":%d,"Name":"name %d, with \"quotes\"","Amount":%d.25,"Updated":"2024-01-01T00:00:00Z"}`+"\n", g.row, g.row, g.row)
			} else {
				g.pending = fmt.Appendf(g.pending, "%d,\"name %d, with \"\"quotes\"\"\",%d.25,2024-01-01T00:00:00Z\n", g.row, g.row, g.row)
			}
		}
		g.left -= len(g.pending)
		if g.row%100_000 == 0 { // ReadMemStats stops the world: sample rarely
			runtime.ReadMemStats(&g.ms)
			g.peak = max(g.peak, g.ms.HeapInuse)
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	if len(g.pending) == 0 {
		g.pending = g.pending[:0]
	}
	return n, nil
}

func (g *genCSV) Close() error { return nil }

// BenchmarkEmit100MB syncs a ~100 MB CSV and JSON Lines body and reports
// the peak heap in use while it streams: it must stay flat, far below the
// body's size.
func BenchmarkEmit100MB(b *testing.B) {
	type row struct {
		ID      int64   `json:"Id"`
		Name    string  `json:"Name"`
		Amount  float64 `json:"Amount"`
		Updated string  `json:"Updated"`
	}
	for _, jsonl := range []bool{false, true} {
		name := "csv"
		if jsonl {
			name = "jsonl"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				gen := &genCSV{left: 100 << 20, jsonl: jsonl}
				doer := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: 200, Header: http.Header{}, Body: gen, Request: req}, nil
				})
				run := func(c *HttpContext) error {
					if jsonl {
						return c.EmitJSONLines(requests.New("http://x/export.jsonl"))
					}
					return c.EmitCSV(requests.New("http://x/export.csv"))
				}
				src := NewSource("sf", eventsConfig{}, WithStreams(NewStream("accounts", row{}, run, PrimaryKey("Id"))))
				cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"http://x"}`))
				runtime.GC()
				err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(io.Discard),
					HTTP: HTTPOptions{Doer: doer}})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(gen.peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(gen.row), "rows")
				b.SetBytes(100 << 20)
			}
		})
	}
}
