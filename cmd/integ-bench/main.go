// Command integ-bench is integ's throughput and memory benchmark, run by
// make bench. It serves a million Pokémon from an in-process pokeserver and
// measures tap-pokeapi as a Singer tap and as an Airbyte source against a
// raw floor client, each in its own child process:
//
//	go run ./cmd/integ-bench [--records 1000000] [--runs 5] [--page-sizes 100,1000] [--json] [--quick]
//
// It prints the command line, the machine, a table of median records/s,
// MB/s, CPU seconds, peak RSS and the ratio to the floor, the latency of
// spec and --about, the peak RSS at a tenth of the records, and whether the
// targets of issue 5 are met. Progress goes to stderr. It exits 1 when a
// run fails or emits the wrong number of records; missed targets are
// reported, not failures.
//
// "integ-bench floor --url URL" is the floor client itself, which the
// harness runs as its child; this command links none of a tap's code, so
// that the floor starts as lightly as a raw client. To profile a tap, see
// cmd/integ-profile.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/integ/integ/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command with explicit arguments (argv[0] included) and
// streams, returning the exit code.
func run(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	args := argv[1:]
	if len(args) > 0 && args[0] == "floor" {
		return bench.FloorMain(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("integ-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	records := fs.Int("records", 1_000_000, "records served and read per run")
	runs := fs.Int("runs", 5, "measured runs per mode and page size (the median counts: single runs on a shared machine swing by 5%)")
	pages := fs.String("page-sizes", "100,1000", "comma-separated page sizes")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quick := fs.Bool("quick", false, "smoke check: 100,000 records, 1 run (explicit --records and --runs win)")
	specRuns := fs.Int("spec-runs", 20, "runs of spec and --about to take the median of")
	tap := fs.String("tap", "", "a prebuilt tap binary (default: build --package)")
	pkg := fs.String("package", "./cmd/tap-pokeapi", "the tap's Go package, built with CGO_ENABLED=0 -trimpath")
	timeout := fs.Duration("timeout", 10*time.Minute, "limit on each child process")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "integ-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["records"] {
			*records = 100_000
		}
		if !set["runs"] {
			*runs = 1
		}
	}
	sizes, err := parseSizes(*pages)
	if err != nil {
		fmt.Fprintln(stderr, "integ-bench: --page-sizes:", err)
		return 2
	}
	rep, err := bench.Run(ctx, bench.Config{
		Records:    *records,
		Runs:       *runs,
		PageSizes:  sizes,
		SpecRuns:   *specRuns,
		Tap:        *tap,
		TapPackage: *pkg,
		Timeout:    *timeout,
		Progress:   stderr,
		Command:    commandLine(argv),
	})
	if err != nil {
		fmt.Fprintln(stderr, "integ-bench:", err)
		return 1
	}
	if *asJSON {
		err = bench.WriteJSON(stdout, rep)
	} else {
		err = bench.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "integ-bench:", err)
		return 1
	}
	return 0
}

// parseSizes parses "100,1000".
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a page size (a positive integer)", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// commandLine quotes argv for a shell, naming the command by its base name
// (go run builds it in a temporary directory).
func commandLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if i == 0 {
			a = filepath.Base(a)
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:+@") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
