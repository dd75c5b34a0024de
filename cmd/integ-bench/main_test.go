package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/integ/integ/internal/bench"
)

// TestMain lets the harness re-execute the test binary as its floor child:
// "integ-bench.test floor --url ..." runs the floor, not the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("100, 1000")
	if err != nil || len(got) != 2 || got[0] != 100 || got[1] != 1000 {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "100,", "x", "-5"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) succeeded", bad)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"/tmp/go-build1/b001/exe/integ-bench", "--page-sizes", "100,1000", "a b", "it's", ""})
	if want := `integ-bench --page-sizes 100,1000 'a b' 'it'\''s' ''`; got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}

func TestBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"--page-sizes", "0"}, {"--nope"}, {"extra"}} {
		if code := run(context.Background(), append([]string{"integ-bench"}, args...), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestSmoke runs the whole harness, building the tap, on 2,000 records.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tap and runs child processes")
	}
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"integ-bench", "--quick", "--records", "2000", "--page-sizes", "100,1000", "--spec-runs", "2", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errb.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the JSON report: %v\n%s", err, out.String())
	}
	if rep.Records != 2000 || rep.Runs != 1 || rep.Machine.NumCPU < 1 || !strings.Contains(rep.Command, "--quick") {
		t.Errorf("report header: %+v", rep)
	}
	modes := map[string]int{}
	for _, r := range rep.Rows {
		modes[r.Mode]++
		if len(r.Runs) != 1 || r.Runs[0].Records != 2000 || r.RecordsPerSec <= 0 || r.Runs[0].Bytes == 0 || r.CPUSeconds <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if modes[bench.ModeFloor] != 2 || modes[bench.ModeFloorSinger] != 2 || modes[bench.ModeSinger] != 2 {
		t.Errorf("rows per mode: %v", modes)
	}
	if modes[bench.ModeAirbyte] == 0 && len(rep.Notes) == 0 {
		t.Error("no Airbyte rows and no note saying why")
	}
	if modes[bench.ModeAirbyte] != modes[bench.ModeFloorAirbyte] {
		t.Errorf("Airbyte rows without their protocol floor, or the other way: %v", modes)
	}
	for _, r := range rep.Rows {
		if (r.Mode == bench.ModeSinger || r.Mode == bench.ModeAirbyte) && r.ProtocolRatio <= 0 {
			t.Errorf("%s page %d: no ratio to its protocol floor", r.Mode, r.PageSize)
		}
	}
	if len(rep.RSS) != 2 || rep.RSS[0].SmallRecords != 200 {
		t.Errorf("RSS scaling: %+v", rep.RSS)
	}
	if !strings.Contains(errb.String(), "run 1/1") {
		t.Errorf("no progress on stderr:\n%s", errb.String())
	}

	out.Reset()
	if err := bench.WriteText(&out, &rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"command: integ-bench --quick", "machine: ", "tap/floor", "targets:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
}
