package integ

import (
	"encoding/json"

	"github.com/tidwall/gjson"
)

// Every source's config schema ends with these optional settings, so a user
// can tune a run from config alone (Airbyte passes nothing else).
var frameworkSettings = []struct {
	name, schema string
}{
	{"requests_per_second", `{"type":"number","title":"Requests per second","description":"Client-side limit on requests to the API, shared by every stream (0: the integration's default).","minimum":0}`},
	{"max_concurrent_requests", `{"type":"integer","title":"Concurrent requests","description":"How many requests may be in flight at once, across every stream and partition (default: 8, or two per parallel stream, or enough to reach requests_per_second at 1 s a request up to 64, whichever is most).","minimum":1,"maximum":256}`},
	{"max_parallel_streams", `{"type":"integer","title":"Parallel streams","description":"How many streams sync at once (default: 8 when requests_per_second is set, so that the streams together reach the rate; else 1).","minimum":1,"maximum":64}`},
	{"validate_records", `{"type":"string","title":"Validate records","description":"Check every record against its stream's schema: off (fastest), warn (log and emit) or fail (stop the stream).","enum":["off","warn","fail"],"default":"off"}`},
	{"max_attempts", `{"type":"integer","title":"Attempts per request","description":"Tries per request before a sync fails (429, 5xx, timeouts and resets are retried with backoff).","minimum":1,"maximum":20}`},
}

// addFrameworkSettings appends the run settings the integration's config
// does not already declare.
func addFrameworkSettings(s *Schema) error {
	for _, f := range frameworkSettings {
		if s.Property(f.name) != nil {
			continue
		}
		p := new(Schema)
		if err := json.Unmarshal([]byte(f.schema), p); err != nil {
			return err
		}
		order := len(s.Properties)
		p.Order = &order
		s.Properties = append(s.Properties, Property{Name: f.name, Schema: p})
	}
	return nil
}

// runSettings are the framework settings read from a validated config.
type runSettings struct {
	rps         float64
	concurrent  int // max_concurrent_requests; 0: see concurrencyLimit
	parallel    int
	maxAttempts int
	validate    string
}

func (c *Config) settings() runSettings {
	return runSettings{
		rps:         gjson.GetBytes(c.raw, "requests_per_second").Float(),
		concurrent:  int(gjson.GetBytes(c.raw, "max_concurrent_requests").Int()),
		parallel:    int(gjson.GetBytes(c.raw, "max_parallel_streams").Int()),
		maxAttempts: int(gjson.GetBytes(c.raw, "max_attempts").Int()),
		validate:    gjson.GetBytes(c.raw, "validate_records").String(),
	}
}
