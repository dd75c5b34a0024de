package integ

import (
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// TestBookmark feeds records to an incremental stream's bookmark and checks
// which records it keeps and the value it would store.
func TestBookmark(t *testing.T) {
	signpost := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	state := func(v string) json.RawMessage {
		return json.RawMessage(`{"replication_key":"updated_at","replication_key_value":` + v + `}`)
	}
	tests := []struct {
		name     string
		key      string
		prev     json.RawMessage
		signpost time.Time
		records  []string
		dropped  []int  // indexes of the records observe rejects
		want     string // value(); "" for nil
	}{
		{name: "no state, no records", key: "updated_at"},
		{name: "no records keeps the starting value", key: "updated_at", prev: state(`"2024-01-01T00:00:00Z"`),
			want: `"2024-01-01T00:00:00Z"`},
		{name: "greatest time, whatever the order", key: "updated_at", records: []string{
			`{"updated_at":"2024-01-02T00:00:00Z"}`, `{"updated_at":"2024-01-03T00:00:00Z"}`, `{"updated_at":"2024-01-01T00:00:00Z"}`},
			want: `"2024-01-03T00:00:00Z"`},
		{name: "times compare as times, not text", key: "updated_at", records: []string{
			`{"updated_at":"2024-01-01T10:00:00+02:00"}`, `{"updated_at":"2024-01-01T09:00:00Z"}`},
			want: `"2024-01-01T09:00:00Z"`},
		{name: "older than the start is dropped, equal is kept", key: "updated_at", prev: state(`"2024-01-02T00:00:00Z"`),
			records: []string{`{"updated_at":"2024-01-01T00:00:00Z"}`, `{"updated_at":"2024-01-02T00:00:00Z"}`, `{"updated_at":"2024-01-05T00:00:00Z"}`},
			dropped: []int{0}, want: `"2024-01-05T00:00:00Z"`},
		{name: "a record without the key is kept and moves nothing", key: "updated_at", prev: state(`"2024-01-02T00:00:00Z"`),
			records: []string{`{"id":1}`, `{"updated_at":null}`}, want: `"2024-01-02T00:00:00Z"`},
		{name: "capped at the signpost", key: "updated_at", signpost: signpost,
			records: []string{`{"updated_at":"2024-06-01T11:00:00Z"}`, `{"updated_at":"2024-06-01T13:00:00Z"}`},
			want:    `"2024-06-01T12:00:00Z"`},
		{name: "the cap never goes below the start", key: "updated_at", signpost: signpost, prev: state(`"2024-07-01T00:00:00Z"`),
			records: []string{`{"updated_at":"2024-08-01T00:00:00Z"}`}, want: `"2024-07-01T00:00:00Z"`},
		{name: "before the signpost, the value as the API wrote it", key: "updated_at", signpost: signpost,
			records: []string{`{"updated_at":"2024-05-01 10:00:00"}`}, want: `"2024-05-01 10:00:00"`},
		{name: "integers beyond float64 compare exactly", key: "seq", records: []string{
			`{"seq":9007199254740993}`, `{"seq":9007199254740992}`}, want: `9007199254740993`},
		{name: "numbers compare as numbers", key: "seq", prev: state(`10`),
			records: []string{`{"seq":9}`, `{"seq":100}`, `{"seq":10.5}`}, dropped: []int{0}, want: `100`},
		{name: "strings compare as text", key: "v", records: []string{`{"v":"b"}`, `{"v":"a"}`}, want: `"b"`},
		{name: "ascending strings", key: "v", records: []string{`{"v":"a"}`, `{"v":"b"}`, `{"v":"c"}`}, want: `"c"`},
		{name: "a dotted key is a nested field", key: "meta.updated", records: []string{
			`{"meta.updated":"2024-01-02T00:00:00Z","meta":{"updated":"2030-01-01T00:00:00Z"}}`},
			want: `"2030-01-01T00:00:00Z"`},
		{name: "an escaped dot is part of one field's name", key: `meta\.updated`, records: []string{
			`{"meta.updated":"2024-01-02T00:00:00Z","meta":{"updated":"2030-01-01T00:00:00Z"}}`},
			want: `"2024-01-02T00:00:00Z"`},
		{name: "gjson syntax in a name is literal", key: "a*", records: []string{
			`{"ab":"2030-01-01T00:00:00Z","a*":"2024-01-02T00:00:00Z"}`}, want: `"2024-01-02T00:00:00Z"`},
		{name: "a null starting value is no start", key: "updated_at", prev: state(`null`),
			records: []string{`{"updated_at":"2020-01-01T00:00:00Z"}`}, want: `"2020-01-01T00:00:00Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBookmark(tt.key, tt.prev, tt.signpost)
			var dropped []int
			for i, r := range tt.records {
				rec := []byte(r)
				if !b.observe(rec) {
					dropped = append(dropped, i)
				}
				copy(rec, strings.Repeat("x", len(rec))) // the bookmark must not keep the record's bytes
			}
			if !slices.Equal(dropped, tt.dropped) {
				t.Errorf("dropped records %v, want %v", dropped, tt.dropped)
			}
			if got := string(b.value()); got != tt.want {
				t.Errorf("value() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // RFC 3339 in UTC; "" when not a time
	}{
		{`"2024-01-02T03:04:05Z"`, "2024-01-02T03:04:05Z"},
		{`"2024-01-02T03:04:05.123456+02:00"`, "2024-01-02T01:04:05.123456Z"},
		{`"2024-01-02T03:04:05"`, "2024-01-02T03:04:05Z"},
		{`"2024-01-02 03:04:05+01:00"`, "2024-01-02T02:04:05Z"},
		{`"2024-01-02 03:04:05"`, "2024-01-02T03:04:05Z"},
		{`"2024-01-02"`, "2024-01-02T00:00:00Z"},
		{`"2024/01/02"`, ""},
		{`"yesterday"`, ""},
		{`"2024-13-45"`, ""},
		{`1704164645`, ""},
		{`null`, ""},
	} {
		got, ok := parseTime(gjson.Parse(tt.in))
		if (tt.want != "") != ok || (ok && got.UTC().Format(time.RFC3339Nano) != tt.want) {
			t.Errorf("parseTime(%s) = %v, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1", "2", -1}, {"2", "1", 1}, {"7", "7", 0},
		{"-1", "1", -1}, {"1", "-1", 1}, {"-2", "-1", -1}, {"-10", "-9", -1},
		{"10", "9", 1}, {"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"1.5", "1.25", 1}, {"1e3", "999", 1}, {"0", "-0.5", 1},
	} {
		a, b := gjson.Parse(tt.a), gjson.Parse(tt.b)
		if got := compareNumbers(a.Raw, b.Raw, a.Float(), b.Float()); got != tt.want {
			t.Errorf("compareNumbers(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzCompareNumbers checks integer comparison, exact for any length,
// against math/big.
func FuzzCompareNumbers(f *testing.F) {
	for _, s := range [][2]string{{"1", "2"}, {"-5", "-50"}, {"9007199254740993", "9007199254740992"}, {"0", "-1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !isPlainInt(a) || !isPlainInt(b) || a == "-0" || b == "-0" {
			return
		}
		x, _ := new(big.Int).SetString(a, 10)
		y, _ := new(big.Int).SetString(b, 10)
		if got, want := compareNumbers(a, b, 0, 0), x.Cmp(y); got != want {
			t.Errorf("compareNumbers(%s, %s) = %d, big.Int says %d", a, b, got, want)
		}
	})
}
