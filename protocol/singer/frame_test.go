package singer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

// A page's records are framed in one loop, the suffix of one and the
// prefix of the next copied as one block when they fit in one (128
// bytes). A stream name long enough that they do not takes the plain
// loop: both must write the same lines, on either side of the block's
// size (a name of 41 bytes makes the two 128).
func TestFramePageMidLengths(t *testing.T) {
	names := []string{"pokemon", strings.Repeat("a_long_stream_name_", 6)}
	for n := 38; n <= 44; n++ {
		names = append(names, strings.Repeat("s", n))
	}
	for _, name := range names {
		src, cfg := listSource(t, name)
		var out bytes.Buffer
		err := src.Sync(context.Background(), integ.SyncOptions{
			Config: cfg, Protocol: NewProtocol(nil), Output: driver.NewOutput(&out),
			HTTP: integ.HTTPOptions{Doer: pagesDoer(2, 3)},
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var m struct {
				Type, Stream  string
				Record        named
				TimeExtracted string `json:"time_extracted"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("stream name of %d bytes: line %q: %v", len(name), sc.Text(), err)
			}
			if m.Type == "RECORD" {
				if m.Stream != name || m.TimeExtracted == "" {
					t.Errorf("stream name of %d bytes: %q", len(name), sc.Text())
				}
				got = append(got, m.Record.Name)
			}
		}
		if want := "pokemon-1 pokemon-2 pokemon-3 pokemon-4 pokemon-5 pokemon-6"; strings.Join(got, " ") != want {
			t.Errorf("stream name of %d bytes: records %v, want %s", len(name), got, want)
		}
	}
}
