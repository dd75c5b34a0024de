package requests_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

// TestSlotReleasedOnceByWhicheverComesFirst: a response body holds its
// slot until it is closed, read to EOF or its request's context ends; a
// body that is never closed gives the slot back when its context ends, and
// a later Close does not give it back twice.
func TestSlotReleasedOnceByWhicheverComesFirst(t *testing.T) {
	srv, _ := serve(t, jsonBody(`{"ok":true}`))
	cases := []struct {
		name string
		end  func(body io.ReadCloser, cancel context.CancelFunc)
	}{
		{"closed", func(b io.ReadCloser, _ context.CancelFunc) { b.Close() }},
		{"read to EOF", func(b io.ReadCloser, _ context.CancelFunc) { io.ReadAll(b) }},
		{"dropped, its context ends", func(_ io.ReadCloser, cancel context.CancelFunc) { cancel() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			slots := requests.NewSlots(1)
			d := requests.Chain(requests.DefaultClient(), requests.LimitConcurrency(slots))
			send := func(ctx context.Context) (*http.Response, error) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				req = req.WithContext(requests.StreamBody(ctx))
				return d.Do(req)
			}
			ctx1, cancel1 := context.WithCancel(context.Background())
			defer cancel1()
			first, err := send(ctx1)
			if err != nil {
				t.Fatal(err)
			}
			tc.end(first.Body, cancel1)

			// The slot is free again: a second request gets it. The deadline
			// only bounds a broken release (the test would hang).
			ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel2()
			second, err := send(ctx2)
			if err != nil {
				t.Fatalf("the first body's slot was not released: %v", err)
			}
			// Ending the first body again (Close after its context ended)
			// must not free the slot the second request now holds.
			first.Body.Close()
			ctx3, cancel3 := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel3()
			if _, err := send(ctx3); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a third request got a slot while the second holds the only one: err %v", err)
			}
			second.Body.Close()
		})
	}
}
