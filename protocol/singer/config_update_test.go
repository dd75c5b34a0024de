package singer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPersisterWritesTheFileHoldingTheKey(t *testing.T) {
	cases := []struct {
		name  string
		files []string // contents, in --config order
		modes []os.FileMode
		patch map[string]string
		want  []string // contents after; "" = untouched
	}{
		{"key in the first file", []string{`{"refresh_token": "old", "a": 1}`, `{"b": 2}`}, []os.FileMode{0o600, 0o644},
			map[string]string{"refresh_token": `"new"`}, []string{`{"refresh_token": "new", "a": 1}`, ""}},
		{"key in both: the later one, which wins the merge", []string{`{"k": "1"}`, `{"k": "2"}`}, []os.FileMode{0o600, 0o640},
			map[string]string{"k": `"3"`}, []string{"", `{"k": "3"}`}},
		{"key in no file: the last one", []string{`{"a": 1}`, "{\n  \"b\": 2\n}\n"}, []os.FileMode{0o600, 0o600},
			map[string]string{"k": `"v"`}, []string{"", "{\n  \"b\": 2,\"k\":\"v\"\n}\n"}},
		{"dotted path: the file holding the object", []string{`{"credentials": {"refresh_token": "old", "id": "c"}}`, `{"b": 2}`}, []os.FileMode{0o600, 0o644},
			map[string]string{"credentials.refresh_token": `"new"`}, []string{`{"credentials": {"refresh_token": "new", "id": "c"}}`, ""}},
		{"two keys, two files", []string{`{"x": 1}`, `{"y": 2}`, `{"z": 3}`}, []os.FileMode{0o600, 0o600, 0o600},
			map[string]string{"x": `10`, "z": `30`}, []string{`{"x": 10}`, "", `{"z": 30}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, content := range c.files {
				p := filepath.Join(dir, string(rune('a'+i))+".json")
				if err := os.WriteFile(p, []byte(content), c.modes[i]); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, c.modes[i])
				paths = append(paths, p)
			}
			patch := map[string]json.RawMessage{}
			for k, v := range c.patch {
				patch[k] = json.RawMessage(v)
			}
			var stderr bytes.Buffer
			if err := configPersister(paths, &stderr)(patch); err != nil {
				t.Fatal(err)
			}
			for i, p := range paths {
				got, _ := os.ReadFile(p)
				want := c.want[i]
				if want == "" {
					want = c.files[i]
				} else if !strings.Contains(stderr.String(), p) {
					t.Errorf("stderr does not name %s: %s", p, stderr.String())
				}
				if string(got) != want {
					t.Errorf("%s = %s, want %s", filepath.Base(p), got, want)
				}
				if fi, _ := os.Stat(p); fi.Mode().Perm() != c.modes[i] {
					t.Errorf("%s mode %v, want %v", filepath.Base(p), fi.Mode().Perm(), c.modes[i])
				}
			}
			for _, v := range c.patch {
				if strings.HasPrefix(v, `"`) && strings.Contains(stderr.String(), v) {
					t.Errorf("stderr shows a value: %s", stderr.String())
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestConfigPersisterFailsClearly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.json")
	os.WriteFile(p, []byte(`[not an object`), 0o600)
	err := configPersister([]string{p}, &bytes.Buffer{})(map[string]json.RawMessage{"k": json.RawMessage(`1`)})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v", err)
	}
	if err := configPersister(nil, &bytes.Buffer{})(map[string]json.RawMessage{"k": json.RawMessage(`1`)}); err == nil {
		t.Error("no error without a config file")
	}
}
