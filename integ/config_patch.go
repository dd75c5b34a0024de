package integ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// PatchConfig sets members of the JSON object doc to the values in patch,
// keeping every other byte: members keep their order and formatting, a
// changed member is replaced where it stands (its last occurrence, the one
// decoders keep) and a new one is appended. A key is a member name or, when
// doc has no member by that name, a dotted path into nested objects
// ("credentials.refresh_token"), which are created if missing.
func PatchConfig(doc []byte, patch map[string]json.RawMessage) ([]byte, error) {
	for k, v := range patch {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("the key %q is not valid UTF-8", k)
		}
		if !json.Valid(v) {
			return nil, fmt.Errorf("the new value of %q is not JSON", k)
		}
	}
	type span struct{ start, end int }
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("the config is not a JSON object")
	}
	found := map[string]span{}
	lastEnd := -1
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the config is not valid JSON: %w", err)
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the config is not valid JSON: %w", err)
		}
		end := int(dec.InputOffset())
		found[key] = span{end - len(v), end}
		lastEnd = end
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("the config is not a JSON object")
	}
	closeAt := int(dec.InputOffset()) - 1
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the config has data after its object")
	}
	type edit struct {
		at, end int
		text    []byte
	}
	var edits []edit
	var added []string
	nested := map[string]map[string]json.RawMessage{}
	for k, v := range patch {
		head, rest, dotted := strings.Cut(k, ".")
		_, literal := found[k]
		if dotted && !literal && head != "" && rest != "" {
			if nested[head] == nil {
				nested[head] = map[string]json.RawMessage{}
			}
			nested[head][rest] = v
		}
	}
	for head, sub := range nested {
		if _, ok := patch[head]; ok {
			return nil, fmt.Errorf("the update sets %q and a member of it", head)
		}
		inner := []byte("{}")
		if sp, ok := found[head]; ok {
			inner = doc[sp.start:sp.end]
		}
		v, err := PatchConfig(inner, sub)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", head, err)
		}
		patch = maps.Clone(patch)
		for rest := range sub {
			delete(patch, head+"."+rest)
		}
		patch[head] = v
	}
	for k, v := range patch {
		if sp, ok := found[k]; ok {
			edits = append(edits, edit{sp.start, sp.end, v})
		} else {
			added = append(added, k)
		}
	}
	sort.Strings(added)
	if len(added) > 0 {
		var b bytes.Buffer
		at := closeAt
		if lastEnd >= 0 {
			at = lastEnd
		}
		for i, k := range added {
			if i > 0 || lastEnd >= 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			b.Write(patch[k])
		}
		edits = append(edits, edit{at, at, b.Bytes()})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].at > edits[j].at })
	out := slices.Clone(doc)
	for _, e := range edits {
		out = slices.Concat(out[:e.at], e.text, out[e.end:])
	}
	return out, nil
}
