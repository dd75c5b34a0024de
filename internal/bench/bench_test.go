package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/internal/pokeserver"
	"github.com/tidwall/gjson"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9, 7}, 5},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.in...)
		if got := Median(in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Fatalf("Median modified its input: %v", in)
			}
		}
	}
}

func TestThousands(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", 100000: "100,000", -12345: "-12,345",
	} {
		if got := thousands(x); got != want {
			t.Errorf("thousands(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	rows := []Row{
		{Mode: ModeFloor, PageSize: 100, Records: 1000000, RecordsPerSec: 1234567.8, MBPerSec: 96.4, CPUSeconds: 1.234, PeakRSSMiB: 13.75, Runs: make([]Measurement, 3)},
		{Mode: ModeFloorSinger, PageSize: 100, Records: 1000000, RecordsPerSec: 1111111, MBPerSec: 190, CPUSeconds: 1.5, PeakRSSMiB: 13.9, Ratio: 0.9, CPURatio: 0.823, RatioRange: [2]float64{0.85, 0.95}, Runs: make([]Measurement, 3)},
		{Mode: ModeSinger, PageSize: 100, Records: 1000000, RecordsPerSec: 987654, MBPerSec: 160, CPUSeconds: 2, PeakRSSMiB: 16, Ratio: 0.8, CPURatio: 0.617, RatioRange: [2]float64{0.764, 0.838}, ProtocolRatio: 0.889, Runs: make([]Measurement, 3)},
		{Mode: ModeAirbyte, PageSize: 100, Records: 1000000, RecordsPerSec: 987654, MBPerSec: 160, CPUSeconds: 2, PeakRSSMiB: 16, Ratio: 0.8, CPURatio: 0.617, Runs: make([]Measurement, 3)},
	}
	var b strings.Builder
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want a header and 4 rows, got:\n%s", b.String())
	}
	wantFields := [][]string{
		{"mode", "page", "records", "runs", "records/s", "MB/s", "CPU", "s", "peak", "RSS", "MiB", "tap/floor", "run", "by", "run", "CPU", "floor/tap", "tap/protocol", "floor"},
		{"floor", "100", "1000000", "3", "1,234,568", "96.4", "1.23", "13.8", "-", "-", "-", "-"},
		{"floor-singer", "100", "1000000", "3", "1,111,111", "190.0", "1.50", "13.9", "0.90", "0.85-0.95", "0.82", "-"},
		{"singer", "100", "1000000", "3", "987,654", "160.0", "2.00", "16.0", "0.80", "0.76-0.84", "0.62", "0.89"},
		{"airbyte", "100", "1000000", "3", "987,654", "160.0", "2.00", "16.0", "0.80", "-", "0.62", "-"}, // no rounds to compare, no protocol floor
	}
	for i, want := range wantFields {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("line %d = %q, want fields %q", i, lines[i], want)
		}
	}
	// Right-aligned columns end at the same offset.
	for i := 1; i < len(lines); i++ {
		if len(lines[i]) != len(lines[0]) {
			t.Errorf("columns not aligned:\n%s", b.String())
			break
		}
	}
}

func TestRatioRange(t *testing.T) {
	w := func(secs ...float64) []Measurement {
		m := make([]Measurement, len(secs))
		for i, s := range secs {
			m[i].WallSeconds = s
		}
		return m
	}
	tests := []struct {
		name        string
		runs, floor []Measurement
		want        [2]float64
	}{
		{"round by round", w(2, 1.25, 2.5), w(1.6, 1, 1.5), [2]float64{0.6, 0.8}},
		{"not the medians' ratio", w(1, 4), w(2, 1), [2]float64{0.25, 2}},
		{"a failed run is left out", w(2, 0, 4), w(1, 1, 3), [2]float64{0.5, 0.75}},
		{"rounds only one finished", w(2, 2), w(1), [2]float64{0.5, 0.5}},
		{"none", nil, w(1), [2]float64{}},
	}
	for _, tt := range tests {
		if got := ratioRange(tt.runs, tt.floor); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLineCounter(t *testing.T) {
	out := `{"type":"SCHEMA","stream":"pokemon"}` + "\n" +
		`{"type":"RECORD","stream":"pokemon","record":{}}` + "\n" +
		`{"type":"RECORDS"}` + "\n" + // the prefix includes the closing quote
		`{"type":"RECOR"}` + "\n" +
		`{"type":"STATE"}` + "\n" +
		`{"type":"RECORD","record":{"stream":"pokemon"}}` + "\n"
	// Every way of splitting the output into two writes counts the same.
	for cut := range len(out) + 1 {
		c := &LineCounter{Prefix: []byte(RecordPrefix)}
		_, _ = c.Write([]byte(out[:cut]))
		_, _ = c.Write([]byte(out[cut:]))
		if c.Lines != 2 || c.Bytes != int64(len(out)) {
			t.Fatalf("cut at %d: %d lines, %d bytes", cut, c.Lines, c.Bytes)
		}
		if err := c.Verify(2); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	// Byte by byte.
	c := &LineCounter{Prefix: []byte(RecordPrefix)}
	for i := range len(out) {
		_, _ = c.Write([]byte{out[i]})
	}
	if c.Lines != 2 {
		t.Errorf("byte by byte: %d lines", c.Lines)
	}
	if err := c.Verify(3); err == nil {
		t.Error("Verify(3) with 2 records passed")
	}
	_, _ = c.Write([]byte(`{"type":"RECORD"`))
	if err := c.Verify(2); err == nil || !strings.Contains(err.Error(), "middle of a line") {
		t.Errorf("an unterminated line: %v", err)
	}

	all := &LineCounter{}
	_, _ = all.Write([]byte("a\n\nb\n"))
	if all.Lines != 3 {
		t.Errorf("no prefix: %d lines, want 3", all.Lines)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 5}
	_, _ = tb.Write([]byte("abc"))
	_, _ = tb.Write([]byte("defgh"))
	if got := tb.String(); got != "defgh" {
		t.Errorf("tail = %q", got)
	}
}

func TestFloor(t *testing.T) {
	for _, c := range []struct{ count, page int }{{0, 10}, {1, 10}, {250, 100}, {1000, 1000}, {1001, 1000}, {57, 7}} {
		srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(c.count), pokeserver.WithMaxLimit(0)))
		var out bytes.Buffer
		url := fmt.Sprintf("%s/api/v2/pokemon?limit=%d&offset=0", srv.URL, c.page)
		n, err := Floor(context.Background(), srv.Client(), url, &out)
		srv.Close()
		if err != nil {
			t.Fatalf("count %d page %d: %v", c.count, c.page, err)
		}
		if want := max(1, (c.count+c.page-1)/c.page); n != int64(want) {
			t.Errorf("count %d page %d: Floor returned %d pages, want %d", c.count, c.page, n, want)
		}
		counter := &LineCounter{Token: []byte(FloorRecordToken)}
		_, _ = counter.Write(out.Bytes())
		if err := counter.Verify(c.count); err != nil {
			t.Errorf("count %d page %d: %v", c.count, c.page, err)
		}
		// Each line is a page's results array, byte for byte.
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		id, lines := 0, 0
		for sc.Scan() {
			lines++
			page := gjson.Parse(sc.Text())
			if !gjson.Valid(sc.Text()) || !page.IsArray() {
				t.Fatalf("line %d is not a JSON array: %q", lines, sc.Text())
			}
			for _, rec := range page.Array() {
				id++
				if want := fmt.Sprintf("%s/api/v2/pokemon/%d/", srv.URL, id); rec.Get("url").String() != want {
					t.Fatalf("record %d url = %q, want %q", id, rec.Get("url").String(), want)
				}
			}
		}
		if id != c.count || int64(lines) != n {
			t.Errorf("count %d page %d: %d records in %d lines", c.count, c.page, id, lines)
		}
	}
}

// TestLineCounterToken: the floor's records are counted by a token, which
// may be split across writes anywhere.
func TestLineCounterToken(t *testing.T) {
	out := `[{"name":"a","url":"x"},{"name":"b"}]` + "\n" + `[{"name":"c"}]` + "\n" + `["{\"name\":"]` + "\n"
	for cut := range len(out) + 1 {
		for cut2 := cut; cut2 <= len(out); cut2 += 3 {
			c := &LineCounter{Token: []byte(FloorRecordToken)}
			_, _ = c.Write([]byte(out[:cut]))
			_, _ = c.Write([]byte(out[cut:cut2]))
			_, _ = c.Write([]byte(out[cut2:]))
			if err := c.Verify(3); err != nil {
				t.Fatalf("cuts %d, %d: %v", cut, cut2, err)
			}
		}
	}
	c := &LineCounter{Token: []byte(FloorRecordToken)}
	for i := range len(out) {
		_, _ = c.Write([]byte{out[i]})
	}
	if err := c.Verify(3); err != nil {
		t.Errorf("byte by byte: %v", err)
	}
}

// TestFloorLines: the protocol floors write each record in the tap's
// envelope, byte for byte, and nothing else.
func TestFloorLines(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(23), pokeserver.WithMaxLimit(0)))
	defer srv.Close()
	url := srv.URL + "/api/v2/pokemon?limit=10&offset=0"
	var raw bytes.Buffer
	if _, err := Floor(context.Background(), srv.Client(), url, &raw); err != nil {
		t.Fatal(err)
	}
	var want []string // the records as the API sent them
	for line := range strings.Lines(raw.String()) {
		for _, rec := range gjson.Parse(line).Array() {
			want = append(want, rec.Raw)
		}
	}
	for _, c := range []struct {
		protocol, prefix, stamp string
		valid                   func(gjson.Result) bool
	}{
		{ModeSinger, `{"type":"RECORD","stream":"pokemon","record":`, "time_extracted", func(l gjson.Result) bool {
			_, err := time.Parse(time.RFC3339Nano, l.Get("time_extracted").String())
			return err == nil && len(l.Get("time_extracted").String()) == len(singerTimeLayout)-5
		}},
		{ModeAirbyte, `{"type":"RECORD","record":{"stream":"pokemon","data":`, "record.emitted_at", func(l gjson.Result) bool {
			return l.Get("record.emitted_at").Int() > 1e12
		}},
	} {
		var out bytes.Buffer
		pages, err := FloorLines(context.Background(), srv.Client(), url, c.protocol, "pokemon", &out)
		if err != nil || pages != 3 {
			t.Fatalf("%s: %d pages, %v", c.protocol, pages, err)
		}
		counter := &LineCounter{Prefix: []byte(RecordPrefix)}
		_, _ = counter.Write(out.Bytes())
		if err := counter.Verify(len(want)); err != nil {
			t.Errorf("%s: %v", c.protocol, err)
		}
		i := 0
		for line := range strings.Lines(out.String()) {
			l := gjson.Parse(line)
			rec := l.Get("record")
			if c.protocol == ModeAirbyte {
				rec = l.Get("record.data")
			}
			if !gjson.Valid(line) || !strings.HasPrefix(line, c.prefix) || i >= len(want) || rec.Raw != want[i] || !c.valid(l) {
				t.Fatalf("%s: line %d = %q, want record %d in the tap's envelope", c.protocol, i, line, i)
			}
			i++
		}
	}
	if _, err := FloorLines(context.Background(), srv.Client(), url, "csv", "pokemon", io.Discard); err == nil || !strings.Contains(err.Error(), `"csv"`) {
		t.Errorf("an unknown protocol: %v", err)
	}
}

func TestFloorErrors(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(10)))
	defer srv.Close()
	floors := map[string]func(url string) error{
		"raw": func(url string) error {
			_, err := Floor(context.Background(), srv.Client(), url, io.Discard)
			return err
		},
		"singer lines": func(url string) error {
			_, err := FloorLines(context.Background(), srv.Client(), url, ModeSinger, "pokemon", io.Discard)
			return err
		},
	}
	for name, run := range floors {
		if err := run(srv.URL + "/api/v2/nothing"); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("%s floor, a 404: %v", name, err)
		}
		if err := run(srv.URL + "/api/v2/pokemon/1/"); err == nil || !strings.Contains(err.Error(), "no results array") {
			t.Errorf("%s floor, a detail page: %v", name, err)
		}
	}
}

func TestChecks(t *testing.T) {
	rep := &Report{
		Rows: []Row{
			{Mode: ModeFloor, PageSize: 100, Records: 1000},
			{Mode: ModeFloorSinger, PageSize: 100, Records: 1000, Ratio: 0.5, PeakRSSMiB: 100}, // a reference: no target
			{Mode: ModeSinger, PageSize: 100, Records: 1000, Ratio: 0.79, PeakRSSMiB: 20},
			{Mode: ModeAirbyte, PageSize: 100, Records: 1000, Ratio: 0.8, PeakRSSMiB: 64},
		},
		RSS:     []RSSScale{{Mode: ModeSinger, PageSize: 100, SmallRecords: 100, SmallMiB: 10, Records: 1000, MiB: 13}},
		Latency: []Latency{{Command: "tap-pokeapi spec", Error: "no spec"}, {Command: "tap-pokeapi --about", Runs: 3, MedianMS: 50}},
	}
	var got []string
	for _, c := range checks(rep) {
		got = append(got, c.Status)
	}
	if want := "FAIL PASS PASS FAIL FAIL SKIP"; strings.Join(got, " ") != want {
		t.Errorf("statuses %v, want %s", got, want)
	}
}

func TestParseHWM(t *testing.T) {
	status := "Name:\ttap\nVmPeak:\t  800000 kB\nVmHWM:\t   16384 kB\nVmRSS:\t   1000 kB\n"
	if v, ok := parseHWM([]byte(status)); !ok || v != 16384*1024 {
		t.Errorf("parseHWM = %d, %v", v, ok)
	}
	for _, bad := range []string{"", "Name:\tx\n", "Name:\tx\nVmHWM:\t12 MB\n", "Name:\tx\nVmHWM:\tx kB\n"} {
		if _, ok := parseHWM([]byte(bad)); ok {
			t.Errorf("parseHWM(%q) succeeded", bad)
		}
	}
}

// TestHarnessThreads: the harness takes every CPU, whatever GOMAXPROCS the
// environment sets for the children, and gives the setting back.
func TestHarnessThreads(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to take")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	restore := harnessThreads()
	if got := runtime.GOMAXPROCS(0); got != runtime.NumCPU() {
		t.Errorf("the harness runs on %d threads, want all %d CPUs", got, runtime.NumCPU())
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("after the run GOMAXPROCS is %d, want the 1 it was", got)
	}
}

// TestWriteTextChildGOMAXPROCS: a report says when the children ran under
// a GOMAXPROCS of the environment's, and says nothing otherwise.
func TestWriteTextChildGOMAXPROCS(t *testing.T) {
	for _, env := range []string{"", "1"} {
		rep := &Report{Command: "integ-bench", Machine: Machine{GOOS: "linux", GOARCH: "amd64", NumCPU: 2, ChildGOMAXPROCS: env}, Records: 10, Runs: 1}
		var b strings.Builder
		if err := WriteText(&b, rep); err != nil {
			t.Fatal(err)
		}
		const line = "GOMAXPROCS=1 for the taps and floors (the harness keeps all 2 CPUs)"
		if got := strings.Contains(b.String(), line); got != (env != "") {
			t.Errorf("GOMAXPROCS=%q: report has the line: %v, want %v:\n%s", env, got, env != "", b.String())
		}
	}
}
