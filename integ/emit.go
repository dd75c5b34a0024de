package integ

import (
	"time"

	"github.com/integ/integ/integ/driver"
)

// discardEncoder is used where records are read but not written (check).
type discardEncoder struct{}

func (discardEncoder) Start(dst []byte) []byte                       { return dst }
func (discardEncoder) Page(dst []byte, _ time.Time) []byte           { return dst }
func (discardEncoder) Record(dst []byte, _ []byte) []byte            { return dst }
func (discardEncoder) State(dst []byte, _ *driver.Checkpoint) []byte { return dst }
func (discardEncoder) End(dst []byte, _ *driver.StreamResult) []byte { return dst }
