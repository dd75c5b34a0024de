package requests_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/integ/integ/requests"
)

// retrying returns a doer that retries with fake time and jitter fixed at
// half the backoff cap.
func retrying(ft *fakeTime, base requests.Doer, opts requests.RetryOptions) requests.Doer {
	opts.Clock, opts.Sleep = ft, ft.Sleep
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 }
	}
	return requests.Chain(base, requests.Retry(opts))
}

func TestRetryStatuses(t *testing.T) {
	ok := jsonBody(`{"ok":true}`)
	ft0 := newFakeTime()
	httpDate := ft0.Now().Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		opts      requests.RetryOptions
		wantCalls int
		wantWaits []time.Duration
		wantErr   int // expected StatusError.Status; 0 means success
	}{
		{name: "429 Retry-After seconds", steps: []http.HandlerFunc{status(429, "Retry-After", "7"), ok},
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "503 Retry-After HTTP date", steps: []http.HandlerFunc{status(503, "Retry-After", httpDate), ok},
			wantCalls: 2, wantWaits: []time.Duration{90 * time.Second}},
		{name: "Retry-After beyond the default cap is not waited for", steps: []http.HandlerFunc{status(429, "Retry-After", "86400"), ok},
			wantCalls: 1, wantErr: 429},
		{name: "Retry-After beyond MaxRetryAfter is not waited for", opts: requests.RetryOptions{MaxRetryAfter: 10 * time.Second},
			steps: []http.HandlerFunc{status(429, "Retry-After", "30"), ok}, wantCalls: 1, wantErr: 429},
		{name: "Retry-After within MaxRetryAfter", opts: requests.RetryOptions{MaxRetryAfter: time.Hour, MaxElapsed: 2 * time.Hour},
			steps: []http.HandlerFunc{status(429, "Retry-After", "1800"), ok}, wantCalls: 2, wantWaits: []time.Duration{30 * time.Minute}},
		{name: "X-RateLimit-Reset seconds", steps: []http.HandlerFunc{status(429, "X-RateLimit-Reset", "30"), ok},
			wantCalls: 2, wantWaits: []time.Duration{30 * time.Second}},
		{name: "X-RateLimit-Reset epoch", steps: []http.HandlerFunc{
			status(429, "X-RateLimit-Reset", strconv.FormatInt(ft0.Now().Add(2*time.Minute).Unix(), 10)), ok},
			wantCalls: 2, wantWaits: []time.Duration{2 * time.Minute}},
		{name: "RateLimit-Reset", steps: []http.HandlerFunc{status(429, "RateLimit-Reset", "12"), ok},
			wantCalls: 2, wantWaits: []time.Duration{12 * time.Second}},
		{name: "reset in the past backs off", steps: []http.HandlerFunc{status(429, "X-RateLimit-Reset", "1000000000"), ok},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}},
		{name: "reset header ignored on 500", steps: []http.HandlerFunc{status(500, "X-RateLimit-Reset", "300"), ok},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}},
		{name: "burst of 500s then success", steps: []http.HandlerFunc{status(500), status(502), status(504), ok},
			wantCalls: 4, wantWaits: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{name: "408 retried", steps: []http.HandlerFunc{status(408), ok}, wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}},
		{name: "persistent 500", steps: []http.HandlerFunc{status(500)}, wantCalls: 5, wantErr: 500,
			wantWaits: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "MaxAttempts 3", opts: requests.RetryOptions{MaxAttempts: 3}, steps: []http.HandlerFunc{status(503)},
			wantCalls: 3, wantErr: 503, wantWaits: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "MaxElapsed respected", opts: requests.RetryOptions{MaxElapsed: 10 * time.Second},
			steps: []http.HandlerFunc{status(429, "Retry-After", "4")}, wantCalls: 3, wantErr: 429,
			wantWaits: []time.Duration{4 * time.Second, 4 * time.Second}},
		{name: "501 not retried", steps: []http.HandlerFunc{status(501), ok}, wantCalls: 1, wantErr: 501},
		{name: "404 not retried", steps: []http.HandlerFunc{status(404), ok}, wantCalls: 1, wantErr: 404},
		{name: "403 not retried", steps: []http.HandlerFunc{status(403, "Retry-After", "1"), ok}, wantCalls: 1, wantErr: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, tt.steps...)
			ft := newFakeTime()
			d := retrying(ft, srv.Client(), tt.opts)
			resp, err := requests.Do(context.Background(), d, requests.New(srv.URL+"/x?api_key=s3cret"), 0)
			if got := int(sc.calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if got := ft.Waits(); !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if tt.wantErr == 0 {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if !resp.Get("ok").Bool() {
					t.Errorf("body %s", resp.Body)
				}
				if resp.Header.Get(requests.AttemptsHeader) != strconv.Itoa(tt.wantCalls) {
					t.Errorf("%s = %q", requests.AttemptsHeader, resp.Header.Get(requests.AttemptsHeader))
				}
				return
			}
			var se *requests.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *StatusError", err)
			}
			if se.Status != tt.wantErr || se.Attempts != tt.wantCalls {
				t.Errorf("StatusError status %d attempts %d, want %d and %d", se.Status, se.Attempts, tt.wantErr, tt.wantCalls)
			}
			if se.Header.Get(requests.AttemptsHeader) != "" {
				t.Errorf("StatusError.Header keeps the internal %s header", requests.AttemptsHeader)
			}
			if tt.wantCalls > 1 && !strings.Contains(err.Error(), "after "+strconv.Itoa(tt.wantCalls)+" attempts") {
				t.Errorf("message %q lacks the attempt count", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("message %q leaks the key", err)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryFullJitter(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{"zero", 0, []time.Duration{0, 0, 0, 0, 0}},
		{"quarter", 0.25, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond}},
		{"almost one", 0.999, []time.Duration{999 * time.Millisecond, 1998 * time.Millisecond, 3996 * time.Millisecond, 7992 * time.Millisecond, 9990 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			fail := requests.DoerFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 503, Body: http.NoBody, Header: http.Header{}}, nil
			})
			d := retrying(ft, fail, requests.RetryOptions{MaxAttempts: 6, MaxInterval: 10 * time.Second, Rand: func() float64 { return tt.rand }})
			req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
			resp, err := d.Do(req)
			if err != nil || resp.StatusCode != 503 {
				t.Fatalf("got %v, %v", resp, err)
			}
			if got := ft.Waits(); !equalDurations(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryConnectionReset(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // send RST instead of FIN
		}
		conn.Close()
	}
	srv, sc := serve(t, hangUp, hangUp, jsonBody(`{"ok":true}`))
	ft := newFakeTime()
	resp, err := requests.Do(context.Background(), retrying(ft, srv.Client(), requests.RetryOptions{}), requests.New(srv.URL), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Get("ok").Bool() || sc.calls.Load() != 3 || len(ft.Waits()) != 2 {
		t.Errorf("body %s after %d calls and waits %v", resp.Body, sc.calls.Load(), ft.Waits())
	}
}

// cutOff sends a 200 with a Content-Length that promises the whole body,
// writes only its first half, and then drops the connection: with reset, an
// RST (ECONNRESET on the client); without, a FIN (an early EOF).
func cutOff(body string, reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		conn.Close()
	}
}

func TestRetryDroppedMidBody(t *testing.T) {
	body := `{"results":[` + strings.Repeat(`{"id":1,"name":"a record"},`, 200) + `{"id":2}]}`
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			srv, sc := serve(t, cutOff(body, reset), cutOff(body, reset), jsonBody(body))
			ft := newFakeTime()
			resp, err := requests.Do(context.Background(), retrying(ft, srv.Client(), requests.RetryOptions{}), requests.New(srv.URL), 0)
			if err != nil {
				t.Fatalf("a body cut off twice, then whole: %v", err)
			}
			defer resp.Release()
			if string(resp.Body) != body || sc.calls.Load() != 3 || len(ft.Waits()) != 2 {
				t.Errorf("got %d bytes after %d calls and waits %v, want the whole body after 3", len(resp.Body), sc.calls.Load(), ft.Waits())
			}
		})
	}
	t.Run("every attempt cut off", func(t *testing.T) {
		srv, sc := serve(t, cutOff(body, false))
		_, err := requests.Do(context.Background(), retrying(newFakeTime(), srv.Client(), requests.RetryOptions{MaxAttempts: 3}), requests.New(srv.URL+"/p?token=s3cret"), 0)
		var ae *requests.AttemptsError
		if !errors.As(err, &ae) || ae.Attempts != 3 || sc.calls.Load() != 3 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err %v after %d calls, want an *AttemptsError after 3 wrapping io.ErrUnexpectedEOF", err, sc.calls.Load())
		}
		if msg := err.Error(); !strings.Contains(msg, "/p?token=REDACTED: after 3 attempts: read body: unexpected EOF") {
			t.Errorf("message = %q", msg)
		}
	})
}

func TestRetryBodyLargerThanReadAhead(t *testing.T) {
	body := `{"data":"` + strings.Repeat("x", 5000) + `"}`
	srv, _ := serve(t, jsonBody(body))
	d := retrying(newFakeTime(), srv.Client(), requests.RetryOptions{MaxBodyBytes: 1000})
	for _, tc := range []struct {
		maxBytes int64
		tooLarge bool
	}{{0, false}, {1 << 20, false}, {4000, true}, {500, true}} {
		resp, err := requests.Do(context.Background(), d, requests.New(srv.URL), tc.maxBytes)
		if tc.tooLarge {
			if !errors.Is(err, requests.ErrTooLarge) {
				t.Errorf("maxBytes %d: err = %v, want ErrTooLarge", tc.maxBytes, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("maxBytes %d: %v", tc.maxBytes, err)
		}
		if string(resp.Body) != body {
			t.Errorf("maxBytes %d: %d bytes, want %d: a body past the read-ahead must still arrive whole", tc.maxBytes, len(resp.Body), len(body))
		}
		resp.Release()
	}
}

func TestRetryTransportErrorExhausted(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer: " + "x")}
	cause := errors.Join(reset, io.ErrUnexpectedEOF)
	calls := 0
	d := retrying(newFakeTime(), requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, cause
	}), requests.RetryOptions{MaxAttempts: 3})
	_, err := requests.Do(context.Background(), d, requests.New("https://api.test/x?token=s3cret"), 0)
	var ae *requests.AttemptsError
	if !errors.As(err, &ae) || ae.Attempts != 3 || calls != 3 {
		t.Fatalf("err %v (calls %d), want *AttemptsError after 3 attempts", err, calls)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is does not reach the cause: %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "GET https://api.test/x?token=REDACTED: after 3 attempts: ") {
		t.Errorf("message = %q", msg)
	}
}

func TestRetryNotOnPermanentTransportError(t *testing.T) {
	calls := 0
	boom := errors.New("tls: bad certificate")
	d := retrying(newFakeTime(), requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, boom
	}), requests.RetryOptions{})
	_, err := requests.Do(context.Background(), d, requests.New("https://api.test/x"), 0)
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("err %v after %d calls, want %v after 1", err, calls, boom)
	}
}

func TestRetryPerRequestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		slowOnce := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
			calls++
			if calls == 1 {
				<-req.Context().Done() // hang until the per-attempt timeout fires
				return nil, req.Context().Err()
			}
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"ok":1}`)), Header: http.Header{}}, nil
		})
		ft := newFakeTime()
		d := requests.Chain(slowOnce,
			requests.Retry(requests.RetryOptions{Clock: ft, Sleep: ft.Sleep}),
			requests.Timeout(30*time.Second))
		start := time.Now()
		resp, err := requests.Do(context.Background(), d, requests.New("https://api.test/x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || resp.Get("ok").Int() != 1 {
			t.Errorf("calls %d body %s", calls, resp.Body)
		}
		if el := time.Since(start); el != 30*time.Second {
			t.Errorf("took %v of bubble time, want exactly the 30s timeout", el)
		}
	})
}

func TestRetryParentDeadlineNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		hang := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
			calls++
			<-req.Context().Done()
			return nil, req.Context().Err()
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		d := requests.Chain(hang, requests.Retry(requests.RetryOptions{}), requests.Timeout(5*time.Minute))
		_, err := requests.Do(ctx, d, requests.New("https://api.test/x"), 0)
		if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
			t.Errorf("err %v after %d calls, want DeadlineExceeded after 1", err, calls)
		}
	})
}

func TestRetryContextCancelInterruptsSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		busy := requests.DoerFunc(func(*http.Request) (*http.Response, error) {
			calls++
			h := http.Header{"Retry-After": {"120"}}
			return &http.Response{StatusCode: 503, Body: http.NoBody, Header: h}, nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(3*time.Second, cancel)
		start := time.Now()
		_, err := requests.Do(ctx, requests.Chain(busy, requests.Retry(requests.RetryOptions{})), requests.New("https://api.test/x"), 0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if el := time.Since(start); el != 3*time.Second || calls != 1 {
			t.Errorf("stopped after %v and %d calls, want at the 3s cancel after 1", el, calls)
		}
	})
}

func TestRetryReplaysBody(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	record := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, r.Method+" "+string(b))
			mu.Unlock()
			next(w, r)
		}
	}
	srv, _ := serve(t, record(status(503)), record(status(429)), record(jsonBody(`{"id":1}`)))
	r := requests.New(srv.URL).Method(http.MethodPost).JSONBody(map[string]string{"q": "x"})
	if _, err := requests.Do(context.Background(), retrying(newFakeTime(), srv.Client(), requests.RetryOptions{}), r, 0); err != nil {
		t.Fatal(err)
	}
	want := []string{`POST {"q":"x"}`, `POST {"q":"x"}`, `POST {"q":"x"}`}
	if strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Errorf("bodies = %q, want %q", bodies, want)
	}
}

func TestRetryWithoutGetBodySendsOnce(t *testing.T) {
	calls := 0
	d := retrying(newFakeTime(), requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 503, Body: http.NoBody}, nil
	}), requests.RetryOptions{})
	req, _ := http.NewRequest(http.MethodPost, "https://api.test/x", io.NopCloser(bytes.NewReader([]byte("x"))))
	resp, err := d.Do(req)
	if err != nil || resp.StatusCode != 503 || calls != 1 {
		t.Errorf("got %v %v after %d calls, want the 503 after 1", resp, err, calls)
	}
}

func TestRetryDrainsRetriedBodies(t *testing.T) {
	var closed []bool
	d := retrying(newFakeTime(), requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		i := len(closed)
		closed = append(closed, false)
		body := &trackBody{Reader: strings.NewReader("busy"), closed: func() { closed[i] = true }}
		return &http.Response{StatusCode: 500, Body: body}, nil
	}), requests.RetryOptions{MaxAttempts: 3})
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if want := []bool{true, true, false}; len(closed) != 3 || closed[0] != want[0] || closed[1] != want[1] || closed[2] != want[2] {
		t.Errorf("closed = %v, want %v (the returned body stays open)", closed, want)
	}
}

type trackBody struct {
	io.Reader
	closed func()
}

func (b *trackBody) Close() error { b.closed(); return nil }

func TestRetryLogs(t *testing.T) {
	var lines []string
	srv, _ := serve(t, status(503), jsonBody(`{}`))
	opts := requests.RetryOptions{Logf: func(f string, a ...any) { lines = append(lines, strings.TrimSpace(sprintf(f, a...))) }}
	if _, err := requests.Do(context.Background(), retrying(newFakeTime(), srv.Client(), opts), requests.New(srv.URL+"?key=s3cret"), 0); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "attempt 1/5") || strings.Contains(lines[0], "s3cret") {
		t.Errorf("log lines = %q", lines)
	}
}
