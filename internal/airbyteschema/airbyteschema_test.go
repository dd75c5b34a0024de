package airbyteschema

import (
	"strings"
	"testing"
)

func TestSchemaIsApplied(t *testing.T) {
	tests := []struct {
		name, line, wantErr string
	}{
		{"log", `{"type":"LOG","log":{"level":"INFO","message":"x"}}`, ""},
		{"unknown level", `{"type":"LOG","log":{"level":"LOUD","message":"x"}}`, "AirbyteMessage"},
		{"no payload", `{"type":"RECORD"}`, `without "record"`},
		{"bad state payload", `{"type":"STATE","state":{"type":"STREAM","stream":{}}}`, "stream_descriptor"},
		{"not JSON", `{"type":`, "not JSON"},
	}
	for _, tt := range tests {
		err := ValidateMessage([]byte(tt.line))
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := ValidateStdout([]byte(`{"type":"LOG","log":{"level":"INFO","message":"x"}}`)); err == nil {
		t.Error("a last line without a newline passed")
	}
}
