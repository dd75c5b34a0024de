package integ

import (
	"encoding/json"
	"testing"
)

func TestConfigOfDecodesOnce(t *testing.T) {
	type cfgT struct {
		Base string `json:"base_url"`
		Size int    `json:"page_size"`
	}
	cfg := &Config{raw: json.RawMessage(`{"base_url":"http://x.test","page_size":5}`)}
	c := &HttpContext{cfg: cfg}
	got, err := ConfigOf[cfgT](c)
	if err != nil || got.Base != "http://x.test" || got.Size != 5 {
		t.Fatalf("ConfigOf = %+v, %v", got, err)
	}
	// A second call must come from the cache, not from the raw JSON: change
	// the raw document and the answer must not move.
	cfg.raw = json.RawMessage(`{"base_url":"http://changed.test","page_size":9}`)
	got.Size = 100 // a copy: changing it changes nothing for others
	again, err := ConfigOf[cfgT](c)
	if err != nil || again.Base != "http://x.test" || again.Size != 5 {
		t.Fatalf("second ConfigOf = %+v, %v; want the first decoding, unchanged", again, err)
	}
	if _, err := ConfigOf[cfgT](&HttpContext{}); err == nil {
		t.Fatal("ConfigOf without a config: no error")
	}
	type wrong struct {
		Size string `json:"page_size"`
	}
	if _, err := ConfigOf[wrong](c); err == nil {
		t.Fatal("ConfigOf into a type the config does not fit: no error")
	}
}
