package integ

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// bookmark tracks an incremental stream's replication key: the value it
// started from, the greatest value seen, and the signpost (the sync's start
// time) past which a time bookmark never advances, so records updated while
// the sync runs are read again next time rather than skipped.
type bookmark struct {
	key      string // gjson path of the replication key
	start    gjson.Result
	startT   time.Time
	hasStart bool
	// stored is the bookmark as the state had it, when a lookback moved
	// start before it: the floor of the value stored again.
	stored  gjson.Result
	storedT time.Time

	max    []byte // raw JSON of the greatest value seen
	maxVal gjson.Result
	maxT   time.Time

	signpost time.Time
	missing  int64 // records with no value at the key
}

func newBookmark(key string, prev json.RawMessage, signpost time.Time) *bookmark {
	b := &bookmark{key: keyPath(key), signpost: signpost}
	if prev != nil {
		v := gjson.GetBytes(prev, stateReplicationKeyValue)
		if v.Exists() && v.Type != gjson.Null {
			b.start = v
			b.hasStart = true
			b.startT, _ = parseTime(v)
		}
	}
	return b
}

// lookBack moves a time bookmark's start d earlier (see Lookback), written
// in the layout the state had, so the runner's filter reads as before.
func (b *bookmark) lookBack(d time.Duration) {
	if d <= 0 || !b.hasStart || b.startT.IsZero() {
		return
	}
	b.stored, b.storedT = b.start, b.startT
	b.startT = b.startT.Add(-d)
	b.start = gjson.Parse(strconv.Quote(b.startT.Format(layoutOf(b.stored.Str))))
}

// observe looks at one record's replication value. It reports false when the
// record is older than the starting bookmark (the API ignored the filter), so
// the caller drops it. Equal values are kept: resume is inclusive.
func (b *bookmark) observe(rec []byte) bool {
	v := gjson.Get(view(rec), b.key) // no copy: rec outlives this call
	if !v.Exists() || v.Type == gjson.Null {
		b.missing++
		return true // no value: keep the record, the bookmark cannot move
	}
	t, isTime := parseTime(v)
	if b.hasStart && compareValues(v, t, isTime, b.start, b.startT) < 0 {
		return false
	}
	if b.max == nil || compareValues(v, t, isTime, b.maxVal, b.maxT) > 0 {
		b.max = append(b.max[:0], v.Raw...)
		b.maxVal = gjson.Parse(view(b.max)) // b.max only changes when maxVal is replaced
		b.maxT = t
	}
	return true
}

// warnMissing says, once a stream, that records had no replication value:
// with none at all the state keeps no bookmark and the next sync reads
// everything again, which the user should hear of.
func (b *bookmark) warnMissing(logger *slog.Logger, key string) {
	if b.max == nil {
		logger.Warn("no record had a value at the replication key, so the bookmark did not move: the next sync reads these records again; check the key's name and the records' shape",
			"replication_key", key, "records_without_it", b.missing)
		return
	}
	logger.Warn("records had no value at the replication key; they are synced, and the bookmark follows the others", "replication_key", key, "records_without_it", b.missing)
}

// value is the bookmark to store: the greatest value seen, capped at the
// signpost, or the starting value when nothing newer was read.
func (b *bookmark) value() json.RawMessage {
	if b.stored.Exists() && (b.max == nil || compareValues(b.maxVal, b.maxT, !b.maxT.IsZero(), b.stored, b.storedT) < 0) {
		return json.RawMessage(b.stored.Raw) // a lookback re-read only older records
	}
	if b.max == nil {
		if b.hasStart {
			return json.RawMessage(b.start.Raw)
		}
		return nil
	}
	if !b.maxT.IsZero() && !b.signpost.IsZero() && b.maxT.After(b.signpost) {
		capped := b.signpost
		if b.hasStart && b.startT.After(capped) {
			return json.RawMessage(b.start.Raw)
		}
		return json.RawMessage(strconv.Quote(capped.UTC().Format(time.RFC3339Nano)))
	}
	return append(json.RawMessage(nil), b.max...)
}

// A replication key names a value in the record by its path: segments
// separated by dots ("attributes.updated", "commit.committer.date"). A dot or
// backslash that is part of a field's name is escaped with a backslash
// (`meta\.updated` is the top-level field "meta.updated"). SplitKey and
// JoinKey convert between the two forms.

// SplitKey splits a replication key into its path segments, unescaping
// `\.` and `\\`. A top-level key is one segment.
func SplitKey(key string) []string {
	if strings.IndexByte(key, '\\') < 0 {
		return strings.Split(key, ".")
	}
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(key); i++ {
		switch ch := key[i]; {
		case ch == '\\' && i+1 < len(key):
			i++
			cur.WriteByte(key[i])
		case ch == '.':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	return append(segs, cur.String())
}

// JoinKey is the inverse of SplitKey: it escapes each segment's dots and
// backslashes and joins them with dots.
func JoinKey(segments ...string) string {
	var b strings.Builder
	for i, s := range segments {
		if i > 0 {
			b.WriteByte('.')
		}
		for j := 0; j < len(s); j++ {
			if s[j] == '.' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
	}
	return b.String()
}

// keyPath turns a replication key into the gjson path of its value: each
// segment escaped, so that gjson's own syntax (wildcards, modifiers) in a
// field name is taken literally.
func keyPath(key string) string {
	segs := SplitKey(key)
	for i, s := range segs {
		segs[i] = gjson.Escape(s)
	}
	return strings.Join(segs, ".")
}

// compareValues orders two replication values: times as times, numbers as
// numbers, everything else as strings.
func compareValues(a gjson.Result, at time.Time, aIsTime bool, b gjson.Result, bt time.Time) int {
	if aIsTime && !bt.IsZero() {
		return at.Compare(bt)
	}
	if a.Type == gjson.Number && b.Type == gjson.Number {
		return compareNumbers(a.Raw, b.Raw, a.Float(), b.Float())
	}
	return strings.Compare(a.String(), b.String())
}

// compareNumbers is exact for integers of any length and falls back to
// float64 for the rest.
func compareNumbers(a, b string, af, bf float64) int {
	if isPlainInt(a) && isPlainInt(b) {
		an, bn := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
		switch {
		case an && !bn:
			return -1
		case !an && bn:
			return 1
		}
		c := len(a) - len(b)
		if c == 0 {
			c = strings.Compare(a, b)
		}
		if an {
			c = -c
		}
		switch {
		case c < 0:
			return -1
		case c > 0:
			return 1
		}
		return 0
	}
	switch {
	case af < bf:
		return -1
	case af > bf:
		return 1
	}
	return 0
}

func isPlainInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseTime reads a string value as a timestamp in the formats APIs use.
func parseTime(v gjson.Result) (time.Time, bool) {
	if v.Type != gjson.String {
		return time.Time{}, false
	}
	s := v.Str
	if len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// layoutOf is the layout that reads s (RFC 3339 when none does).
func layoutOf(s string) string {
	for _, layout := range timeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return layout
		}
	}
	return time.RFC3339Nano
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}
