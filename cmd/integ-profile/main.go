// Command integ-profile runs tap-pokeapi in this process with the given
// arguments, discarding (and counting) its stdout, under a CPU profile, to
// see where a tap's time goes without editing it:
//
//	go run ./cmd/integ-profile --cpuprofile cpu.out -- --config cfg.json --catalog cat.json
//	go tool pprof -top cpu.out
//
// --trace FILE writes an execution trace as well, to see when each request
// goes out and what the writer waits for (go tool trace FILE);
// --memprofile FILE an allocation profile at the end.
//
// It is its own command, not a subcommand of integ-bench, so that
// integ-bench, whose "floor" subcommand is the raw client the taps are
// measured against, links none of a tap's code: the floor would otherwise
// pay the JSON Schema library's package initialisation (about 4 ms) at
// every start, work no raw client does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := profile(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// profile is the command with explicit arguments and streams, returning
// the exit code.
func profile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("integ-profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpu := fs.String("cpuprofile", "cpu.out", "write the CPU profile to this file")
	mem := fs.String("memprofile", "", "write an allocation profile to this file at the end")
	tr := fs.String("trace", "", "write an execution trace to this file (go tool trace)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := runProfile(ctx, *cpu, *mem, *tr, fs.Args(), stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "integ-profile:", err)
		return 1
	}
	return 0
}

func runProfile(ctx context.Context, cpuPath, memPath, tracePath string, tapArgs []string, stdout, stderr io.Writer) (err error) {
	f, err := os.Create(cpuPath)
	if err != nil {
		return fmt.Errorf("create CPU profile: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close CPU profile: %w", cerr)
		}
	}()
	if err := pprof.StartCPUProfile(f); err != nil {
		return fmt.Errorf("start CPU profile: %w", err)
	}
	if tracePath != "" {
		t, err := os.Create(tracePath)
		if err != nil {
			return fmt.Errorf("create trace: %w", err)
		}
		defer t.Close()
		if err := trace.Start(t); err != nil {
			return fmt.Errorf("start trace: %w", err)
		}
		defer trace.Stop()
	}
	counter := &bench.LineCounter{Prefix: []byte(bench.RecordPrefix)}
	code := cli.Execute(ctx, pokeapi.Source(), tapArgs, counter, stderr)
	pprof.StopCPUProfile()
	fmt.Fprintf(stdout, "tap exit %d: %d records, %d bytes\n", code, counter.Lines, counter.Bytes)
	if memPath != "" {
		m, err := os.Create(memPath)
		if err != nil {
			return fmt.Errorf("create memory profile: %w", err)
		}
		defer m.Close()
		if err := pprof.Lookup("allocs").WriteTo(m, 0); err != nil {
			return fmt.Errorf("write memory profile: %w", err)
		}
	}
	if code != 0 {
		return fmt.Errorf("the tap exited %d", code)
	}
	return nil
}
