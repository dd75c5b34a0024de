package sobjects

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Config is the source's config.
type Config struct {
	InstanceURL string       `json:"instance_url" title:"Instance URL" description:"Root URL of the org." format:"uri" examples:"https://example.my.salesforce.com"`
	AccessToken integ.Secret `json:"access_token,omitempty" title:"Access token" description:"OAuth access token, sent as a bearer token."`
}

// Source declares the integration: a static "limits" stream and one stream
// per queryable object the org lists, each incremental on SystemModstamp,
// its schema from the object's describe.
func Source() *integ.Source {
	return integ.NewSource("sobjects", Config{},
		integ.WithTitle("SObjects"),
		integ.WithDescription("Every object of a Salesforce-like org, its schema from its describe."),
		integ.WithMiddleware(func(cfg *integ.Config) (requests.Middleware, error) {
			var c Config
			if err := cfg.Decode(&c); err != nil {
				return nil, err
			}
			if c.AccessToken == "" {
				return nil, nil
			}
			return requests.Authorize(requests.Bearer(c.AccessToken.Reveal())), nil
		}),
		integ.WithStreams(
			integ.NewStream("limits", Limit{}, readLimits, integ.PrimaryKey("name"),
				integ.Description("The org's API limits and what remains of them.")),
		),
		integ.WithStreamList(listObjects),
		integ.WithSchemaResolver(describe),
	)
}

// Limit is one of the org's limits.
type Limit struct {
	Name      string `json:"name"`
	Max       int64  `json:"max"`
	Remaining int64  `json:"remaining"`
}

func endpoint(c *integ.HttpContext, path string) (*requests.Request, error) {
	var cfg Config
	if err := c.Load(&cfg, nil); err != nil {
		return nil, err
	}
	return requests.New(strings.TrimRight(cfg.InstanceURL, "/") + APIPath + path), nil
}

func readLimits(c *integ.HttpContext) error {
	req, err := endpoint(c, "/limits")
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	var failed error
	resp.Get("@this").ForEach(func(k, v gjson.Result) bool {
		failed = c.Emit(Limit{Name: k.String(), Max: v.Get("Max").Int(), Remaining: v.Get("Remaining").Int()})
		return failed == nil
	})
	return failed
}

// listObjects is the one cheap call: the names of the queryable objects.
// Their schemas are left to describe.
func listObjects(c *integ.HttpContext) ([]*integ.Stream, error) {
	req, err := endpoint(c, "/sobjects")
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("listing the org's objects: %w", err)
	}
	var out []*integ.Stream
	for _, o := range resp.Get("sobjects").Array() {
		if !o.Get("queryable").Bool() {
			continue
		}
		name := o.Get("name").String()
		out = append(out, integ.NewStream(name, nil, query(name),
			integ.PrimaryKey("Id"),
			integ.Incremental("SystemModstamp"),
			integ.Sorted(),
			integ.Description(o.Get("label").String()),
		))
	}
	return out, nil
}

// describe turns an object's describe into a JSON Schema.
func describe(c *integ.HttpContext, name string) (*integ.Schema, error) {
	req, err := endpoint(c, "/sobjects/"+url.PathEscape(name)+"/describe")
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	props := map[string]any{}
	for _, f := range resp.Get("fields").Array() {
		props[f.Get("name").String()] = fieldSchema(f.Get("type").String(), f.Get("nillable").Bool())
	}
	raw, err := json.Marshal(map[string]any{"type": "object", "properties": props})
	if err != nil {
		return nil, err
	}
	sch := new(integ.Schema)
	if err := sch.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	return sch, nil
}

// fieldSchema maps a describe field type to JSON Schema.
func fieldSchema(typ string, nillable bool) map[string]any {
	s := map[string]any{}
	t := "string"
	switch typ {
	case "boolean":
		t = "boolean"
	case "int":
		t = "integer"
	case "double", "currency", "percent":
		t = "number"
	case "date":
		s["format"] = "date"
	case "datetime":
		s["format"] = "date-time"
	}
	if nillable {
		s["type"] = []string{t, "null"}
	} else {
		s["type"] = t
	}
	return s
}

// query reads an object's selected fields (the run's schema: from the
// catalog, so no describe is needed) modified since the bookmark, oldest
// first, following nextRecordsUrl.
func query(name string) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		fields := c.Plan().Schema.PropertyNames()
		soql := fmt.Sprintf("SELECT %s FROM %s", strings.Join(fields, ","), name)
		if b := c.Bookmark(); b.Exists() {
			soql += " WHERE SystemModstamp >= " + b.String()
		}
		soql += " ORDER BY SystemModstamp"
		req, err := endpoint(c, "/query")
		if err != nil {
			return err
		}
		return c.EmitPages(req.Query("q", soql), requests.NextURL("nextRecordsUrl"), "records")
	}
}
