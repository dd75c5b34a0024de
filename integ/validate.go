package integ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/integ/integ/internal/third_party/jsonschema"
)

// Record validation modes, set by the validate_records setting.
const (
	ValidateOff  = "off"  // records go out as the API sent them (the fast path)
	ValidateWarn = "warn" // a record that does not match its schema is logged, then emitted
	ValidateFail = "fail" // a record that does not match its schema fails the stream
)

// ErrRecordInvalid is wrapped by the error of a record that fails
// validation in ValidateFail mode.
var ErrRecordInvalid = errors.New("record does not match its stream's schema")

// recordValidator checks records against a stream's schema. It decodes every
// record, which is what validation costs; it is off unless asked for.
type recordValidator struct {
	schema *jsonschema.Schema
	fail   bool
	warned int
}

func newRecordValidator(run *StreamPlan, mode string) (*recordValidator, error) {
	if mode == "" || mode == ValidateOff {
		return nil, nil
	}
	raw, err := json.Marshal(run.Schema)
	if err != nil {
		return nil, err
	}
	sch, err := compileSchema("stream-"+run.Stream.Name+".json", raw)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", run.Stream.Name, err)
	}
	return &recordValidator{schema: sch, fail: mode == ValidateFail}, nil
}

// check returns a description of what is wrong with rec, or "".
func (v *recordValidator) check(rec []byte) string {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec))
	if err != nil {
		return err.Error()
	}
	if err := v.schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return strings.Join(validationProblems(ve), "; ")
		}
		return err.Error()
	}
	return ""
}
