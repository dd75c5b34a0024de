package requests_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

func TestReadJSON(t *testing.T) {
	htmlPage := "<!DOCTYPE html>\n<html>\n  <body>\n\tGateway   error\n</body></html>"
	tests := []struct {
		name     string
		status   int
		ctype    string
		body     string
		maxBytes int64
		wantErr  error  // sentinel, or nil
		wantStat int    // StatusError.Status expected when non-zero
		wantBody string // expected Body on success
		wantMsg  string // substring of the error message
	}{
		{name: "valid", status: 200, ctype: "application/json", body: `{"a":[1,2]}`, wantBody: `{"a":[1,2]}`},
		{name: "201 valid", status: 201, body: `[]`, wantBody: `[]`},
		{name: "truncated", status: 200, ctype: "application/json", body: `{"a":[1,2`, wantErr: requests.ErrNotJSON, wantMsg: `{"a":[1,2`},
		{name: "html with 200", status: 200, ctype: "text/html", body: htmlPage, wantErr: requests.ErrNotJSON,
			wantMsg: `Content-Type "text/html"`},
		{name: "too large", status: 200, body: `{"a":"` + strings.Repeat("x", 100) + `"}`, maxBytes: 50,
			wantErr: requests.ErrTooLarge, wantMsg: "limit 50 bytes"},
		{name: "exactly the limit", status: 200, body: `{"a":1}`, maxBytes: 7, wantBody: `{"a":1}`},
		{name: "204 is null", status: 204, wantBody: "null"},
		{name: "empty 200 is null", status: 200, wantBody: "null"},
		{name: "404 excerpt", status: 404, body: "{\n  \"message\": \"Not Found\"\n}", wantStat: 404,
			wantMsg: `404 Not Found: { "message": "Not Found" }`},
		{name: "500 long excerpt", status: 500, body: strings.Repeat("e", 1000), wantStat: 500, wantMsg: strings.Repeat("e", 200) + "..."},
		{name: "non-2xx html", status: 502, body: htmlPage, wantStat: 502, wantMsg: "<html> <body> Gateway error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			url := srv.URL + "/items?api_key=s3cret"
			resp, err := requests.Do(context.Background(), srv.Client(), requests.New(url), tt.maxBytes)

			if tt.wantErr == nil && tt.wantStat == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if string(resp.Body) != tt.wantBody || resp.Status != tt.status || resp.URL != url {
					t.Errorf("got %d %s %q, want %d %s %q", resp.Status, resp.URL, resp.Body, tt.status, url, tt.wantBody)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, body %q", resp.Body)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if tt.wantStat != 0 {
				var se *requests.StatusError
				if !errors.As(err, &se) {
					t.Fatalf("error %T %v is not a *StatusError", err, err)
				}
				if se.Status != tt.wantStat || se.Attempts != 1 || se.Method != "GET" {
					t.Errorf("StatusError = %+v", se)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q lacks %q", msg, tt.wantMsg)
			}
			if strings.Contains(msg, "s3cret") || !strings.Contains(msg, "api_key=REDACTED") {
				t.Errorf("error %q must name the redacted URL", msg)
			}
			if strings.ContainsAny(msg, "\n\t") {
				t.Errorf("error %q spans lines", msg)
			}
		})
	}
}

func TestBigIntegerPreserved(t *testing.T) {
	const body = `{"data":[{"id":9007199254740993,"amount":1.10}]}`
	srv := httptest.NewServer(jsonBody(body))
	defer srv.Close()
	resp, err := requests.Do(context.Background(), srv.Client(), requests.New(srv.URL), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Get("data.0.id").Raw; got != "9007199254740993" {
		t.Errorf("id raw = %s", got)
	}
	if got := resp.Get("data.0.amount").Raw; got != "1.10" {
		t.Errorf("amount raw = %s", got)
	}
	if string(resp.Raw()) != body {
		t.Errorf("Raw() = %s", resp.Raw())
	}
}

func TestStatusErrorMessage(t *testing.T) {
	e := &requests.StatusError{Method: "GET", URL: "https://api/x?api_key=REDACTED", Status: 503, Attempts: 5, BodyExcerpt: "busy"}
	const want = "GET https://api/x?api_key=REDACTED: 503 Service Unavailable after 5 attempts: busy"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &requests.StatusError{Method: "GET", URL: "https://api/x", Status: 404, Attempts: 1}
	if got := e.Error(); got != "GET https://api/x: 404 Not Found" {
		t.Errorf("Error() = %q", got)
	}
}

func TestDoTransportErrorRedacted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/x?token=s3cret"
	srv.Close() // connection refused
	_, err := requests.Do(context.Background(), srv.Client(), requests.New(url), 0)
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.HasPrefix(msg, "GET http") {
		t.Errorf("error %q: want method + redacted URL prefix", msg)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api/x?api_key=abc&page=2", "https://api/x?api_key=REDACTED&page=2"},
		{"https://api/x?API_KEY=abc&ApiKey=d&KEY=e", "https://api/x?API_KEY=REDACTED&ApiKey=REDACTED&KEY=REDACTED"},
		{"https://api/x?token=a&access_token=b&secret=c&password=d&client_secret=e",
			"https://api/x?token=REDACTED&access_token=REDACTED&secret=REDACTED&password=REDACTED&client_secret=REDACTED"},
		{"https://api/x?signature=a&sig=b&auth=c&Authorization=d&X-Amz-Signature=e&refresh_token=f",
			"https://api/x?signature=REDACTED&sig=REDACTED&auth=REDACTED&Authorization=REDACTED&X-Amz-Signature=REDACTED&refresh_token=REDACTED"},
		{"https://user:pa55@api/x?a=1", "https://user:REDACTED@api/x?a=1"},
		{"https://user@api/x", "https://user@api/x"},
		{"https://api/x?next_page_token=abc&cursor=d", "https://api/x?next_page_token=abc&cursor=d"},
		{"https://api/x?a%5Fkey=1&api%5Fkey=2", "https://api/x?a%5Fkey=1&api%5Fkey=REDACTED"},
		{"https://api/x?token", "https://api/x?token"},
		{"https://api/x?token=a#frag", "https://api/x?token=REDACTED#frag"},
		{"::not a url?key=v", "::not a url?key=REDACTED"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := requests.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"token abc and abc", []string{"abc"}, "token REDACTED and abc"},
		{"abc123 and abc123", []string{"abc123"}, "REDACTED and REDACTED"},
		{"nothing", []string{""}, "nothing"},
		{"long abcdef", []string{"abc", "abcdef"}, "long REDACTED"},
		{"q=a%2Bb+c", []string{"a+b c"}, "q=REDACTED"},
		{"none", nil, "none"},
	}
	for _, tt := range tests {
		if got := requests.Redact(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.in, tt.secrets, got, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a\n\n b\t\r\nc  ", "a b c"},
		{"\x00bin\xffary\x1b", "binary"},
		{strings.Repeat("é", 300), strings.Repeat("é", 100) + "..."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := requests.Excerpt([]byte(tt.in)); got != tt.want {
			t.Errorf("Excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
