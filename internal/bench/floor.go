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
	return floor(ctx, client, url, w, func(bw *bufio.Writer, results gjson.Result) {
		_, _ = bw.WriteString(results.Raw) // a bufio error sticks; Flush reports it
		_ = bw.WriteByte('\n')
	})
}

// FloorLines is Floor writing what a tap of protocol ("singer" or
// "airbyte") must: each record as a RECORD line of stream, in the tap's
// envelope byte for byte (time_extracted or emitted_at stamped once a
// page, as the tap does), split out of the page by gjson and nothing else:
// no check of the page, no framework. It is the least work any tap of the
// API can do in that protocol, so a tap's rate over it is the cost of the
// tap's own code, and its rate over Floor's the cost of the protocol's
// bytes. Records must be compact JSON, as the pokeserver writes them.
func FloorLines(ctx context.Context, client *http.Client, url, protocol, stream string, w io.Writer) (int64, error) {
	var prefix []byte
	var stamp func(suffix []byte, now time.Time) []byte
	switch protocol {
	case ModeSinger:
		prefix = []byte(`{"type":"RECORD","stream":` + strconv.Quote(stream) + `,"record":`)
		stamp = func(suffix []byte, now time.Time) []byte {
			suffix = append(suffix, `,"time_extracted":"`...)
			suffix = now.UTC().AppendFormat(suffix, singerTimeLayout)
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
		return 0, fmt.Errorf("floor: unknown protocol %q (want %s or %s)", protocol, ModeSinger, ModeAirbyte)
	}
	var suffix []byte
	return floor(ctx, client, url, w, func(bw *bufio.Writer, results gjson.Result) {
		suffix = stamp(suffix[:0], time.Now())
		results.ForEach(func(_, rec gjson.Result) bool {
			_, _ = bw.Write(prefix)
			_, _ = bw.WriteString(rec.Raw)
			_, _ = bw.Write(suffix)
			return true
		})
	})
}

// singerTimeLayout is the Singer tap's time_extracted format, so that
// FloorLines writes as many bytes a record as the tap.
const singerTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// floor is the loop of Floor and FloorLines: emit writes one page's
// records, given its results array, to bw.
func floor(ctx context.Context, client *http.Client, url string, w io.Writer, emit func(bw *bufio.Writer, results gjson.Result)) (int64, error) {
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
		emit(bw, results)
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
