package integtest_test

import (
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
)

func TestRefusesConfigs(t *testing.T) {
	src := memSource(items(false, func(id int) int { return id + 1 }, emitItem))
	if got := failures(t, func(tb testing.TB) { integtest.RefusesConfigs(tb, src, `{"count":"six"}`, `[]`) }); len(got) != 0 {
		t.Errorf("refused configs reported: %v", got)
	}
	got := failures(t, func(tb testing.TB) {
		integtest.RefusesConfigs(tb, src, `{"count":"six"}`, `{"api_key":"k3y-1234","count":7}`)
	})
	if len(got) != 1 || !strings.Contains(got[0], `config {"api_key":"k3y-1234","count":7} accepted`) {
		t.Errorf("an accepted config is not reported: %v", got)
	}
}

func TestDecodeConfig(t *testing.T) {
	src := memSource(items(false, func(id int) int { return id + 1 }, emitItem))
	type config struct {
		Count int `json:"count"`
	}
	if c := integtest.DecodeConfig[config](t, src, `{"api_key":"k3y-1234"}`); c.Count != 6 {
		t.Errorf("the default count is not applied: %+v", c)
	}
	got := failures(t, func(tb testing.TB) { integtest.DecodeConfig[config](tb, src, `{"count":"six"}`) })
	if len(got) != 1 || !strings.Contains(got[0], `config {"count":"six"}`) {
		t.Errorf("a refused config is not reported: %v", got)
	}
}
