// Package bench is integ's throughput and memory benchmark (make bench, the
// integ-bench command). It serves a large PokeAPI-shaped list from an
// in-process pokeserver and runs, as child processes so that their CPU time
// and peak RSS are theirs alone, the tap-pokeapi binary in Singer and
// Airbyte mode and a raw "floor" client (the least work any client of the
// API can do: each page's raw "results" bytes copied out, see Floor). Two
// protocol floors, the raw client checking each page as a tap does and
// writing each record in the Singer or the Airbyte envelope, and nothing
// else (FloorLines), show how much of a tap's distance to the floor is the
// protocol's bytes and the check, and how much its own machinery. Runs are
// interleaved, every run's output is counted and must hold exactly the
// expected number of records, and the medians are compared with the floor.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/integ/integ/internal/conc"
)

// The measured modes.
const (
	ModeFloor = "floor" // the raw client, Floor
	// The raw client checking each page and writing each protocol's
	// RECORD lines (FloorLines): references, not targets.
	ModeFloorSinger  = "floor-singer"
	ModeFloorAirbyte = "floor-airbyte"
	ModeSinger       = "singer"  // tap-pokeapi --config --catalog
	ModeAirbyte      = "airbyte" // tap-pokeapi read --config --catalog
)

// The targets.
const (
	TargetRatio     = 0.8  // tap records/s over the floor's
	TargetRSSMiB    = 64.0 // peak RSS of a tap for the full run
	TargetSpec      = 20 * time.Millisecond
	maxRSSGrowth    = 1.25 // peak RSS at N over N/10: more counts as growing
	benchStream     = "pokemon"
	defaultPackage  = "./cmd/tap-pokeapi"
	defaultTimeout  = 10 * time.Minute
	stderrTailBytes = 4096
	pipeBytes       = 1 << 20 // the child's stdout pipe and the harness's reads
)

// Config is one benchmark's parameters. The zero value of every field but
// Records, Runs and PageSizes has a usable default.
type Config struct {
	Records   int   // records served and read per run
	Runs      int   // measured runs per mode and page size
	PageSizes []int // page sizes to measure
	SpecRuns  int   // runs of spec and --about to take the median of; 0: 20

	Tap        string   // a prebuilt tap binary; empty: build TapPackage
	TapPackage string   // the tap's package; empty: ./cmd/tap-pokeapi
	Floor      []string // the command running FloorMain; empty: this executable's "floor" subcommand
	Timeout    time.Duration
	Progress   io.Writer // a line per run; nil discards
	Command    string    // the command line, recorded in the report
}

// Measurement is one child process's run.
type Measurement struct {
	WallSeconds float64 `json:"wall_s"`
	CPUSeconds  float64 `json:"cpu_s"`         // user + system
	MaxRSSBytes int64   `json:"max_rss_bytes"` // VmHWM, polled (see rss.go)
	// RusageMaxRSSBytes is getrusage's figure, which on Linux includes
	// the harness's own peak RSS: kept for comparison only.
	RusageMaxRSSBytes int64 `json:"rusage_max_rss_bytes"`
	Bytes             int64 `json:"stdout_bytes"`
	Records           int64 `json:"records"`
}

// Row summarises the runs of one mode at one page size: medians of
// records/s, MB/s (stdout bytes, 1 MB = 1e6 bytes) and CPU seconds, and
// the highest peak RSS of any run.
type Row struct {
	Mode          string     `json:"mode"`
	PageSize      int        `json:"page_size"`
	Records       int        `json:"records"`
	RecordsPerSec float64    `json:"records_per_s"`
	MBPerSec      float64    `json:"mb_per_s"`
	CPUSeconds    float64    `json:"cpu_s"`
	PeakRSSMiB    float64    `json:"peak_rss_mib"`
	Ratio         float64    `json:"ratio_to_floor"`     // records/s over the floor's at this page size
	CPURatio      float64    `json:"cpu_ratio_to_floor"` // the floor's CPU seconds over these
	RatioRange    [2]float64 `json:"ratio_range"`        // lowest and highest of one run over the floor's run beside it
	// ProtocolRatio is a tap's records/s over its protocol floor's
	// (FloorLines): what the tap's own code costs, the protocol's bytes
	// aside. 0 for the floors.
	ProtocolRatio float64       `json:"ratio_to_protocol_floor,omitempty"`
	Runs          []Measurement `json:"runs"`
}

// Latency is the median wall time of a short command.
type Latency struct {
	Command  string  `json:"command"`
	Runs     int     `json:"runs"`
	MedianMS float64 `json:"median_ms"`
	Error    string  `json:"error,omitempty"`
}

// RSSScale compares the Singer tap's peak RSS at a tenth of the records
// with the full run's, to show memory does not grow with the record count.
type RSSScale struct {
	Mode         string  `json:"mode"`
	PageSize     int     `json:"page_size"`
	SmallRecords int     `json:"small_records"`
	SmallMiB     float64 `json:"small_peak_rss_mib"`
	Records      int     `json:"records"`
	MiB          float64 `json:"peak_rss_mib"`
}

// Check is one target of the issue and whether it was met.
type Check struct {
	Target string `json:"target"`
	Value  string `json:"value"`
	Status string `json:"status"` // PASS, FAIL or SKIP
}

// Machine describes where the benchmark ran.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	NumCPU    int    `json:"num_cpu"`
	GoVersion string `json:"go_version"`
	CPU       string `json:"cpu,omitempty"`
	// ChildGOMAXPROCS is the environment's GOMAXPROCS, which the children
	// honour; the harness itself keeps every CPU (harnessThreads).
	ChildGOMAXPROCS string `json:"child_gomaxprocs,omitempty"`
}

// Report is a benchmark's result.
type Report struct {
	Command   string     `json:"command"`
	Machine   Machine    `json:"machine"`
	Records   int        `json:"records"`
	Runs      int        `json:"runs"`
	PageSizes []int      `json:"page_sizes"`
	Rows      []Row      `json:"rows"`
	Latency   []Latency  `json:"latency"`
	RSS       []RSSScale `json:"rss_scaling"`
	Checks    []Check    `json:"checks"`
	Notes     []string   `json:"notes,omitempty"`
	// LoadAverage is /proc/loadavg before and after the runs: other
	// processes competing for the CPUs make wall-clock figures noisy,
	// while CPU seconds and RSS stay trustworthy.
	LoadAverage [2]string `json:"load_average,omitempty"`
}

// Run runs the benchmark.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Records < 1 || cfg.Runs < 1 || len(cfg.PageSizes) == 0 {
		return nil, fmt.Errorf("bench: need records >= 1, runs >= 1 and a page size (got %d, %d, %v)", cfg.Records, cfg.Runs, cfg.PageSizes)
	}
	for _, p := range cfg.PageSizes {
		if p < 1 {
			return nil, fmt.Errorf("bench: page size %d: must be at least 1", p)
		}
	}
	if cfg.SpecRuns <= 0 {
		cfg.SpecRuns = 20
	}
	defer harnessThreads()()
	if cfg.TapPackage == "" {
		cfg.TapPackage = defaultPackage
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if len(cfg.Floor) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("bench: find this executable for the floor: %w", err)
		}
		cfg.Floor = []string{exe, "floor"}
	}
	dir, err := os.MkdirTemp("", "integ-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)

	b := &bencher{cfg: cfg, dir: dir, report: &Report{
		Command:   cfg.Command,
		Machine:   machine(),
		Records:   cfg.Records,
		Runs:      cfg.Runs,
		PageSizes: cfg.PageSizes,
	}}
	b.report.LoadAverage[0] = loadAverage()
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	b.report.LoadAverage[1] = loadAverage()
	return b.report, nil
}

// bencher is one Run's state.
type bencher struct {
	cfg    Config
	dir    string
	report *Report

	tap          string
	airbyte      bool   // the tap has the Airbyte commands
	singerCat    string // catalog paths
	airbyteCat   string
	big, small   *server
	configs      map[*server]map[int]string // config path per server and page size
	measurements map[string][]Measurement   // by rowKey
}

func rowKey(mode string, pageSize, records int) string {
	return fmt.Sprintf("%s/%d/%d", mode, pageSize, records)
}

func (b *bencher) run(ctx context.Context) (err error) {
	if b.tap = b.cfg.Tap; b.tap == "" {
		fmt.Fprintf(b.cfg.Progress, "building %s\n", b.cfg.TapPackage)
		if b.tap, err = buildTap(ctx, b.cfg.TapPackage, b.dir); err != nil {
			return err
		}
	}
	if b.big, err = startServer(b.cfg.Records); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.big.Close()) }()
	if b.small, err = startServer(max(b.cfg.Records/10, 1)); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.small.Close()) }()
	if err := b.setup(ctx); err != nil {
		return err
	}
	b.latency(ctx)
	modes := []string{ModeFloor, ModeFloorSinger, ModeSinger}
	if b.airbyte {
		modes = append(modes, ModeFloorAirbyte, ModeAirbyte)
	}

	// One unrecorded pass against the small server warms the page cache,
	// the server's buffer pool and the connections' code paths.
	for _, mode := range modes {
		if _, err := b.measure(ctx, mode, b.small, b.cfg.PageSizes[0]); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	b.measurements = map[string][]Measurement{}
	for r := range b.cfg.Runs {
		for _, ps := range b.cfg.PageSizes {
			for _, mode := range modes {
				m, err := b.measure(ctx, mode, b.big, ps)
				if err != nil {
					return err
				}
				b.progress(fmt.Sprintf("run %d/%d", r+1, b.cfg.Runs), mode, ps, b.cfg.Records, m)
				k := rowKey(mode, ps, b.cfg.Records)
				b.measurements[k] = append(b.measurements[k], m)
			}
		}
	}
	small := max(b.cfg.Records/10, 1)
	for r := range b.cfg.Runs {
		for _, ps := range b.cfg.PageSizes {
			m, err := b.measure(ctx, ModeSinger, b.small, ps)
			if err != nil {
				return err
			}
			b.progress(fmt.Sprintf("rss %d/%d", r+1, b.cfg.Runs), ModeSinger, ps, small, m)
			k := rowKey(ModeSinger, ps, small)
			b.measurements[k] = append(b.measurements[k], m)
		}
	}
	b.summarise(modes, small)
	return nil
}

func (b *bencher) progress(what, mode string, pageSize, records int, m Measurement) {
	fmt.Fprintf(b.cfg.Progress, "%-9s %-7s page %-5d %9d records  %7.3f s  cpu %6.3f s  rss %6.1f MiB\n",
		what, mode, pageSize, records, m.WallSeconds, m.CPUSeconds, mib(m.MaxRSSBytes))
}

// setup writes the configs and catalogs and finds out whether the tap has
// the Airbyte commands.
func (b *bencher) setup(ctx context.Context) error {
	b.configs = map[*server]map[int]string{}
	for i, s := range []*server{b.big, b.small} {
		b.configs[s] = map[int]string{}
		for _, ps := range b.cfg.PageSizes {
			p := filepath.Join(b.dir, fmt.Sprintf("config-%d-%d.json", i, ps))
			if err := os.WriteFile(p, tapConfig(s.BaseURL, ps), 0o600); err != nil {
				return fmt.Errorf("bench: write config: %w", err)
			}
			b.configs[s][ps] = p
		}
	}
	singerCat, airbyteCat, err := catalogs(ctx, b.tap, b.configs[b.big][b.cfg.PageSizes[0]], benchStream)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b.singerCat = filepath.Join(b.dir, "catalog.json")
	b.airbyteCat = filepath.Join(b.dir, "configured_catalog.json")
	if err := os.WriteFile(b.singerCat, singerCat, 0o600); err != nil {
		return fmt.Errorf("bench: write catalog: %w", err)
	}
	if err := os.WriteFile(b.airbyteCat, airbyteCat, 0o600); err != nil {
		return fmt.Errorf("bench: write catalog: %w", err)
	}
	if _, err := b.exec(ctx, b.tap, []string{"spec"}, nil); err != nil {
		b.report.Notes = append(b.report.Notes, fmt.Sprintf(
			"Airbyte rows skipped: `tap-pokeapi spec` failed (%v); they run once the Airbyte commands exist.", oneLine(err)))
	} else {
		b.airbyte = true
	}
	return nil
}

// latency times spec and --about, interleaved.
func (b *bencher) latency(ctx context.Context) {
	cmds := [][]string{{"--about"}}
	if b.airbyte {
		cmds = append([][]string{{"spec"}}, cmds...)
	}
	walls := make([][]float64, len(cmds))
	errs := make([]error, len(cmds))
	for range b.cfg.SpecRuns {
		for i, args := range cmds {
			if errs[i] != nil {
				continue
			}
			m, err := b.exec(ctx, b.tap, args, nil)
			if err != nil {
				errs[i] = err
				continue
			}
			walls[i] = append(walls[i], m.WallSeconds)
		}
	}
	if !b.airbyte {
		b.report.Latency = append(b.report.Latency, Latency{Command: "tap-pokeapi spec", Error: "the tap has no spec command yet"})
	}
	for i, args := range cmds {
		l := Latency{Command: "tap-pokeapi " + strings.Join(args, " "), Runs: len(walls[i]), MedianMS: Median(walls[i]) * 1000}
		if errs[i] != nil {
			l.Error = oneLine(errs[i])
		}
		b.report.Latency = append(b.report.Latency, l)
	}
}

// measure runs mode against s once, verifying the record count.
func (b *bencher) measure(ctx context.Context, mode string, s *server, pageSize int) (Measurement, error) {
	var (
		name   string
		args   []string
		prefix = []byte(RecordPrefix)
		token  []byte
	)
	switch mode {
	case ModeFloor:
		name, args, prefix = b.cfg.Floor[0], append(slices.Clone(b.cfg.Floor[1:]), floorArgs(s.firstPage(pageSize))...), nil
		token = []byte(FloorRecordToken)
	case ModeFloorSinger, ModeFloorAirbyte:
		name, args = b.cfg.Floor[0], append(slices.Clone(b.cfg.Floor[1:]), floorArgs(s.firstPage(pageSize))...)
		args = append(args, "--lines", protocolOf(mode), "--stream", benchStream)
	case ModeSinger:
		name, args = b.tap, []string{"--config", b.configs[s][pageSize], "--catalog", b.singerCat}
	case ModeAirbyte:
		name, args = b.tap, []string{"read", "--config", b.configs[s][pageSize], "--catalog", b.airbyteCat}
	default:
		return Measurement{}, fmt.Errorf("bench: unknown mode %q", mode)
	}
	want := s.count()
	counter := &LineCounter{Prefix: prefix, Token: token}
	m, err := b.exec(ctx, name, args, counter)
	if err == nil {
		err = counter.Verify(want)
	}
	if err != nil {
		return m, fmt.Errorf("bench: %s, page size %d, %d records: %w", mode, pageSize, want, err)
	}
	return m, nil
}

// exec runs one child process, sending its stdout to out (nil discards)
// and measuring it.
func (b *bencher) exec(ctx context.Context, name string, args []string, out *LineCounter) (Measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if out == nil {
		out = &LineCounter{}
	}
	stderr := &tailBuffer{max: stderrTailBytes}
	cmd := exec.CommandContext(ctx, name, args...)
	// The harness reads the child's stdout like a fast target: through a
	// 1 MiB pipe (every mode gets the same) in 1 MiB blocking reads, so
	// that its own reading, on the same CPUs, costs the child as little as
	// it can (see blockingPipe).
	pr, pw, err := blockingPipe()
	if err != nil {
		return Measurement{}, fmt.Errorf("bench: stdout pipe: %w", err)
	}
	defer pr.Close()
	setPipeSize(pw, pipeBytes)
	cmd.Stdout, cmd.Stderr = pw, stderr
	start := time.Now()
	err = cmd.Start()
	pw.Close() // the child has its own copy: EOF comes when it exits
	if err != nil {
		return Measurement{}, fmt.Errorf("start %s: %w", filepath.Base(name), err)
	}
	copied := conc.Go(func() (struct{}, error) {
		buf := make([]byte, pipeBytes)
		for {
			n, err := pr.Read(buf)
			out.Write(buf[:n])
			if err == io.EOF {
				return struct{}{}, nil
			}
			if err != nil {
				return struct{}{}, fmt.Errorf("read stdout: %w", err)
			}
		}
	})
	watchCtx, stopWatch := context.WithCancel(ctx)
	hwm := watchHWM(watchCtx, cmd.Process.Pid)
	err = cmd.Wait()
	_, cerr := copied.Await()
	wall := time.Since(start)
	stopWatch()
	peak, _ := hwm.Await() // never fails; a panic would only lose the figure
	err = errors.Join(err, cerr)
	var m Measurement
	if ps := cmd.ProcessState; ps != nil {
		m = Measurement{
			WallSeconds:       wall.Seconds(),
			CPUSeconds:        (ps.UserTime() + ps.SystemTime()).Seconds(),
			MaxRSSBytes:       peak,
			RusageMaxRSSBytes: rusageMaxRSS(ps),
		}
		if peak == 0 {
			m.MaxRSSBytes = m.RusageMaxRSSBytes
		}
	}
	m.Bytes, m.Records = out.Bytes, out.Lines
	if err != nil {
		return m, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return m, nil
}

// summarise fills the rows, RSS scaling and checks from the measurements.
func (b *bencher) summarise(modes []string, small int) {
	rep := b.report
	for _, ps := range b.cfg.PageSizes {
		var floor Row
		byMode := map[string]Row{}
		for _, mode := range modes {
			row := summary(mode, ps, b.cfg.Records, b.measurements[rowKey(mode, ps, b.cfg.Records)])
			if mode == ModeFloor {
				floor = row
			}
			if pf, ok := byMode[ModeFloor+"-"+mode]; ok && pf.RecordsPerSec > 0 {
				row.ProtocolRatio = row.RecordsPerSec / pf.RecordsPerSec
			}
			byMode[mode] = row
			if floor.RecordsPerSec > 0 {
				row.Ratio = row.RecordsPerSec / floor.RecordsPerSec
			}
			if mode != ModeFloor {
				row.RatioRange = ratioRange(row.Runs, floor.Runs)
			}
			if row.CPUSeconds > 0 {
				row.CPURatio = floor.CPUSeconds / row.CPUSeconds
			}
			rep.Rows = append(rep.Rows, row)
		}
		sm := summary(ModeSinger, ps, small, b.measurements[rowKey(ModeSinger, ps, small)])
		full := summary(ModeSinger, ps, b.cfg.Records, b.measurements[rowKey(ModeSinger, ps, b.cfg.Records)])
		rep.RSS = append(rep.RSS, RSSScale{
			Mode: ModeSinger, PageSize: ps,
			SmallRecords: small, SmallMiB: sm.PeakRSSMiB,
			Records: b.cfg.Records, MiB: full.PeakRSSMiB,
		})
	}
	rep.Checks = checks(rep)
}

// ratioRange is the lowest and highest ratio of a run's rate to the floor's
// run of the same round, over the rounds both completed; zeros when there
// is none. Both read the same number of records, so the ratio of rates is
// the floor's wall time over the run's.
func ratioRange(runs, floor []Measurement) [2]float64 {
	var r [2]float64
	for i := range min(len(runs), len(floor)) {
		if runs[i].WallSeconds <= 0 || floor[i].WallSeconds <= 0 {
			continue
		}
		x := floor[i].WallSeconds / runs[i].WallSeconds
		if r[0] == 0 || x < r[0] {
			r[0] = x
		}
		r[1] = max(r[1], x)
	}
	return r
}

// summary reduces runs to a Row (without Ratio).
func summary(mode string, pageSize, records int, runs []Measurement) Row {
	var rps, mbps, cpu []float64
	var peak int64
	for _, m := range runs {
		if m.WallSeconds > 0 {
			rps = append(rps, float64(records)/m.WallSeconds)
			mbps = append(mbps, float64(m.Bytes)/m.WallSeconds/1e6)
		}
		cpu = append(cpu, m.CPUSeconds)
		peak = max(peak, m.MaxRSSBytes)
	}
	return Row{
		Mode: mode, PageSize: pageSize, Records: records,
		RecordsPerSec: Median(rps), MBPerSec: Median(mbps), CPUSeconds: Median(cpu),
		PeakRSSMiB: mib(peak), Runs: runs,
	}
}

// checks evaluates the targets.
func checks(rep *Report) []Check {
	var cs []Check
	status := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	for _, r := range rep.Rows {
		if !isTap(r.Mode) {
			continue
		}
		cs = append(cs, Check{
			Target: fmt.Sprintf("%s page %d: records/s >= %.1f x floor", r.Mode, r.PageSize, TargetRatio),
			Value:  fmt.Sprintf("%.2f", r.Ratio),
			Status: status(r.Ratio >= TargetRatio),
		})
	}
	for _, r := range rep.Rows {
		if !isTap(r.Mode) {
			continue
		}
		cs = append(cs, Check{
			Target: fmt.Sprintf("%s page %d: peak RSS < %.0f MiB at %d records", r.Mode, r.PageSize, TargetRSSMiB, r.Records),
			Value:  fmt.Sprintf("%.1f MiB", r.PeakRSSMiB),
			Status: status(r.PeakRSSMiB > 0 && r.PeakRSSMiB < TargetRSSMiB),
		})
	}
	for _, s := range rep.RSS {
		cs = append(cs, Check{
			Target: fmt.Sprintf("%s page %d: peak RSS does not grow from %d to %d records (<= %.2fx)", s.Mode, s.PageSize, s.SmallRecords, s.Records, maxRSSGrowth),
			Value:  fmt.Sprintf("%.1f -> %.1f MiB", s.SmallMiB, s.MiB),
			Status: status(s.MiB > 0 && s.MiB <= s.SmallMiB*maxRSSGrowth),
		})
	}
	for _, l := range rep.Latency {
		if !strings.HasSuffix(l.Command, " spec") {
			continue
		}
		c := Check{Target: fmt.Sprintf("spec returns in < %v (median)", TargetSpec)}
		if l.Error != "" || l.Runs == 0 {
			c.Value, c.Status = "unavailable", "SKIP"
		} else {
			c.Value = fmt.Sprintf("%.1f ms", l.MedianMS)
			c.Status = status(l.MedianMS < float64(TargetSpec.Milliseconds()))
		}
		cs = append(cs, c)
	}
	return cs
}

// protocolOf is the tap mode a protocol floor mode writes the lines of.
func protocolOf(floorMode string) string { return strings.TrimPrefix(floorMode, ModeFloor+"-") }

// isTap reports whether mode runs the tap, which the targets are for (the
// floors are references).
func isTap(mode string) bool { return mode == ModeSinger || mode == ModeAirbyte }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// oneLine shortens an error to its first line.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// loadAverage is the first three fields of /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// harnessThreads gives the harness every CPU for its own goroutines, the
// server and the reader of a child's stdout, and returns what restores
// the setting before. A GOMAXPROCS in the environment is for the taps and
// floors, which honour it. Had the harness honoured it too, its server
// and reader on one thread would slow the floor (from about 7 to 4.2
// million records/s at page size 1000 with GOMAXPROCS=1) and make every
// ratio look better than it is (the taps rose to 0.86 to 0.90): a
// measurement of the harness, not of the tap.
func harnessThreads() (restore func()) {
	prev := runtime.GOMAXPROCS(0)
	if n := runtime.NumCPU(); prev < n {
		runtime.GOMAXPROCS(n)
	}
	return func() { runtime.GOMAXPROCS(prev) }
}

// machine describes this machine.
func machine() Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		ChildGOMAXPROCS: os.Getenv("GOMAXPROCS")}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(info)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
