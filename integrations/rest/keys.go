package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// unknownKeys walks a config document against the Go type it decodes into
// and names every key the type does not declare, with where it is and the
// closest valid key: a typo'd "replcation_key" would otherwise make a
// stream full-table without a word. topLevel lists the keys accepted at the
// top besides the type's (the framework's settings). json.RawMessage and
// map fields (schema, body, params, headers) hold free-form keys and are
// not walked.
func unknownKeys(raw json.RawMessage, t reflect.Type, where string, topLevel []string) []error {
	var errs []error
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var doc map[string]json.RawMessage
		if json.Unmarshal(raw, &doc) != nil {
			return nil // not an object: the decoder reports it
		}
		fields := map[string]reflect.Type{}
		var valid []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
			valid = append(valid, name)
		}
		valid = append(valid, topLevel...)
		keys := make([]string, 0, len(doc))
		for k := range doc {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				if !contains(topLevel, k) {
					hint := didYouMean(k, valid)
					if a, ok := keyAliases[k]; ok && contains(valid, a) {
						hint = fmt.Sprintf("; did you mean %q?", a)
					}
					errs = append(errs, fmt.Errorf("%sunknown key %q%s", prefix(where), k, hint))
				}
				continue
			}
			if ft == reflect.TypeOf(json.RawMessage(nil)) || bytes.Equal(bytes.TrimSpace(doc[k]), []byte("null")) {
				continue
			}
			errs = append(errs, unknownKeys(doc[k], ft, join(where, k), nil)...)
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Struct {
			return nil
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			errs = append(errs, unknownKeys(it, t.Elem(), elemLabel(where, i, it), nil)...)
		}
	}
	return errs
}

// keyAliases maps names other tools (and other habits) use to ours, for
// the hint of an unknown key that no edit distance finds.
var keyAliases = map[string]string{
	"cursor_path": "path", "next_path": "path", "next_page_path": "path", "next_url_path": "path", "token_path": "path",
	"cursor_param": "param", "token_param": "param", "page_size": "size", "limit": "size", "per_page": "size_param",
	"has_more": "has_more_path", "stop_path": "has_more_path", "record_selector": "records_path", "data_path": "records_path",
	"cursor_field": "replication_key", "incremental_key": "replication_key", "updated_key": "replication_key",
	"primary_keys": "primary_key", "query": "params", "query_params": "params", "url": "path", "endpoint": "path",
	"filter": "record_filter", "parent_stream": "parent",
}

func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// elemLabel names a list element, with its name when it has one
// (streams[1] "issues").
func elemLabel(where string, i int, raw json.RawMessage) string {
	var named struct{ Name string }
	label := fmt.Sprintf("%s[%d]", where, i)
	if json.Unmarshal(raw, &named) == nil && named.Name != "" {
		label += fmt.Sprintf(" (%q)", named.Name)
	}
	return label
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// didYouMean returns `; did you mean "x"?` for the closest of valid, or ""
// when none is close.
func didYouMean(got string, valid []string) string {
	// A word the input starts with ("unix" for "unixtime"), or one that
	// starts with the input ("start_date" for "start"), is the likely
	// meaning, whatever the edit distance says.
	pre := ""
	for _, v := range valid {
		g, lv := strings.ToLower(got), strings.ToLower(v)
		if len(v) >= 3 && len(v) > len(pre) && strings.HasPrefix(g, lv) || len(g) >= 3 && pre == "" && strings.HasPrefix(lv, g) {
			pre = v
		}
	}
	if pre != "" {
		return fmt.Sprintf("; did you mean %q?", pre)
	}
	best, bestD := "", len(got)/2+2
	for _, v := range valid {
		if d := editDistance(strings.ToLower(got), strings.ToLower(v)); d < bestD {
			best, bestD = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
