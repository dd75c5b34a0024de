package integ

import "testing"

func TestConcurrencyLimit(t *testing.T) {
	for _, c := range []struct {
		set     int
		rps     float64
		streams int
		want    int
	}{
		{0, 0, 0, 8},                     // nothing said
		{0, 0, 1, 8},                     // one stream
		{0, 0, 10, 20},                   // a page and a prefetch per parallel stream
		{0, 2.5, 1, 8},                   // a slow rate needs no more than the floor
		{0, 40, 1, 40},                   // 40 a second at 1 s a request
		{0, 40.2, 1, 41},                 // rounded up
		{0, 500, 1, 64},                  // capped: faster APIs need the setting
		{0, 40, 30, 60},                  // the streams need more than the rate
		{0, 40, defaultRatedStreams, 40}, // the default under a rate: 8 streams and their children share 40
		{0, 0, defaultRatedStreams, 16},  // 8 streams without a rate
		{3, 40, 10, 3},                   // the user's word wins
		{100, 0, 0, 100},                 // above the default cap too
	} {
		if got := concurrencyLimit(c.set, c.rps, c.streams); got != c.want {
			t.Errorf("concurrencyLimit(%d, %v, %d) = %d, want %d", c.set, c.rps, c.streams, got, c.want)
		}
	}
}

func TestStreamParallelism(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  int
		set  runSettings
		want int
	}{
		{"nothing said", 0, runSettings{}, 1},
		{"a rate reads streams at once", 0, runSettings{rps: 40}, defaultRatedStreams},
		{"the config's word", 0, runSettings{rps: 40, parallel: 2}, 2},
		{"the config's word without a rate", 0, runSettings{parallel: 3}, 3},
		{"the caller's word", 5, runSettings{rps: 40, parallel: 2}, 5},
	} {
		if got := streamParallelism(c.opt, c.set); got != c.want {
			t.Errorf("%s: streamParallelism = %d, want %d", c.name, got, c.want)
		}
	}
}
