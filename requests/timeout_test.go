package requests_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/integ/integ/requests"
)

// slowDoer answers after wait, with a body that then takes bodyWait to
// end (or never, while the request's context lives), in fake time.
func slowDoer(wait, bodyWait time.Duration) requests.Doer {
	return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return nil, context.Cause(r.Context())
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &ctxBody{ctx: r.Context(), wait: bodyWait}}, nil
	})
}

// answerAfter answers each request with an empty 200 after wait(r),
// unless its context ends first: then it fails with ctx.Err(), as a
// transport does.
func answerAfter(wait func(*http.Request) time.Duration) requests.Doer {
	return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		select {
		case <-time.After(wait(r)):
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	})
}

// ctxBody is a body whose one byte comes after wait, unless its request's
// context ends first.
type ctxBody struct {
	ctx  context.Context
	wait time.Duration
	done bool
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	select {
	case <-time.After(b.wait):
		b.done = true
		p[0] = '1'
		return 1, nil
	case <-b.ctx.Done():
		return 0, context.Cause(b.ctx)
	}
}

func (b *ctxBody) Close() error { return nil }

// TestTimeoutBounds: the header timeout bounds the wait for the answer,
// Timeout the whole request, body included; each fails at exactly its
// bound with an error that is context.DeadlineExceeded, the header one
// also a net.Error whose Timeout is true (as net/http's own was).
func TestTimeoutBounds(t *testing.T) {
	tests := []struct {
		name           string
		header, total  time.Duration
		wait, bodyWait time.Duration
		failAfter      time.Duration // 0: succeeds
		inBody         bool          // fails while the body is read
		headerErr      bool
	}{
		{name: "answer in time", header: time.Minute, total: 5 * time.Minute, wait: 59 * time.Second, bodyWait: time.Second},
		{name: "no answer", header: time.Minute, total: 5 * time.Minute, wait: time.Hour, failAfter: time.Minute, headerErr: true},
		{name: "slow body gets the rest", header: time.Minute, total: 5 * time.Minute, wait: 30 * time.Second, bodyWait: 4 * time.Minute},
		{name: "body past the total", header: time.Minute, total: 5 * time.Minute, wait: 30 * time.Second, bodyWait: time.Hour, failAfter: 5 * time.Minute, inBody: true},
		{name: "no header bound", total: 5 * time.Minute, wait: 4 * time.Minute, bodyWait: 30 * time.Second},
		{name: "no header bound, no answer", total: 5 * time.Minute, wait: time.Hour, failAfter: 5 * time.Minute},
		{name: "header bound above the total", header: time.Hour, total: time.Minute, wait: time.Hour, failAfter: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := requests.Chain(slowDoer(tt.wait, tt.bodyWait), requests.Timeout(tt.total, requests.HeaderTimeout(tt.header)))
				req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
				start := time.Now()
				resp, err := d.Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if tt.inBody != (err != nil) {
						t.Fatalf("body read: %v", err)
					}
				} else if tt.inBody {
					t.Fatalf("failed before the body: %v", err)
				}
				took := time.Since(start)
				if tt.failAfter == 0 {
					if err != nil {
						t.Fatalf("failed after %v: %v", took, err)
					}
					return
				}
				if err == nil || took != tt.failAfter {
					t.Fatalf("err %v after %v, want a failure after exactly %v", err, took, tt.failAfter)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err %v is not DeadlineExceeded", err)
				}
				var ne net.Error
				if tt.headerErr && (!errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "response headers")) {
					t.Errorf("err %v: want a net.Error timeout awaiting response headers", err)
				}
			})
		})
	}
}

// TestTimeoutWatchdogManyInFlight: requests that start at different times
// and hang each fail at exactly their own deadline, while the ones that
// end in time are untouched, whatever order they start and end in: the
// one timer re-arms itself at the earliest deadline left.
func TestTimeoutWatchdogManyInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 10 * time.Second
		hangFor := map[string]time.Duration{} // by path; absent: hangs forever (written before any request)
		base := answerAfter(func(r *http.Request) time.Duration {
			if wait, ok := hangFor[r.URL.Path]; ok {
				return wait
			}
			return time.Hour
		})
		d := requests.Chain(base, requests.Timeout(timeout))
		type result struct {
			path string
			took time.Duration
			err  error
		}
		results := make(chan result, 16)
		starts := []struct {
			at   time.Duration
			path string
			wait time.Duration // -1: hangs
		}{
			{0, "/a", -1}, {time.Second, "/b", 2 * time.Second}, {2 * time.Second, "/c", -1},
			{3 * time.Second, "/d", 9 * time.Second}, {9 * time.Second, "/e", -1}, {12 * time.Second, "/f", -1},
			{25 * time.Second, "/g", time.Second}, {40 * time.Second, "/h", -1},
		}
		for _, s := range starts {
			if s.wait >= 0 {
				hangFor[s.path] = s.wait
			}
		}
		for _, s := range starts {
			time.AfterFunc(s.at, func() {
				req, _ := http.NewRequest(http.MethodGet, "https://api.test"+s.path, nil)
				start := time.Now()
				resp, err := d.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				results <- result{s.path, time.Since(start), err}
			})
		}
		for range starts {
			r := <-results
			want := timeout
			if w, ok := hangFor[r.path]; ok {
				want = w
				if r.err != nil {
					t.Errorf("%s: %v, want an answer after %v", r.path, r.err, w)
				}
			} else if !errors.Is(r.err, context.DeadlineExceeded) {
				t.Errorf("%s: err %v, want DeadlineExceeded", r.path, r.err)
			}
			if r.took != want {
				t.Errorf("%s: ended after %v, want %v", r.path, r.took, want)
			}
		}
	})
}

// TestTimeoutContext: the request's context reports the deadline (the
// caller's when earlier), says DeadlineExceeded once the timeout fired and
// Canceled once the body is closed; a caller's cancellation goes through
// as Canceled.
func TestTimeoutContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen context.Context
		base := requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			seen = r.Context()
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
		})
		d := requests.Chain(base, requests.Timeout(time.Minute))
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
		resp, err := d.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if dl, ok := seen.Deadline(); !ok || !dl.Equal(time.Now().Add(time.Minute)) {
			t.Errorf("deadline %v %v, want now+1m", dl, ok)
		}
		resp.Body.Close()
		if !errors.Is(seen.Err(), context.Canceled) {
			t.Errorf("after Close: %v, want Canceled", seen.Err())
		}

		parent, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := d.Do(req.WithContext(parent)); err != nil {
			t.Fatal(err)
		}
		if dl, _ := seen.Deadline(); !dl.Equal(time.Now().Add(10 * time.Second)) {
			t.Errorf("deadline %v, want the caller's, now+10s", dl)
		}

		// Fired: the context says DeadlineExceeded, as one with a deadline does.
		hang := requests.Chain(requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}), requests.Timeout(time.Minute))
		if _, err := hang.Do(req); err != context.DeadlineExceeded {
			t.Errorf("fired: ctx.Err() = %v, want DeadlineExceeded", err)
		}

		// The caller cancels: Canceled, not a timeout.
		ctx, stop := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, stop)
		if _, err := hang.Do(req.WithContext(ctx)); err != context.Canceled {
			t.Errorf("caller cancelled: ctx.Err() = %v, want Canceled", err)
		}
	})
}

// TestHeaderTimeoutOverHTTP: over a real connection, with the transport's
// own ResponseHeaderTimeout off (as the engine runs it), a server that
// does not answer fails the request at the header timeout, well before
// Timeout's; one that answers in time is read in full.
func TestHeaderTimeoutOverHTTP(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	defer close(release)
	c := requests.DefaultClient()
	c.Transport.(*http.Transport).ResponseHeaderTimeout = 0
	d := requests.Chain(c, requests.Timeout(time.Minute, requests.HeaderTimeout(50*time.Millisecond)))

	resp, err := requests.Do(context.Background(), d, requests.New(srv.URL+"/fast"), 0)
	if err != nil || !resp.Get("ok").Bool() {
		t.Fatalf("fast: %v %v", resp, err)
	}
	start := time.Now()
	_, err = requests.Do(context.Background(), d, requests.New(srv.URL+"/slow"), 0)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow: err %v, want a header timeout", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("slow: failed after %v, want about the 50ms header timeout", took)
	}
}

// TestTimeoutEarlierDeadlineRearms: a request whose header deadline comes
// before the one the timer is armed for (another request's body deadline)
// still fails at its own.
func TestTimeoutEarlierDeadlineRearms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := requests.Chain(requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/body" { // answers at once; its body never ends
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &ctxBody{ctx: r.Context(), wait: time.Hour}}, nil
			}
			<-r.Context().Done() // never answers
			return nil, context.Cause(r.Context())
		}), requests.Timeout(5*time.Minute, requests.HeaderTimeout(time.Minute)))
		bodyReq, _ := http.NewRequest(http.MethodGet, "https://api.test/body", nil)
		resp, err := d.Do(bodyReq)
		if err != nil {
			t.Fatal(err)
		}
		bodyErr := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			io.ReadAll(resp.Body)
			resp.Body.Close()
			bodyErr <- time.Since(start)
		}()
		time.Sleep(2 * time.Minute) // the timer fired at 1m and re-armed for 5m
		hangReq, _ := http.NewRequest(http.MethodGet, "https://api.test/hang", nil)
		hangStart := time.Now()
		_, err = d.Do(hangReq)
		if took := time.Since(hangStart); !errors.Is(err, context.DeadlineExceeded) || took != time.Minute {
			t.Errorf("hang: err %v after %v, want DeadlineExceeded after 1m", err, took)
		}
		if took := <-bodyErr; took != 5*time.Minute {
			t.Errorf("body ended after %v, want 5m", took)
		}
	})
}

// TestTimeoutWatchdogConcurrent: many goroutines share one Timeout, each
// request answering after its own wait, some within the timeout and some
// not, with bodies closed at once or after a while: every request that
// outlives the timeout fails at exactly its deadline, every other one
// succeeds (run it with -race: the list and timer are shared).
func TestTimeoutWatchdogConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 10 * time.Second
		base := answerAfter(func(r *http.Request) time.Duration {
			wait, _ := time.ParseDuration(r.URL.Query().Get("wait"))
			return wait
		})
		d := requests.Chain(base, requests.Timeout(timeout))
		errs := make(chan error, 64*16)
		for g := range 64 {
			go func() {
				for k := range 16 {
					// Waits from 0 to 15s, varied by goroutine and turn.
					wait := time.Duration((g*7+k*13)%31) * 500 * time.Millisecond
					req, _ := http.NewRequest(http.MethodGet, "https://api.test/?wait="+wait.String(), nil)
					start := time.Now()
					resp, err := d.Do(req)
					took := time.Since(start)
					switch {
					case wait == timeout && (err == nil || errors.Is(err, context.DeadlineExceeded)) && took == timeout:
						errs <- nil // a tie: the answer and the deadline come at the same instant
					case wait < timeout && err != nil:
						errs <- fmt.Errorf("wait %v: %v after %v", wait, err, took)
					case wait >= timeout && (!errors.Is(err, context.DeadlineExceeded) || took != timeout):
						errs <- fmt.Errorf("wait %v: err %v after %v, want DeadlineExceeded after %v", wait, err, took, timeout)
					default:
						errs <- nil
					}
					if err == nil {
						if k%2 == 0 {
							time.Sleep(time.Second) // hold the body a while
						}
						resp.Body.Close()
					}
				}
			}()
		}
		for range 64 * 16 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}

// TestHeadersAtTheHeaderDeadline: headers that come at the very instant
// the header bound ends race the watchdog's firing. Either may win (the
// request then fails as a timeout, or its body has the rest of the time),
// but the two must not touch the request's deadline unsynchronised: run
// it with -race.
func TestHeadersAtTheHeaderDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := requests.Chain(requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			time.Sleep(time.Second) // the header bound, to the nanosecond
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &ctxBody{ctx: r.Context(), wait: time.Millisecond}}, nil
		}), requests.Timeout(time.Minute, requests.HeaderTimeout(time.Second)))
		for range 200 {
			req, _ := http.NewRequest(http.MethodGet, "https://api.test/edge", nil)
			resp, err := d.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("body: %v, want nothing or a timeout", err)
			}
		}
	})
}
