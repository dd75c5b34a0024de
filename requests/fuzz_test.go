package requests_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/integ/integ/requests"
)

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`{"id":9007199254740993}`), 200, "application/json")
	f.Add([]byte(`{"a":[1,2`), 200, "application/json")
	f.Add([]byte("<html>\n<body>oops</body></html>"), 200, "text/html")
	f.Add([]byte(""), 204, "")
	f.Add([]byte("\xff\xfe\x00bad"), 502, "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, code int, ctype string) {
		if code < 100 || code > 999 {
			code = 200 + code&1
		}
		u, _ := url.Parse("https://api.test/x?api_key=s3cret")
		resp := &http.Response{
			StatusCode: code,
			Header:     http.Header{"Content-Type": {ctype}},
			Body:       io.NopCloser(bytes.NewReader(body)),
			Request:    &http.Request{Method: http.MethodGet, URL: u},
		}
		const limit = 1 << 10
		got, err := requests.ReadJSON(resp, limit)
		if err != nil {
			var se *requests.StatusError
			switch {
			case errors.As(err, &se):
				if code >= 200 && code <= 299 || se.Status != code {
					t.Fatalf("StatusError %d for status %d", se.Status, code)
				}
				if len(se.BodyExcerpt) > 210 || bytes.ContainsAny([]byte(se.BodyExcerpt), "\n\r\t") {
					t.Fatalf("excerpt not one short line: %q", se.BodyExcerpt)
				}
			case errors.Is(err, requests.ErrTooLarge):
				if len(body) <= limit {
					t.Fatalf("ErrTooLarge for %d bytes", len(body))
				}
			case errors.Is(err, requests.ErrNotJSON):
				if gjson.ValidBytes(body) {
					t.Fatalf("ErrNotJSON for valid %q", body)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("s3cret")) {
				t.Fatalf("error leaks secret: %v", err)
			}
			return
		}
		if code < 200 || code > 299 || len(body) > limit {
			t.Fatalf("accepted status %d with %d bytes", code, len(body))
		}
		if len(body) == 0 && string(got.Body) != "null" || len(body) > 0 && !bytes.Equal(got.Body, body) {
			t.Fatalf("body %q, read %q", body, got.Body)
		}
		if !gjson.ValidBytes(got.Body) {
			t.Fatalf("invalid JSON accepted: %q", got.Body)
		}
	})
}
