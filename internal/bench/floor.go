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
	"strconv"
	"time"
	"unsafe"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/internal/procs"
	"github.com/integ/integ/requests"
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
	bw := bufio.NewWriterSize(w, 64<<10)
	// Two bodies taking turns, as the taps do: no buffer grown again for
	// each page.
	bufs := [2]*bytes.Buffer{new(bytes.Buffer), new(bytes.Buffer)}
	turn := 0
	pages, err := pageLoop(ctx, url,
		func(ctx context.Context, u string) (*bytes.Buffer, error) {
			body := bufs[turn%2]
			turn++
			body.Reset()
			return body, get(ctx, client, u, body)
		},
		func(body *bytes.Buffer) gjson.Result { return gjson.Get(view(body.Bytes()), "next") },
		func(body *bytes.Buffer, u string) error {
			results := gjson.Get(view(body.Bytes()), "results")
			if !results.IsArray() {
				return fmt.Errorf("GET %s: the page has no results array", u)
			}
			_, _ = bw.WriteString(results.Raw) // a bufio error sticks; Flush reports it
			_ = bw.WriteByte('\n')
			return nil
		})
	if err != nil {
		return pages, err
	}
	if err := bw.Flush(); err != nil {
		return pages, fmt.Errorf("write records: %w", err)
	}
	return pages, nil
}

// FloorLines is Floor writing what a tap of protocol ("singer" or
// "airbyte") must: each page read and checked as a tap reads it, with
// integ's one-pass page reader (requests.FetchUnchecked and CheckPage:
// every byte validated, the records found in the same pass), and each
// record written in the tap's envelope, byte for byte (time_extracted or
// emitted_at stamped once a page), one write a page. Nothing else: no
// engine, middleware, pagination rules or state. It is the least work a
// tap that checks its pages can do in that protocol, so a tap's rate over
// it is the cost of the tap's own machinery, and its rate over Floor's the
// cost of the protocol's bytes and of the check. client is usually an
// *http.Client; Go benchmarks pass a Doer answering from memory, to set
// the engine's path against this loop without a network
// (BenchmarkSyncPagesFloor in protocol/singer).
func FloorLines(ctx context.Context, client requests.Doer, url, protocol, stream string, w io.Writer) (int64, error) {
	var prefix []byte
	var stamp func(suffix []byte, now time.Time) []byte
	switch protocol {
	case ModeSinger:
		prefix = []byte(`{"type":"RECORD","stream":` + strconv.Quote(stream) + `,"record":`)
		// The date and time of day formatted once a second, as the tap's
		// encoder does.
		var sec int64
		var secText []byte
		stamp = func(suffix []byte, now time.Time) []byte {
			suffix = append(suffix, `,"time_extracted":"`...)
			now = now.UTC()
			if s := now.Unix(); s != sec || secText == nil {
				sec, secText = s, now.AppendFormat(secText[:0], singerTimeLayout[:len("2006-01-02T15:04:05")])
			}
			suffix = append(suffix, secText...)
			frac := [8]byte{'.', 0, 0, 0, 0, 0, 0, 'Z'}
			for i, us := 6, now.Nanosecond()/1000; i > 0; i, us = i-1, us/10 {
				frac[i] = byte('0' + us%10)
			}
			suffix = append(suffix, frac[:]...)
			return append(suffix, "\"}\n"...)
		}
	case ModeAirbyte:
		prefix = []byte(`{"type":"RECORD","record":{"stream":` + strconv.Quote(stream) + `,"data":`)
		stamp = func(suffix []byte, now time.Time) []byte {
			suffix = append(suffix, `,"emitted_at":`...)
			suffix = strconv.AppendInt(suffix, now.UnixMilli(), 10)
			return append(suffix, "}}\n"...)
		}
	default:
		return 0, fmt.Errorf("unknown protocol %q for --lines (want %s or %s)", protocol, ModeSinger, ModeAirbyte)
	}
	var suffix, out []byte
	return pageLoop(ctx, url,
		func(ctx context.Context, u string) (*requests.JSONResponse, error) {
			return requests.FetchUnchecked(ctx, client, requests.New(u), 0)
		},
		func(r *requests.JSONResponse) gjson.Result { return r.Get("next") },
		func(r *requests.JSONResponse, u string) error {
			defer r.Release()
			if err := r.CheckPage("results"); err != nil {
				return fmt.Errorf("GET %s: %w", u, err)
			}
			pg := r.Page()
			if !pg.IsArray {
				return fmt.Errorf("GET %s: the page has no results array", u)
			}
			suffix = stamp(suffix[:0], time.Now())
			out = out[:0]
			for _, rec := range pg.Records {
				out = append(out, prefix...)
				out = append(out, rec...)
				out = append(out, suffix...)
			}
			if _, err := w.Write(out); err != nil {
				return fmt.Errorf("write records: %w", err)
			}
			return nil
		})
}

// singerTimeLayout is the Singer tap's time_extracted format, so that
// FloorLines writes as many bytes a record as the tap.
const singerTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// pageLoop is the loop of Floor and FloorLines. One fetcher goroutine
// serves the whole loop, as the taps' does (no goroutine or stack grown
// again for each page): fetch reads a page, next finds its next URL
// (absolute, or not a string at the end), and write writes its records,
// given the URL it came from. Like a tap's, the loop asks for the next
// page before it writes the current one. It returns the pages written.
func pageLoop[P any](ctx context.Context, url string, fetch func(context.Context, string) (P, error), next func(P) gjson.Result, write func(page P, url string) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page P
		err  error
	}
	urls, pages := make(chan string, 1), make(chan fetched, 1)
	fetcher := conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for {
			select {
			case <-ctx.Done():
				return struct{}{}, nil
			case u := <-urls:
				p, err := fetch(ctx, u)
				pages <- fetched{p, err}
			}
		}
	})
	defer func() { cancel(); fetcher.Await() }()
	ask := func(u string) {
		urls <- u
		runtime.Gosched() // on one thread: let the request go out now
	}
	var written int64
	ask(url)
	for more := true; more; {
		f := <-pages
		if f.err != nil {
			return written, f.err
		}
		// The next URL first: the page's scan, and its writing, then
		// overlap the server's work on the next one, as a tap's do.
		n := next(f.page)
		more = n.Type == gjson.String
		prev := url
		if more {
			url = n.Str
			ask(url)
		}
		if err := write(f.page, prev); err != nil {
			return written, err
		}
		written++
	}
	return written, nil
}

// view is b as a string, not copied: gjson reads it in place.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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
// the tap's: integ-bench floor --url FIRST_PAGE_URL [--lines PROTOCOL].
// Records go to stdout.
func FloorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	procs.Default() // the floor at its fastest, as the taps run
	fs := flag.NewFlagSet("integ-bench floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL of the first page")
	lines := fs.String("lines", "", "write RECORD lines of this protocol, singer or airbyte (FloorLines), not raw pages")
	stream := fs.String("stream", "pokemon", "the stream the RECORD lines name, with --lines")
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
	run := func() (int64, error) { return Floor(ctx, http.DefaultClient, *url, stdout) }
	if *lines != "" {
		run = func() (int64, error) { return FloorLines(ctx, http.DefaultClient, *url, *lines, *stream, stdout) }
	}
	if _, err := run(); err != nil {
		fmt.Fprintln(stderr, "integ-bench floor:", err)
		return 1
	}
	return 0
}

// floorArgs are the child's arguments after the harness's own command.
func floorArgs(url string) []string { return []string{"--url", url} }
