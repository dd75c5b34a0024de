package requests_test

import (
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

// TestRedactWholeTokens: a secret is hidden wherever it stands as a value
// (URL, header, JSON, query string, text) and never inside a longer word.
func TestRedactWholeTokens(t *testing.T) {
	tests := []struct {
		name, in, secret, want string
	}{
		{"one char inside a word", "next page", "x", "next page"},
		{"one char as a query value", "GET /a?key=x&next=1", "x", "GET /a?key=REDACTED&next=1"},
		{"one char in JSON", `{"token":"x","next":"y"}`, "x", `{"token":"REDACTED","next":"y"}`},
		{"one char as free word", "x marks the spot", "x", "x marks the spot"},
		{"two chars after Bearer", "Authorization: Bearer ab", "ab", "Authorization: Bearer REDACTED"},
		{"three chars after colon", "password: abc", "abc", "password: REDACTED"},
		{"three chars inside words", "abcdef fabc", "abc", "abcdef fabc"},
		{"long inside identifier", "sk_live_abcd1234_x", "abcd1234", "sk_live_abcd1234_x"},
		{"long in URL path", "https://h/v1/abcd1234/items", "abcd1234", "https://h/v1/REDACTED/items"},
		{"long in query", "https://h/?api_key=abcd1234&page=2", "abcd1234", "https://h/?api_key=REDACTED&page=2"},
		{"long in header", "Authorization: Bearer sk_live_abcd1234", "sk_live_abcd1234", "Authorization: Bearer REDACTED"},
		{"long quoted in error", "'pk_live_9f' does not match", "pk_live_9f", "'REDACTED' does not match"},
		{"long at both ends", "abcd1234", "abcd1234", "REDACTED"},
		{"long twice adjacent to punctuation", "(abcd1234),abcd1234.", "abcd1234", "(REDACTED),REDACTED."},
		{"query-escaped", "q=a%2Bb+cdef&x", "a+b cdef", "q=REDACTED&x"},
		{"path-escaped", "/v1/a%2Fb%20cdef/x", "a/b cdef", "/v1/REDACTED/x"},
		{"secret with punctuation edges", "x-pass-word-y", "-pass-word-", "xREDACTEDy"},
		{"unicode word edge", "éabcd1234", "abcd1234", "éabcd1234"},
		{"overlapping occurrences", "aaaaa", "aaaa", "aaaaa"},
		{"empty secret", "text", "", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requests.Redact(tt.in, tt.secret); got != tt.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tt.in, tt.secret, got, tt.want)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	line := strings.Repeat(`GET https://api.example.com/v1/items?page=2&next=abc "status":200 `, 20)
	secrets := []string{"sk_live_abcdef123456", "x", "refresh-token-value-0123456789"}
	b.Run("absent", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = requests.Redact(line, secrets...)
		}
	})
	withSecret := line + " Bearer sk_live_abcdef123456"
	b.Run("present", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = requests.Redact(withSecret, secrets...)
		}
	})
}
