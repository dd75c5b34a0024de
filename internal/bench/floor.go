package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"unsafe"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/internal/procs"
	"github.com/tidwall/gjson"
)

// Floor is the raw client the taps are measured against: it GETs the page
// at url, copies the raw bytes of its "results" array, as they came, plus
// a newline to w, and follows the absolute "next" URL until it is null. It
// does no per-record work at all (one gjson scan finds the array and the
// next URL), so it is the least work any client of the API can do. Like
// the taps, it asks for the next page before it writes the current one, so
// the server's time overlaps its writing: a floor that waited would be
// slower than it need be, and flatter the taps. It returns the number of
// pages written.
func Floor(ctx context.Context, client *http.Client, url string, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw := bufio.NewWriterSize(w, 64<<10)
	// One fetcher for the whole loop and two bodies taking turns, as the
	// taps do: no goroutine, stack or buffer grown again for each page.
	type fetched struct {
		body *bytes.Buffer
		err  error
	}
	urls, bodies := make(chan string, 1), make(chan fetched, 1)
	bufs := [2]*bytes.Buffer{new(bytes.Buffer), new(bytes.Buffer)}
	fetcher := conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return struct{}{}, nil
			case u := <-urls:
				body := bufs[i%2]
				body.Reset()
				bodies <- fetched{body, get(ctx, client, u, body)}
			}
		}
	})
	defer func() { cancel(); fetcher.Await() }()
	fetch := func(u string) {
		urls <- u
		runtime.Gosched() // on one thread: let the request go out now
	}
	var pages int64
	fetch(url)
	for more := true; more; {
		f := <-bodies
		if f.err != nil {
			return pages, f.err
		}
		// A view, not GetBytes, which would copy the array.
		page := unsafe.String(unsafe.SliceData(f.body.Bytes()), f.body.Len())
		// The next URL first: the scan for the results, the floor's one
		// pass over the page, then overlaps the server's work, as a tap's
		// check of a page does.
		next := gjson.Get(page, "next")
		more = next.Type == gjson.String
		prev := url
		if more {
			url = next.Str
			fetch(url) // fills the other body while this one is written
		}
		results := gjson.Get(page, "results")
		if !results.IsArray() {
			return pages, fmt.Errorf("GET %s: the page has no results array", prev)
		}
		_, _ = bw.WriteString(results.Raw) // a bufio error sticks; Flush reports it
		_ = bw.WriteByte('\n')
		pages++
	}
	if err := bw.Flush(); err != nil {
		return pages, fmt.Errorf("write records: %w", err)
	}
	return pages, nil
}

// FloorRecordToken occurs once in every record of the floor's output (the
// pokeserver's list records are {"name":...,"url":...}): the harness
// counts it, in its own process, to check the floor read every record.
const FloorRecordToken = `{"name":`

// get reads the body of a 200 response to url into body.
func get(ctx context.Context, client *http.Client, url string, body *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("floor: GET %s: %s", url, resp.Status)
	}
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("floor: GET %s: read body: %w", url, err)
	}
	return nil
}

// FloorMain is the hidden "floor" subcommand the harness runs as a child
// process, so the floor's CPU time and peak RSS are measured exactly like
// the tap's: integ-bench floor --url FIRST_PAGE_URL. Records go to stdout.
func FloorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	procs.Default() // the floor at its fastest, as the taps run
	fs := flag.NewFlagSet("integ-bench floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL of the first page")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" {
		fmt.Fprintln(stderr, "integ-bench floor: --url is required")
		return 2
	}
	if _, err := Floor(ctx, http.DefaultClient, *url, stdout); err != nil {
		fmt.Fprintln(stderr, "integ-bench floor:", err)
		return 1
	}
	return 0
}

// floorArgs are the child's arguments after the harness's own command.
func floorArgs(url string) []string { return []string{"--url", url} }
