package integ_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// arrivals records when each request reached the server and how many were
// in flight at most.
type arrivals struct {
	mu       sync.Mutex
	at       []time.Time
	inFlight int
	peak     int
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.at = append(a.at, time.Now())
		a.inFlight++
		a.peak = max(a.peak, a.inFlight)
		a.mu.Unlock()
		defer func() { a.mu.Lock(); a.inFlight--; a.mu.Unlock() }()
		h.ServeHTTP(w, r)
	})
}

// maxPerSecond is the most requests that arrived in any one-second window
// [t, t+1s).
func (a *arrivals) maxPerSecond() int {
	a.mu.Lock()
	at := slices.Clone(a.at)
	a.mu.Unlock()
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	best, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// headroom is how far the shortest run of n consecutive arrivals is from
// fitting in one second: positive, no one-second window saw n requests,
// and it is the margin the network could still have taken.
func (a *arrivals) headroom(n int) time.Duration {
	a.mu.Lock()
	at := slices.Clone(a.at)
	a.mu.Unlock()
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	least := time.Duration(math.MaxInt64)
	for i := 0; i+n-1 < len(at); i++ {
		least = min(least, at[i+n-1].Sub(at[i]))
	}
	return least - time.Second
}

// benchProtocols are the wire formats every quota benchmark runs in.
var benchProtocols = []struct {
	name string
	new  func() driver.Protocol
}{
	{"singer", func() driver.Protocol { return singer.NewProtocol(nil) }},
	{"airbyte", func() driver.Protocol { return airbyte.NewProtocol(nil, nil) }},
}

type benchConfig struct {
	BaseURL string `json:"base_url"`
}

// benchList is tap-pokeapi's paged list of a PokeAPI resource, limit a page.
func benchList(name, resource string, limit int) *integ.Stream {
	type named struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	return integ.NewStream(name, named{}, func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[benchConfig](c)
		if err != nil {
			return err
		}
		return c.EmitPages(requests.New(cfg.BaseURL+"/"+resource).Query("limit", strconv.Itoa(limit)).Query("offset", "0"), requests.NextURL("next"), "results")
	}, integ.PrimaryKey("name"))
}

// benchDetails is tap-pokeapi's pokemon_details: one detail request per
// record of the pokemon list (a child stream).
func benchDetails() *integ.Stream {
	type detail struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	return integ.NewStream("pokemon_details", detail{}, func(c *integ.HttpContext) error {
		return c.EmitObject(requests.New(c.Parent().Get("url").String()))
	}, integ.ChildOf("pokemon"), integ.PrimaryKey("id"))
}

// quotaSource is tap-pokeapi's pokemon and pokemon_details: a paged list
// and one detail request per listed record (a child stream).
func quotaSource() *integ.Source {
	return integ.NewSource("quota", benchConfig{}, integ.WithStreams(benchList("pokemon", "pokemon", 100), benchDetails()))
}

// BenchmarkQuota reads only the child stream pokemon_details (400 detail
// requests and 4 list pages) with requests_per_second 40 from a server that
// answers every request after 100 ms or 500 ms, in both protocols. It
// reports the time over the ideal, requests / rate (x-ideal: issue 14 asks
// for at most 1.2), the most requests the server saw in any second, how
// far the closest rate+1 requests were from fitting in a second
// (headroom-ms: what is left of the limiter's margin) and the most it had
// in flight. It fails if the server saw more than the rate in
// any one-second window (the limiter keeps a second and a margin between a
// request and the one rate requests later, so a request delayed on its way
// by up to requests.WindowMargin more than another does not make a 41st).
//
//	go test -run '^$' -bench Quota ./integ
func BenchmarkQuota(b *testing.B) {
	const (
		count = 400
		rate  = 40
	)
	requestsTotal := count + count/100 // details and list pages
	ideal := time.Duration(float64(requestsTotal) / rate * float64(time.Second))
	for _, latency := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond} {
		for _, proto := range benchProtocols {
			b.Run(fmt.Sprintf("latency=%v/%s", latency, proto.name), func(b *testing.B) {
				src := quotaSource()
				if err := src.Err(); err != nil {
					b.Fatal(err)
				}
				var worst time.Duration
				var maxRate, peak int
				room := time.Duration(math.MaxInt64)
				for b.Loop() {
					arr := &arrivals{}
					srv := httptest.NewServer(arr.wrap(pokeserver.New(pokeserver.WithCount(count), pokeserver.WithLatency(latency))))
					raw := fmt.Sprintf(`{"base_url":%q,"requests_per_second":%d}`, srv.URL+"/api/v2", rate)
					cfg, err := src.ParseConfig(json.RawMessage(raw))
					if err != nil {
						b.Fatal(err)
					}
					var out countingWriter
					ctx, cancel := context.WithTimeout(context.Background(), 10*ideal)
					start := time.Now()
					err = src.Sync(ctx, integ.SyncOptions{
						Config: cfg, Catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "pokemon_details"}}},
						Protocol: proto.new(), Output: driver.NewOutput(&out),
					})
					elapsed := time.Since(start)
					cancel()
					srv.Close()
					if err != nil {
						b.Fatal(err)
					}
					if out.records != count {
						b.Fatalf("%d records, want %d", out.records, count)
					}
					if got := len(arr.at); got != requestsTotal {
						b.Fatalf("the server saw %d requests, want %d", got, requestsTotal)
					}
					worst = max(worst, elapsed)
					room = min(room, arr.headroom(rate+1))
					maxRate = max(maxRate, arr.maxPerSecond())
					peak = max(peak, arr.peak)
				}
				b.ReportMetric(worst.Seconds()/ideal.Seconds(), "x-ideal")
				b.ReportMetric(float64(maxRate), "max-req/s")
				b.ReportMetric(float64(room.Microseconds())/1000, "headroom-ms")
				b.ReportMetric(float64(peak), "peak-in-flight")
				if maxRate > rate {
					b.Errorf("the server saw %d requests in one second; the rate is %d", maxRate, rate)
				}
			})
		}
	}
}

// streamsSource is several streams read at once: tap-pokeapi's pokemon
// list with its detail child stream (404 requests), and four more paged
// lists of 11 to 16 pages, each page asked for when the previous one is
// in. pages is each list's page count.
func streamsSource() (src *integ.Source, pages map[string]int) {
	pages = map[string]int{"pokemon": 4, "abilities": 15, "types": 11, "pokemon_by_25": 16}
	src = integ.NewSource("quota_streams", benchConfig{}, integ.WithStreams(
		benchList("pokemon", "pokemon", 100),
		benchDetails(),
		benchList("abilities", "ability", 25), // 367 abilities
		benchList("types", "type", 2),         // 21 types
		benchList("pokemon_by_25", "pokemon", 25),
	))
	return src, pages
}

// finishWriter notes when each stream's last record was written.
type finishWriter struct {
	start   time.Time
	records map[string]int
	last    map[string]time.Duration
}

func (w *finishWriter) Write(p []byte) (int, error) {
	now := time.Since(w.start)
	for line := range bytes.Lines(p) {
		msg := gjson.ParseBytes(line)
		if msg.Get("type").String() != "RECORD" {
			continue
		}
		name := msg.Get("stream").String() // Singer
		if name == "" {
			name = msg.Get("record.stream").String() // Airbyte
		}
		w.records[name]++
		w.last[name] = now
	}
	return len(p), nil
}

// fairIdeal is when each stream would finish if the rate were shared
// max-min fairly between the streams still reading, each using at most
// its cap (requests a second: a list asks for a page when the previous
// one is in, so at most one per latency). It is the "ideal = requests /
// rate" of issue 14 for one stream among several.
func fairIdeal(need map[string]float64, caps map[string]float64, rate float64) map[string]float64 {
	left := maps.Clone(need)
	done := map[string]float64{}
	now := 0.0
	for len(left) > 0 {
		// Water-filling: capped streams take their cap, the rest share
		// what is left evenly.
		share := map[string]float64{}
		free, open := rate, slices.Collect(maps.Keys(left))
		for changed := true; changed; {
			changed = false
			each := free / float64(len(open))
			for i, name := range open {
				if c, ok := caps[name]; ok && c < each {
					share[name] = c
					free -= c
					open = slices.Delete(open, i, i+1)
					changed = true
					break
				}
			}
		}
		for _, name := range open {
			share[name] = free / float64(len(open))
		}
		step := math.Inf(1)
		for name, n := range left {
			step = min(step, n/share[name])
		}
		now += step
		for name := range left {
			if left[name] -= step * share[name]; left[name] <= 1e-9 {
				done[name] = now
				delete(left, name)
			}
		}
	}
	return done
}

// BenchmarkQuotaStreams reads the five streams of streamsSource at once
// (the default with a rate: no max_parallel_streams in the config) with
// requests_per_second 40 from a server answering after 100 ms or 500 ms,
// in both protocols. It reports the whole sync's time over requests /
// rate (x-ideal), the worst stream's finish over its fair share of the
// rate and one latency for its last response (worst-stream-x-ideal: see
// fairIdeal; 1.2 at most, or the stream starved), the most requests the server saw in any second and the most
// in flight, and logs each stream's finish. It fails if any second saw
// more than the rate.
//
//	go test -run '^$' -bench QuotaStreams -v ./integ
func BenchmarkQuotaStreams(b *testing.B) {
	const rate = 40
	src, pages := streamsSource()
	if err := src.Err(); err != nil {
		b.Fatal(err)
	}
	const details = 400
	// The pokemon list is read with its detail child stream (its records
	// wait for their details): one stream, as far as the rate is concerned.
	need := map[string]float64{"pokemon_details": details + float64(pages["pokemon"])}
	total := details
	for name, n := range pages {
		if name != "pokemon" {
			need[name] = float64(n)
		}
		total += n
	}
	ideal := float64(total) / rate
	for _, latency := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond} {
		caps := map[string]float64{}
		for name := range pages {
			caps[name] = 1 / latency.Seconds()
		}
		fair := fairIdeal(need, caps, rate)
		for name := range fair {
			fair[name] += latency.Seconds() // the last response comes a latency after its turn
		}
		for _, proto := range benchProtocols {
			b.Run(fmt.Sprintf("latency=%v/%s", latency, proto.name), func(b *testing.B) {
				var worst, worstStream float64
				var maxRate, peak int
				room := time.Duration(math.MaxInt64)
				for b.Loop() {
					arr := &arrivals{}
					srv := httptest.NewServer(arr.wrap(pokeserver.New(pokeserver.WithCount(details), pokeserver.WithLatency(latency))))
					raw := fmt.Sprintf(`{"base_url":%q,"requests_per_second":%d}`, srv.URL+"/api/v2", rate)
					cfg, err := src.ParseConfig(json.RawMessage(raw))
					if err != nil {
						b.Fatal(err)
					}
					out := &finishWriter{records: map[string]int{}, last: map[string]time.Duration{}}
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(10*ideal*float64(time.Second)))
					out.start = time.Now()
					err = src.Sync(ctx, integ.SyncOptions{Config: cfg, Protocol: proto.new(), Output: driver.NewOutput(out)})
					elapsed := time.Since(out.start)
					cancel()
					srv.Close()
					if err != nil {
						b.Fatal(err)
					}
					if got := len(arr.at); got != total {
						b.Fatalf("the server saw %d requests, want %d", got, total)
					}
					if n := out.records["pokemon_details"]; n != details {
						b.Fatalf("%d details, want %d", n, details)
					}
					worst = max(worst, elapsed.Seconds()/ideal)
					var report []string
					for _, name := range slices.Sorted(maps.Keys(need)) {
						x := out.last[name].Seconds() / fair[name]
						worstStream = max(worstStream, x)
						report = append(report, fmt.Sprintf("%s %.2fs (fair %.2fs, %.2fx)", name, out.last[name].Seconds(), fair[name], x))
					}
					b.Logf("all %.2fs (ideal %.2fs): %s", elapsed.Seconds(), ideal, strings.Join(report, ", "))
					maxRate = max(maxRate, arr.maxPerSecond())
					room = min(room, arr.headroom(rate+1))
					peak = max(peak, arr.peak)
				}
				b.ReportMetric(worst, "x-ideal")
				b.ReportMetric(float64(room.Microseconds())/1000, "headroom-ms")
				b.ReportMetric(worstStream, "worst-stream-x-ideal")
				b.ReportMetric(float64(maxRate), "max-req/s")
				b.ReportMetric(float64(peak), "peak-in-flight")
				if maxRate > rate {
					b.Errorf("the server saw %d requests in one second; the rate is %d", maxRate, rate)
				}
			})
		}
	}
}
