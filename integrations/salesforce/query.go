package salesforce

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// maxURI is the longest query URL sent: the REST API refuses a request
// whose URI and headers pass 16,384 bytes (414 or 431); the headers
// (bearer token, agent) take well under 1 KB.
const maxURI = 15 * 1024

// restQuery reads an object's selected fields (the run's schema: from the
// catalog, so no describe is needed) modified since the bookmark, oldest
// first, following nextRecordsUrl.
func restQuery(object, key string, includeDeleted bool) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		root, err := apiRoot(c)
		if err != nil {
			return err
		}
		where, err := since(c, key)
		if err != nil {
			return err
		}
		soql := "SELECT " + strings.Join(selectList(c, nil), ",") + " FROM " + object + where + " ORDER BY " + key + " ASC"
		endpoint := "/query"
		if includeDeleted {
			endpoint = "/queryAll"
		}
		first := requests.New(root+endpoint).Query("q", soql)
		if n := len(first.URL()); n > maxURI {
			return &integ.Error{Kind: integ.ConfigFailure, Err: integ.ErrConfig,
				Msg: fmt.Sprintf("stream %q: its %d selected fields make a query URL of %d bytes, over the REST API's limit (%d bytes with the headers): add %s to bulk_objects (Bulk API 2.0 sends the query in the request body), or deselect fields in the catalog", object, len(c.Plan().Schema.Properties), n, maxURI, object)}
		}
		return c.EmitPages(first, requests.NextURL("nextRecordsUrl"), "records")
	}
}

// bulkQuery reads an object through a Bulk API 2.0 query job: create it,
// wait until it is complete, then read its CSV results page by page.
func bulkQuery(object, key string, cfg Config) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		root, err := apiRoot(c)
		if err != nil {
			return err
		}
		where, err := since(c, key)
		if err != nil {
			return err
		}
		fields := selectList(c, bulkSelectable)
		op := "query"
		if cfg.IncludeDeleted {
			op = "queryAll"
		}
		job, err := c.Do(requests.New(root + "/jobs/query").Method(http.MethodPost).JSONBody(map[string]string{
			"operation": op,
			"query":     "SELECT " + strings.Join(fields, ",") + " FROM " + object + where,
		}))
		if err != nil {
			return fmt.Errorf("creating a Bulk API 2.0 query job for %s: %w", object, err)
		}
		jobURL := root + "/jobs/query/" + url.PathEscape(job.Get("id").String())
		if err := awaitJob(c, jobURL, pollInterval(cfg)); err != nil {
			return err
		}
		// The results come in pages named by the Sforce-Locator header of
		// the page before: EmitCSV streams each, a CSV body has no paginator.
		locator := ""
		for {
			req := requests.New(jobURL+"/results").Query("maxRecords", strconv.Itoa(pageSize(cfg)))
			if locator != "" {
				req = req.Query("locator", locator)
			}
			next := ""
			err := c.EmitCSV(req, integ.CSVEmptyAsNull(), integ.CSVResponseHeader(func(h http.Header) {
				next = h.Get("Sforce-Locator")
			}))
			if err != nil {
				return err
			}
			if next == "" || next == "null" {
				return nil
			}
			if next == locator {
				return fmt.Errorf("stream %q: %w: Sforce-Locator %q repeats", object, requests.ErrPaginationLoop, next)
			}
			locator = next
		}
	}
}

// awaitJob polls a query job until it is complete; a failed or aborted
// job is an error carrying the API's reason. A job over a huge object may
// run for hours; four are allowed.
func awaitJob(c *integ.HttpContext, jobURL string, every time.Duration) error {
	every = max(every, time.Millisecond) // Poll reads 0 as its 1 s default; a configured 0 (the tests) means at once
	_, err := c.Poll(requests.New(jobURL), requests.PollOptions{First: every, Max: every, Timeout: 4 * time.Hour}, func(st *requests.JSONResponse) (bool, error) {
		switch state := st.Get("state").String(); state {
		case "JobComplete":
			return true, nil
		case "Failed", "Aborted":
			return false, &integ.Error{Kind: integ.SystemFailure,
				Msg: fmt.Sprintf("stream %q: the Bulk API 2.0 query job %s is %s: %s", c.Stream(), st.Get("id").String(), strings.ToLower(state), st.Get("errorMessage").String())}
		}
		return false, nil
	})
	if err != nil && !errors.As(err, new(*integ.Error)) && c.Context().Err() == nil {
		return fmt.Errorf("checking a Bulk API 2.0 query job: %w", err)
	}
	return err
}

// since is the WHERE clause of an object's query: records changed at or
// after the bookmark, or the start date. The bookmark comes from a state
// file, so it must be a datetime before it goes into SOQL.
func since(c *integ.HttpContext, key string) (string, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return "", err
	}
	from := cfg.StartDate
	if b := c.Bookmark(); b.Exists() && b.String() != "" {
		from = b.String()
	}
	clause, err := whereSince(key, from)
	if err != nil {
		return "", &integ.Error{Kind: integ.ConfigFailure, Err: integ.ErrConfig,
			Msg: fmt.Sprintf("stream %q: the bookmark or start_date %q is not an RFC 3339 datetime (2024-01-01T00:00:00Z): fix the state or the config", c.Stream(), from)}
	}
	return clause, nil
}

// whereSince is " WHERE key >= datetime", or "" when from is empty. from
// is parsed and written back in SOQL's form, so nothing else reaches the
// query.
func whereSince(key, from string) (string, error) {
	if from == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, from)
	if err != nil {
		return "", err
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return "", fmt.Errorf("year %d is out of range", y)
	}
	return " WHERE " + key + " >= " + t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
}

// selectList is the fields a query selects: the run's (from the catalog,
// so no describe is needed), those keep accepts, sorted so that a record's
// members come in one order whatever the catalog's.
func selectList(c *integ.HttpContext, keep func(*integ.Schema) bool) []string {
	var fields []string
	for _, p := range c.Plan().Schema.Properties {
		if keep == nil || keep(p.Schema) {
			fields = append(fields, p.Name)
		}
	}
	slices.Sort(fields)
	return fields
}

func pollInterval(cfg Config) time.Duration {
	if cfg.BulkPoll <= 0 {
		return 0
	}
	return time.Duration(cfg.BulkPoll * float64(time.Second))
}

func pageSize(cfg Config) int {
	if cfg.BulkPageSize <= 0 {
		return 50000
	}
	return cfg.BulkPageSize
}
