package integtest_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/requests"
)

type pagesConfig struct {
	BaseURL string       `json:"base_url"`
	APIKey  integ.Secret `json:"api_key"`
}

// pagesSource reads the test API's events with a Bearer token; read says
// what to do with each page's error (nil: return it).
func pagesSource(onErr func(c *integ.HttpContext, err error) error, opts ...integ.SourceOption) *integ.Source {
	return newPagesSource(true, onErr, opts...)
}

// newPagesSource is pagesSource; without an authenticator (viaAuth false)
// the runner sets the header itself, so the session learns no run-time
// secret from it and the engine redacts the key only where it redacts the
// config's secrets (logs and errors, not records).
func newPagesSource(viaAuth bool, onErr func(c *integ.HttpContext, err error) error, opts ...integ.SourceOption) *integ.Source {
	run := func(c *integ.HttpContext) error {
		var cfg pagesConfig
		if err := c.Load(&cfg, nil); err != nil {
			return err
		}
		for page := 1; ; page++ {
			var resp requests.JSONResponse
			req := requests.New(cfg.BaseURL+"/events").SetQuery("page", strconv.Itoa(page))
			if !viaAuth {
				req = req.Header("Authorization", "Bearer "+cfg.APIKey.Reveal())
			}
			if err := c.EmitBatch(req, &resp, "data"); err != nil {
				if onErr != nil {
					return onErr(c, err)
				}
				return err
			}
			if !resp.Get("next_page").Exists() || resp.Get("next_page").Type == 0 {
				return nil
			}
		}
	}
	opts = append([]integ.SourceOption{integ.WithStreams(integ.NewStream("events", testsource.Event{}, run, integ.PrimaryKey("id")))}, opts...)
	if viaAuth {
		opts = append(opts, integ.WithAuth(func(c pagesConfig, _ *integ.Session) (requests.Authenticator, error) {
			return requests.Bearer(c.APIKey.Reveal()), nil
		}))
	}
	return integ.NewSource("pages", pagesConfig{}, opts...)
}

func TestFailuresReportsBrokenSources(t *testing.T) {
	fixture := func() http.Handler {
		s := testsource.NewServer(testsource.WithToken(token), testsource.WithPageSize(2))
		for i := range 5 {
			s.Add(fmt.Sprint("event-", i), t0.Add(time.Duration(i)*time.Minute))
		}
		return s
	}
	config := func(srv *integtest.Server) any { return map[string]any{"base_url": srv.URL, "api_key": token} }
	retry := func(status int) requests.RetryClassifier {
		return func(resp *http.Response, _ []byte, _ time.Time) requests.RetryAdvice {
			if resp.StatusCode == status {
				return requests.RetryAdvice{Action: requests.AdviceRetry}
			}
			return requests.RetryAdvice{}
		}
	}
	tests := []struct {
		name string
		src  *integ.Source
		want string // in one of the failures
	}{
		{name: "good", src: pagesSource(nil)},
		{
			name: "401 retried as if transient",
			src:  pagesSource(nil, integ.WithRetry(requests.RetryOptions{Classifiers: []requests.RetryClassifier{retry(http.StatusUnauthorized)}})),
			want: "sent again after its 401",
		},
		{
			name: "403 retried as if transient",
			src:  pagesSource(nil, integ.WithRetry(requests.RetryOptions{Classifiers: []requests.RetryClassifier{retry(http.StatusForbidden)}})),
			want: "sent again after its 403",
		},
		{
			name: "Retry-After not waited for",
			src:  pagesSource(nil, integ.WithRetry(requests.RetryOptions{MaxRetryAfter: time.Second})),
			want: "(429 on every first attempt): records per stream map[], want map[events:5]",
		},
		{
			name: "5xx not retried",
			src:  pagesSource(nil, integ.WithRetry(requests.RetryOptions{MaxAttempts: 1})),
			want: "(502 then 503 on every request): records per stream map[], want map[events:5]",
		},
		{
			name: "broken body taken for the end",
			src:  pagesSource(func(*integ.HttpContext, error) error { return nil }),
			want: "(a cut-off JSON body): the sync succeeded",
		},
		{
			name: "refusal flattened into an internal error",
			src:  pagesSource(func(_ *integ.HttpContext, err error) error { return errors.New("read failed") }),
			want: `failure_type "system_error", want config_error`,
		},
		{
			// Logs redact config secrets by themselves; a record does not
			// (credentials an authenticator sends are redacted everywhere).
			name: "credentials the server quoted kept in a record",
			src: newPagesSource(false, func(c *integ.HttpContext, err error) error {
				var se *requests.StatusError
				if errors.As(err, &se) {
					c.Emit(testsource.Event{ID: 99, Name: string(se.Body)})
				}
				return err
			}),
			want: "a secret appears in",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.src.Err(); err != nil {
				t.Fatal(err)
			}
			got := failures(t, func(tb testing.TB) { integtest.Failures(tb, tt.src, fixture(), config) })
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("a good source failed:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			wantReported(t, got, tt.want, token)
		})
	}
}

func TestFailuresOfGoodSources(t *testing.T) {
	t.Run("testsource", func(t *testing.T) {
		s := testsource.NewServer(testsource.WithToken(token), testsource.WithPageSize(2))
		for i := range 5 {
			s.Add(fmt.Sprint("event-", i), t0.Add(time.Duration(i)*time.Minute))
		}
		integtest.Failures(t, testsource.Source(), s, func(srv *integtest.Server) any {
			return map[string]any{"base_url": srv.URL, "api_key": token}
		})
	})
	t.Run("pokeapi", func(t *testing.T) {
		integtest.Failures(t, pokeapi.Source(), pokeserver.New(pokeserver.WithCount(5)), func(srv *integtest.Server) any {
			return map[string]any{"base_url": srv.URL + "/api/v2", "page_size": 2}
		})
	})
}
