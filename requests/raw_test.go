package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingBody counts the bytes read from it.
type countingBody struct {
	r    io.Reader
	read *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}
func (countingBody) Close() error { return nil }

func TestDoRawLeavesTheBodyUnreadAndRetriesBeforeIt(t *testing.T) {
	var read atomic.Int64
	var calls atomic.Int32
	body := strings.Repeat("a,b\n", 1000)
	base := DoerFunc(func(req *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			return &http.Response{StatusCode: 503, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("busy")), Request: req}, nil
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/csv"}}, Body: countingBody{strings.NewReader(body), &read}, Request: req}, nil
	})
	d := Chain(base, Retry(RetryOptions{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := DoRaw(ctx, d, New("https://api.example.com/export?api_key=SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if calls.Load() != 2 {
		t.Errorf("%d attempts, want 2 (the 503 is retried)", calls.Load())
	}
	if n := read.Load(); n != 0 {
		t.Fatalf("%d bytes were read before DoRaw returned: the body must stream", n)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != body {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if resp.Header.Get("Content-Type") != "text/csv" || resp.Status != 200 {
		t.Errorf("response %d %v", resp.Status, resp.Header)
	}
}

func TestDoRawStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"no such job"}`, http.StatusNotFound)
	}))
	defer srv.Close()
	_, err := DoRaw(context.Background(), srv.Client(), New(srv.URL+"/jobs/1?token=SECRET"))
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 404 || !strings.Contains(se.BodyExcerpt, "no such job") {
		t.Fatalf("err = %v, want a 404 StatusError with the body excerpt", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error shows the secret: %v", err)
	}
}

// A body that breaks mid-way is reported, naming the request and offset,
// and not retried: the caller may have emitted what it read already.
func TestDoRawBodyInterruptedIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Length", "100000")
		fmt.Fprint(w, strings.Repeat("x", 1000))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	d := Chain(srv.Client(), Retry(RetryOptions{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := DoRaw(ctx, d, New(srv.URL+"/big?key=SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, ErrBodyInterrupted) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read %d bytes, err = %v; want ErrBodyInterrupted wrapping the cause", n, err)
	}
	if !strings.Contains(err.Error(), "GET ") || !strings.Contains(err.Error(), "after 1000 bytes") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error should name the redacted request and the offset: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests, want 1: a streamed body is not retried mid-way", calls.Load())
	}
}
