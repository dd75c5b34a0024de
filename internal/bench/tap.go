package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildTap builds the tap package pkg (e.g. ./cmd/tap-pokeapi) of the Go
// module containing the working directory as a static binary in dir.
func buildTap(ctx context.Context, pkg, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("build %s: not inside a Go module (run from the integ repository or pass --tap)", pkg)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// tapConfig is the connector config pointing the tap at base.
func tapConfig(base string, pageSize int) []byte {
	b, _ := json.Marshal(map[string]any{"base_url": base, "page_size": pageSize})
	return b
}

// catalogs runs the tap's Singer discovery with configPath and derives the
// Singer catalog selecting only stream, and the Airbyte configured catalog
// reading it in full_refresh mode.
func catalogs(ctx context.Context, tap, configPath, stream string) (singerCat, airbyteCat []byte, err error) {
	var stderr tailBuffer
	stderr.max = 4096
	cmd := exec.CommandContext(ctx, tap, "--config", configPath, "--discover")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("%s --discover: %w: %s", tap, err, stderr.String())
	}
	var cat struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(out, &cat); err != nil {
		return nil, nil, fmt.Errorf("parse the discovered catalog: %w", err)
	}
	var schema any
	for _, s := range cat.Streams {
		name, _ := s["tap_stream_id"].(string)
		if name == stream {
			schema = s["schema"]
		}
		md, _ := s["metadata"].([]any)
		for _, m := range md {
			m, _ := m.(map[string]any)
			if bc, _ := m["breadcrumb"].([]any); m == nil || len(bc) != 0 {
				continue
			}
			if inner, ok := m["metadata"].(map[string]any); ok {
				inner["selected"] = name == stream
			}
		}
	}
	if schema == nil {
		return nil, nil, fmt.Errorf("the discovered catalog has no stream %q", stream)
	}
	if singerCat, err = json.Marshal(cat); err != nil {
		return nil, nil, fmt.Errorf("encode the Singer catalog: %w", err)
	}
	configured := map[string]any{"streams": []any{map[string]any{
		"stream": map[string]any{
			"name":                 stream,
			"json_schema":          schema,
			"supported_sync_modes": []string{"full_refresh"},
		},
		"sync_mode":             "full_refresh",
		"destination_sync_mode": "overwrite",
	}}}
	if airbyteCat, err = json.Marshal(configured); err != nil {
		return nil, nil, fmt.Errorf("encode the Airbyte catalog: %w", err)
	}
	return singerCat, airbyteCat, nil
}
