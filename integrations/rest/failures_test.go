package rest

import (
	"testing"

	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	integtest.Failures(t, Source(), newGitHubAPI(3), func(srv *integtest.Server) any { return githubConfig(t, srv) })
}
