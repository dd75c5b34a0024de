package singer

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The stamps a stream's pages carry must be time.AppendFormat's, byte for
// byte, whether the second is the one before (only the microseconds
// written) or another: page after page within a second and across seconds,
// days and years, in any location, and at any time of the years 0 to 9999.
func TestStampCacheIsAppendFormat(t *testing.T) {
	var c stampCache
	check := func(at time.Time) {
		t.Helper()
		got := string(c.append([]byte("x"), at))
		if want := "x" + at.UTC().Format(timeLayout); got != want {
			t.Fatalf("stamp of %v: %q, want %q", at, got, want)
		}
	}
	tokyo := time.FixedZone("JST", 9*3600)
	start := []time.Time{
		time.Date(2026, 12, 31, 23, 59, 59, 999_990_000, time.UTC), // a year ends
		time.Date(2024, 2, 28, 23, 59, 58, 0, time.UTC),            // a leap day comes
		time.Date(2026, 12, 1, 9, 0, 0, 0, tokyo),                  // another day in UTC
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC), // before 1970: negative Unix seconds
		time.Unix(0, 0),
	}
	for _, at := range start {
		for range 3000 { // steps of a few hundred microseconds: many a second, across seconds
			check(at)
			at = at.Add(time.Duration(rand.IntN(900)+1) * time.Microsecond)
		}
	}
	// A cache that never formatted has no text, even for second 0.
	var fresh stampCache
	if got := string(fresh.append(nil, time.Unix(0, 5000))); got != "1970-01-01T00:00:00.000005Z" {
		t.Errorf("a fresh cache's stamp of second 0: %q", got)
	}
	r := rand.New(rand.NewPCG(3, 4))
	lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 100_000 {
		at := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9))
		check(at)
		check(at.Add(time.Duration(r.IntN(1000)) * time.Nanosecond)) // the same second, mostly
	}
}
