package github

import (
	"testing"

	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	f := acme()
	integtest.Failures(t, Source(), f, func(srv *integtest.Server) any {
		f.baseURL = srv.URL
		return config(srv, nil)
	})
}
