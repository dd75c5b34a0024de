package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// streamBodyKey marks a request context whose 2xx body the caller reads as
// a stream.
type streamBodyKey struct{}

// StreamBody marks ctx so that Retry passes a 2xx body on unread instead of
// reading it within the attempt (see RawResponse for what that means for
// retries). Requests sent with DoRaw are marked already.
func StreamBody(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamBodyKey{}, true)
}

func streamsBody(ctx context.Context) bool {
	v, _ := ctx.Value(streamBodyKey{}).(bool)
	return v
}

// RawResponse is a 2xx response whose body has not been read: a CSV export
// or a JSON Lines file, too large to hold in memory.
//
// Retries: the request went through the whole Doer stack, so everything up
// to the response headers (429, 5xx, resets, timeouts) was retried as
// usual. A body that fails once it has started to arrive is NOT retried:
// the records before the failure may already be out, so only the caller
// can resume (from its last checkpoint). Body's read error then wraps
// ErrBodyInterrupted and names the request and the byte offset.
type RawResponse struct {
	Status int
	Header http.Header
	URL    string        // the request URL (unredacted)
	Body   io.ReadCloser // the caller must close it
}

// ErrBodyInterrupted means a streamed body failed after it had started.
var ErrBodyInterrupted = errors.New("requests: response body interrupted")

// DoRaw builds r, sends it with d and returns the response with its body
// unread. A non-2xx response is a *StatusError, as with Do.
func DoRaw(ctx context.Context, d Doer, r *Request) (*RawResponse, error) {
	req, err := r.Build(StreamBody(ctx))
	if err != nil {
		return nil, err
	}
	resp, err := d.Do(req)
	if err != nil {
		var ae *AttemptsError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, RedactURL(req.URL.String()), stripURLError(err))
	}
	if resp.Request == nil {
		resp.Request = req
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, err := ReadJSON(resp, errorBodyLimit) // closes the body; builds the StatusError
		return nil, err
	}
	method, rawURL := requestOf(resp)
	return &RawResponse{
		Status: resp.StatusCode,
		Header: resp.Header,
		URL:    rawURL,
		Body:   &rawBody{rc: resp.Body, name: method + " " + RedactURL(rawURL)},
	}, nil
}

// rawBody names the request in read errors and counts the bytes read.
type rawBody struct {
	rc   io.ReadCloser
	name string
	n    int64
}

func (b *rawBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w after %d bytes: %w", b.name, ErrBodyInterrupted, b.n, stripURLError(err))
	}
	return n, err
}

func (b *rawBody) Close() error { return b.rc.Close() }
