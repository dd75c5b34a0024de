package singer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/integ/integ/integ"
)

// configPersister saves config changes into the --config files: each key
// goes to the file that holds it (the last one, as merging keeps the last),
// a key no file holds to the last file. Other files are not touched, and a
// rewritten file keeps its other keys, their order and its mode. stderr
// says which file changed, never the value.
func configPersister(paths []string, stderr io.Writer) integ.ConfigPersister {
	return func(patch map[string]json.RawMessage) error {
		if len(paths) == 0 {
			return fmt.Errorf("no --config file to save the new config to")
		}
		byFile := map[string]map[string]json.RawMessage{}
		for k, v := range patch {
			target := paths[len(paths)-1]
			for _, p := range slices.Backward(paths) {
				if holds, _ := fileHolds(p, k); holds {
					target = p
					break
				}
			}
			if byFile[target] == nil {
				byFile[target] = map[string]json.RawMessage{}
			}
			byFile[target][k] = v
		}
		files := make([]string, 0, len(byFile))
		for f := range byFile {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, f := range files {
			if err := rewriteConfigFile(f, byFile[f]); err != nil {
				return err
			}
			keys := make([]string, 0, len(byFile[f]))
			for k := range byFile[f] {
				keys = append(keys, fmt.Sprintf("%q", k))
			}
			sort.Strings(keys)
			fmt.Fprintf(stderr, "INFO config file %q updated: new value of %s saved (not shown); the next run uses it\n", f, strings.Join(keys, ", "))
		}
		return nil
	}
}

func fileHolds(path, key string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return false, err
	}
	if _, ok := m[key]; ok {
		return true, nil
	}
	// A dotted path ("credentials.refresh_token") lives in the file that
	// holds its top-level object: files merge top-level keys only.
	head, _, dotted := strings.Cut(key, ".")
	_, ok := m[head]
	return dotted && ok, nil
}

// rewriteConfigFile patches path atomically: a temporary file in the same
// directory, synced, then renamed over it, so a crash leaves the old or
// the new config, never half of one.
func rewriteConfigFile(path string, patch map[string]json.RawMessage) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("saving the new config: %w", err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("saving the new config: %w", err)
	}
	doc, err := integ.PatchConfig(old, patch)
	if err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving the new config next to %q: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	if _, err := tmp.Write(doc); err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving the new config to %q: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}
