// Command demoapi serves a local PokeAPI-shaped API (see internal/pokeserver)
// for demos, end-to-end tests and benchmarks.
//
//	go run ./cmd/demoapi --addr 127.0.0.1:0 --count 1000000 --url-file /tmp/demoapi.url
//
// It prints "demoapi listening on http://HOST:PORT/api/v2" on stderr and,
// with --url-file, writes that base URL (no trailing newline) to the file
// once the server accepts connections, so scripts can wait for the file.
// SIGINT or SIGTERM shuts it down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/internal/pokeserver"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demoapi:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("demoapi", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	count := fs.Int("count", pokeserver.DefaultCount, "number of pokemon to serve")
	maxLimit := fs.Int("max-limit", 0, "cap on the page size (0: no cap)")
	latency := fs.Duration("latency", 0, "delay added to every response")
	urlFile := fs.String("url-file", "", "write the base URL to this file once listening")
	if err := fs.Parse(args); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler: pokeserver.New(
			pokeserver.WithCount(*count),
			pokeserver.WithMaxLimit(*maxLimit),
			pokeserver.WithLatency(*latency),
		),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := conc.Go(func() (struct{}, error) { return struct{}{}, srv.Serve(ln) })

	base := "http://" + ln.Addr().String() + "/api/v2"
	fmt.Fprintln(os.Stderr, "demoapi listening on", base)
	if *urlFile != "" {
		if err := writeFileAtomic(*urlFile, base); err != nil {
			_ = srv.Close()
			return err
		}
	}

	if _, err := served.AwaitContext(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err) // Serve failed before any signal
	}
	stop() // a second signal now kills the process the default way
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if _, err := served.Await(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(os.Stderr, "demoapi stopped")
	return nil
}

// writeFileAtomic writes via a rename so a script polling for the file
// never reads it half-written.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demoapi-url-*")
	if err != nil {
		return fmt.Errorf("url file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("url file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("url file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("url file: %w", err)
	}
	return nil
}
