package integtest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/integ/integ/integtest"
)

// okFixture answers "ok" unless a fault answers first.
type okFixture struct{ integtest.Faults }

func (f *okFixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.Answer(w, r) {
		return
	}
	io.WriteString(w, "ok")
}

func TestFaults(t *testing.T) {
	f := &okFixture{}
	f.Fault = func(r *http.Request, n int) (int, http.Header, string, bool) {
		if n == 2 {
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"3"}}, "busy", true
		}
		return 0, nil, "", false
	}
	srv := integtest.NewServer(t, f)
	get := func() (int, string, string) {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	for i, want := range []struct {
		status      int
		after, body string
	}{{200, "", "ok"}, {503, "3", "busy"}, {200, "", "ok"}} {
		if s, a, b := get(); s != want.status || a != want.after || b != want.body {
			t.Errorf("request %d: %d %q %q, want %+v", i+1, s, a, b, want)
		}
	}
	f.SetFault(func(*http.Request, int) (int, http.Header, string, bool) { return http.StatusTeapot, nil, "", true })
	if s, _, _ := get(); s != http.StatusTeapot {
		t.Errorf("after SetFault: %d", s)
	}
	if n := f.Requests(); n != 4 {
		t.Errorf("%d requests counted, want 4", n)
	}
}
