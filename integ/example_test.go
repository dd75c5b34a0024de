package integ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

type Config struct {
	BaseURL  string       `json:"base_url" title:"Base URL" format:"uri"`
	APIKey   integ.Secret `json:"api_key" title:"API key"`
	PageSize int          `json:"page_size" default:"2" minimum:"1"`
}

type Book struct {
	ID    int64    `json:"id"`
	Title string   `json:"title"`
	Year  *int     `json:"year"`
	Tags  []string `json:"tags"`
}

// A source is a config type, streams and runners; any protocol can then run
// it. This one pages through /books with offset and limit.
func ExampleNewSource() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") == "0" {
			fmt.Fprint(w, `{"books":[{"id":1,"title":"Dune","year":1965},{"id":2,"title":"Solaris"}]}`)
		} else {
			fmt.Fprint(w, `{"books":[]}`)
		}
	}))
	defer api.Close()

	books := func(c *integ.HttpContext) error {
		var cfg Config
		if err := c.Load(&cfg, nil); err != nil {
			return err
		}
		first := requests.New(cfg.BaseURL+"/books").
			Query("offset", "0").
			Query("limit", strconv.Itoa(cfg.PageSize)).
			Header("Authorization", "Token "+cfg.APIKey.Reveal())
		return c.EmitPages(first, requests.Offset("offset", "limit", cfg.PageSize), "books")
	}
	src := integ.NewSource("books", Config{},
		integ.WithStreams(integ.NewStream("books", Book{}, books, integ.PrimaryKey("id"))))

	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + api.URL + `","api_key":"s3cr3t"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = src.Sync(context.Background(), integ.SyncOptions{
		Config:   cfg,
		Protocol: plain{},
		Output:   driver.NewOutput(os.Stdout),
	})
	fmt.Println("error:", err)
	// Output:
	// books {"id":1,"title":"Dune","year":1965}
	// books {"id":2,"title":"Solaris"}
	// error: <nil>
}

// plain is a minimal Protocol: one "stream record" line per record.
type plain struct{}

func (plain) Stream(run *driver.Stream) driver.StreamEncoder { return plainEncoder(run.Name) }

type plainEncoder string

func (e plainEncoder) Start(dst []byte) []byte                       { return dst }
func (e plainEncoder) Page(dst []byte, _ time.Time) []byte           { return dst }
func (e plainEncoder) State(dst []byte, _ *driver.Checkpoint) []byte { return dst }
func (e plainEncoder) End(dst []byte, _ *driver.StreamResult) []byte { return dst }
func (e plainEncoder) Record(dst, rec []byte) []byte {
	dst = append(dst, e...)
	dst = append(dst, ' ')
	dst = append(dst, rec...)
	return append(dst, '\n')
}

// A record type's schema: pointers, slices and maps are nullable.
func ExampleSchemaOf() {
	s, _ := integ.SchemaOf(Book{})
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	// Output:
	// {"type":"object","properties":{"id":{"type":"integer"},"title":{"type":"string"},"year":{"type":["integer","null"]},"tags":{"type":["array","null"],"items":{"type":"string"}}}}
}

// A config's schema: secrets are marked, defaults make a field optional.
func ExampleConfigSchemaOf() {
	s, _ := integ.ConfigSchemaOf(Config{})
	fmt.Println(s.Required, s.Property("api_key").Secret, s.Property("page_size").Default)
	// Output:
	// [base_url api_key] true 2
}

// A secret never shows, whichever way it is printed.
func ExampleSecret() {
	key := integ.Secret("s3cr3t")
	b, _ := json.Marshal(map[string]any{"key": key})
	fmt.Println(key, fmt.Sprintf("%q %#v", key, key), string(b), len(key.Reveal()))
	// Output:
	// ********** ********** ********** {"key":"**********"} 6
}
