package procs

import (
	"runtime"
	"testing"
)

func TestDefault(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	tests := []struct {
		env  string
		set  int // GOMAXPROCS before the call (the runtime read the env at start)
		want int
	}{
		{"", 4, 1},
		{"3", 3, 3}, // the user's setting stays
	}
	for _, tt := range tests {
		t.Setenv("GOMAXPROCS", tt.env)
		runtime.GOMAXPROCS(tt.set)
		if got := Default(); got != tt.want || runtime.GOMAXPROCS(0) != tt.want {
			t.Errorf("GOMAXPROCS=%q: %d threads, want %d", tt.env, got, tt.want)
		}
	}
}
