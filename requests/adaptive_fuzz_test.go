package requests_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"testing"

	"github.com/integ/integ/requests"
)

// FuzzBudgetReaders feeds server-controlled rate-limit headers to every
// reader and to the limiter: no panic, no negative or infinite budget, and
// a wait is never negative.
func FuzzBudgetReaders(f *testing.F) {
	f.Add("32/40", "api-usage=4990/5000", "4999", "5000", "1714979289")
	f.Add("40/40", "per-app-api-usage=1/10(appName=x),api-usage=1/1", "0", "", "30")
	f.Add("1e400/1", "api-usage=-1/5", "NaN", "Inf", "-5")
	f.Add("/", "api-usage=", "", "", "")
	f.Fuzz(func(t *testing.T, shopify, sforce, remaining, limit, reset string) {
		h := http.Header{}
		h.Set("X-Shopify-Shop-Api-Call-Limit", shopify)
		h.Set("Sforce-Limit-Info", sforce)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Reset", reset)
		ft := newFakeTime()
		readers := []requests.BudgetReader{requests.ShopifyCallLimit(0), requests.SalesforceLimitInfo(), requests.RateLimitRemaining()}
		for _, read := range readers {
			b, ok := read(h, ft.Now())
			if !ok {
				continue
			}
			for _, v := range []float64{b.Used, b.Limit, b.Leak} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("budget %+v from %v", b, h)
				}
			}
			if b.Limit <= 0 {
				t.Fatalf("limit %v accepted", b.Limit)
			}
			a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{read}, Clock: ft, Sleep: ft.Sleep})
			a.Observe(h)
			for range 3 {
				_ = a.Wait(context.Background())
			}
			for _, w := range ft.Waits() {
				if w < 0 {
					t.Fatalf("negative wait %s for %v", w, h)
				}
			}
		}
	})
}

// FuzzSetBodyField: a POST-body cursor set into any body either fails at
// Build or yields a JSON object holding the value, with the other fields.
func FuzzSetBodyField(f *testing.F) {
	f.Add([]byte(`{"limit":2,"after":"1"}`), "after", []byte(`"20"`))
	f.Add([]byte(``), "after", []byte(`7`))
	f.Add([]byte(`{"a":{"b":[1,2]},"a":3}`), "a", []byte(`null`))
	f.Add([]byte(`[]`), "x", []byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte, field string, value []byte) {
		r := requests.New("https://api.test/search").Method("POST").Body(body)
		req, err := r.Clone().SetBodyField(field, value).Build(context.Background())
		if err != nil {
			return
		}
		got, _ := io.ReadAll(req.Body)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(got, &obj); err != nil {
			t.Fatalf("%s + %q=%s gave %s: %v", body, field, value, got, err)
		}
		if _, ok := obj[field]; !ok {
			t.Fatalf("%s + %q=%s lost the field: %s", body, field, value, got)
		}
	})
}
