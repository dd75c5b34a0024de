package integ

import (
	"encoding/json"
	"strings"
)

// selectFields copies the kept top-level members of a record, raw. The
// record is a valid JSON object (it came from a validated page or EmitRaw).
func selectFields(dst, rec []byte, keep map[string]bool) []byte {
	data := view(rec)
	dst = append(dst, '{')
	first := true
	i := skipSpace(data, skipSpace(data, 0)+1) // past "{"
	for i < len(data) && data[i] == '"' {
		keyEnd := skipString(data, i)
		key := data[i+1 : keyEnd-1]
		if strings.IndexByte(key, '\\') >= 0 { // an escaped name: compare what it means
			var decoded string
			if json.Unmarshal(rec[i:keyEnd], &decoded) == nil {
				key = decoded
			}
		}
		v := skipSpace(data, skipSpace(data, keyEnd)+1) // past ':'
		end := skipValue(data, v)
		if keep[key] {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, data[i:keyEnd]...)
			dst = append(dst, ':')
			dst = append(dst, data[v:end]...)
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return append(dst, '}')
}
