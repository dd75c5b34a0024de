package driver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

// tsv is a third wire format in a few lines: a line per record, stream
// name first, and a line per checkpoint. Any source runs on it unchanged.
type tsv struct{}

func (tsv) Stream(s *driver.Stream) driver.StreamEncoder { return &tsvStream{name: s.Name} }

type tsvStream struct{ name string }

func (e *tsvStream) Start(dst []byte) []byte             { return dst }
func (e *tsvStream) Page(dst []byte, _ time.Time) []byte { return dst }
func (e *tsvStream) Record(dst, rec []byte) []byte {
	return append(fmt.Appendf(dst, "%s\t", e.name), append(rec, '\n')...)
}
func (e *tsvStream) State(dst []byte, cp *driver.Checkpoint) []byte {
	return fmt.Appendf(dst, "%s\tSTATE\t%s\tfinal=%v\n", cp.Stream, cp.Value, cp.Final)
}
func (e *tsvStream) End(dst []byte, res *driver.StreamResult) []byte {
	return fmt.Appendf(dst, "%s\tEND\t%d records\n", e.name, res.Records)
}

// A protocol is a Protocol and its StreamEncoders; the engine does the rest
// (selection, bookmarks, checkpoints that never run ahead of the records).
func ExampleProtocol() {
	type event struct {
		ID      int    `json:"id"`
		Updated string `json:"updated"`
	}
	src := integ.NewSource("events", struct{}{}, integ.WithStreams(
		integ.NewStream("events", event{}, func(c *integ.HttpContext) error {
			for _, r := range []string{`{"id":1,"updated":"2024-01-01"}`, `{"id":2,"updated":"2024-02-01"}`} {
				if err := c.EmitRaw([]byte(r)); err != nil {
					return err
				}
			}
			return nil
		}, integ.PrimaryKey("id"), integ.Incremental("updated"), integ.Sorted())))
	cfg, _ := src.ParseConfig(json.RawMessage(`{}`))
	err := src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Protocol: tsv{}, Output: driver.NewOutput(os.Stdout)})
	fmt.Println("error:", err)
	// Output:
	// events	{"id":1,"updated":"2024-01-01"}
	// events	{"id":2,"updated":"2024-02-01"}
	// events	STATE	{"replication_key":"updated","replication_key_value":"2024-02-01"}	final=true
	// events	END	2 records
	// error: <nil>
}
