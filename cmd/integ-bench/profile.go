package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/internal/bench"
)

// profile is the hidden "profile" subcommand: it runs tap-pokeapi in this
// process with the given arguments, discarding (and counting) its stdout,
// under a CPU profile, to see where a tap's time goes without editing it:
//
//	integ-bench profile --cpuprofile cpu.out -- --config cfg.json --catalog cat.json
//	go tool pprof -top integ-bench cpu.out
//
// --trace FILE writes an execution trace as well, to see when each request
// goes out and what the writer waits for (go tool trace FILE).
func profile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("integ-bench profile", flag.ContinueOnError)
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
		fmt.Fprintln(stderr, "integ-bench profile:", err)
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
