package requests

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// jobServer answers like Salesforce Bulk 2.0's job status: InProgress for
// the first polls, then the final state.
func jobServer(t *testing.T, inProgress int, final string) (*httptest.Server, *atomic.Int32) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := "InProgress"
		if int(polls.Add(1)) > inProgress {
			state = final
		}
		fmt.Fprintf(w, `{"id":"750R0000000zlh9IAA","state":%q,"numberRecordsProcessed":3}`, state)
	}))
	t.Cleanup(srv.Close)
	return srv, &polls
}

func jobDone(r *JSONResponse) (bool, error) {
	switch s := r.Get("state").String(); s {
	case "JobComplete":
		return true, nil
	case "Failed", "Aborted":
		return false, fmt.Errorf("the job ended %s", s)
	}
	return false, nil
}

func TestPoll(t *testing.T) {
	tests := []struct {
		name       string
		inProgress int
		final      string
		timeout    time.Duration
		wantPolls  int32
		wantWaits  string
		wantErr    string
	}{
		{"done at once", 0, "JobComplete", 0, 1, "", ""},
		{"done after waits that double up to the cap", 5, "JobComplete", 0, 6, "0s 1ms 3ms 7ms 11ms", ""},
		{"a failed job is the caller's error", 2, "Failed", 0, 3, "0s 1ms", "the job ended Failed"},
		{"too long", 100, "JobComplete", 6 * time.Millisecond, 3, "0s 1ms", "did not finish in time: 3 polls of GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, polls := jobServer(t, tt.inProgress, tt.final)
			var waited []string // the time waited so far, before each wait
			o := PollOptions{First: time.Millisecond, Max: 4 * time.Millisecond, Timeout: tt.timeout,
				Waiting: func(_ int, w time.Duration) { waited = append(waited, w.String()) }}
			if tt.timeout == 0 {
				o.Timeout = time.Minute
			}
			resp, err := Poll(context.Background(), http.DefaultClient, New(srv.URL+"/jobs/ingest/750R0000000zlh9IAA"), 0, o, jobDone)
			if polls.Load() != tt.wantPolls {
				t.Errorf("%d polls, want %d", polls.Load(), tt.wantPolls)
			}
			if got := strings.Join(waited, " "); got != tt.wantWaits {
				t.Errorf("waited %q before each wait, want %q", got, tt.wantWaits)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || resp.Get("state").String() != "JobComplete" {
				t.Fatalf("%v, %v", resp, err)
			}
		})
	}
}

func TestPollEndsWithTheContext(t *testing.T) {
	srv, _ := jobServer(t, 1000, "JobComplete")
	ctx, cancel := context.WithCancel(context.Background())
	var sent atomic.Int32
	doer := DoerFunc(func(r *http.Request) (*http.Response, error) { sent.Add(1); return http.DefaultClient.Do(r) })
	o := PollOptions{First: 2 * time.Second, Waiting: func(int, time.Duration) { cancel() }}
	_, err := Poll(ctx, doer, New(srv.URL), 0, o, jobDone)
	// Cancelled during the first wait: no second poll (a wait that ignored
	// the context would try again after it, and fail there).
	if !errors.Is(err, context.Canceled) || sent.Load() != 1 {
		t.Fatalf("err %v after %d polls, want context.Canceled after 1", err, sent.Load())
	}
}
