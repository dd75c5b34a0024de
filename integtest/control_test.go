package integtest

import "testing"

// An Airbyte CONTROL message carries the whole new config, secrets too:
// it is not a leak. Every other line is still looked at.
func TestSecretsInControlMessages(t *testing.T) {
	out := []byte(`{"type":"LOG","log":{"level":"INFO","message":"hello"}}
{"type":"CONTROL","control":{"type":"CONNECTOR_CONFIG","connectorConfig":{"config":{"client_secret":"client-secret-1234"}}}}
{"type":"RECORD","record":{"stream":"s","data":{"x":"client-secret-1234"}}}
`)
	got := string(withoutControl(out))
	want := `{"type":"LOG","log":{"level":"INFO","message":"hello"}}
{"type":"RECORD","record":{"stream":"s","data":{"x":"client-secret-1234"}}}
`
	if got != want {
		t.Errorf("got\n%s", got)
	}
	if plain := []byte("no control here\n"); string(withoutControl(plain)) != string(plain) {
		t.Error("output without CONTROL changed")
	}
}
