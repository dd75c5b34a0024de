package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/integ/integ/requests"
)

// compactLimit bounds the bodies compactJSON rewrites; larger ones pass
// through untouched (and meet the framework's own size limit).
const compactLimit = requests.DefaultMaxResponseBytes

// compactJSON rewrites pretty-printed JSON response bodies (json-server and
// many others indent theirs) on one line. The framework emits each record's
// raw bytes as they came, and Singer and Airbyte messages are one per line:
// a record that spans lines would break every target. Bodies that are not
// JSON, or are already on one line, pass through unchanged.
func compactJSON(next requests.Doer) requests.Doer {
	return requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.Do(req)
		if err != nil || resp.Body == nil {
			return resp, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, compactLimit+1))
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		if int64(len(body)) > compactLimit {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
			return resp, nil
		}
		resp.Body.Close()
		if bytes.ContainsAny(body, "\r\n") {
			var buf bytes.Buffer
			buf.Grow(len(body))
			if json.Compact(&buf, body) == nil {
				body = buf.Bytes()
				resp.ContentLength = int64(len(body))
				if resp.Header != nil && resp.Header.Get("Content-Length") != "" {
					resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
				}
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	})
}
