package testsource

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Config is the test source's config.
type Config struct {
	BaseURL  string       `json:"base_url" title:"Base URL" description:"Root URL of the test API." format:"uri" examples:"http://127.0.0.1:8080"`
	APIKey   integ.Secret `json:"api_key,omitempty" title:"API key" description:"Bearer token, when the server wants one."`
	PageSize int          `json:"page_size" title:"Page size" description:"Ignored by the server; kept to show defaults." default:"2" minimum:"1"`
}

// Source declares the test integration: "events" (incremental on
// updated_at, sorted, with an estimate from "total") and "users" (full
// refresh).
func Source() *integ.Source {
	return integ.NewSource("testsource", Config{},
		integ.WithTitle("Test source"),
		integ.WithDescription("Events and users from integ's test API."),
		integ.WithDocumentationURL("https://example.com/integ/testsource"),
		integ.WithMiddleware(func(cfg *integ.Config) (requests.Middleware, error) {
			var c Config
			if err := cfg.Decode(&c); err != nil {
				return nil, err
			}
			if c.APIKey == "" {
				return nil, nil
			}
			return requests.Authorize(requests.Bearer(c.APIKey.Reveal())), nil
		}),
		integ.WithStreams(
			integ.NewStream("events", Event{}, readEvents,
				integ.PrimaryKey("id"),
				integ.Incremental("updated_at"),
				integ.Sorted(),
				integ.EstimateFrom("total"),
				integ.Description("Events, oldest update first."),
			),
			integ.NewStream("users", User{}, readUsers,
				integ.PrimaryKey("id"),
				integ.Description("Every user."),
			),
		),
	)
}

func endpoint(c *integ.HttpContext, path string) (*requests.Request, error) {
	var cfg Config
	if err := c.Load(&cfg, nil); err != nil {
		return nil, err
	}
	return requests.New(strings.TrimRight(cfg.BaseURL, "/") + path), nil
}

// readEvents asks for the events updated at or after the bookmark.
func readEvents(c *integ.HttpContext) error {
	req, err := endpoint(c, "/events")
	if err != nil {
		return err
	}
	if b := c.Bookmark(); b.Exists() {
		t, err := time.Parse(time.RFC3339Nano, b.String())
		if err != nil {
			return integ.ConfigErrorf("the state's updated_at bookmark %q is not an RFC 3339 time: reset the stream's state", b.String())
		}
		req = req.Query("updated_since", t.UTC().Format(time.RFC3339Nano))
	}
	return emitPages(c, req)
}

func readUsers(c *integ.HttpContext) error {
	req, err := endpoint(c, "/users")
	if err != nil {
		return err
	}
	return emitPages(c, req)
}

// emitPages follows next_page one page at a time. (It does not use
// HttpContext.EmitPages so that a failing page is always the last request
// made: tests count on it.)
func emitPages(c *integ.HttpContext, req *requests.Request) error {
	for page := 1; ; {
		var resp requests.JSONResponse
		if err := c.EmitBatch(req.Clone().SetQuery("page", strconv.Itoa(page)), &resp, "data"); err != nil {
			return err
		}
		next := resp.Get("next_page")
		if next.Type != gjson.Number {
			return nil
		}
		if int(next.Int()) <= page {
			return fmt.Errorf("stream %q: next_page %d does not move forward from page %d", c.Stream(), next.Int(), page)
		}
		page = int(next.Int())
	}
}
