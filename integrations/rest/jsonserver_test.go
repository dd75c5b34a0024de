package rest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestJSONServer is the end-to-end check of the issue, against a real
// third-party REST server: json-server 0.17 (pages with _page/_limit, sends
// Link headers, filters with _gte). It builds bin/tap-rest, serves a
// generated db.json, syncs it in full with the Singer tap and with Airbyte
// read, updates some records on the server, and syncs again from each
// protocol's saved state.
//
// It needs json-server: set INTEG_JSON_SERVER to its executable, or have
// json-server on PATH; testdata/jsonserver/run.sh installs it from npm and
// runs this test. Without it the test is skipped, so go test ./... needs no
// network. INTEG_JSON_SERVER_RECORDS sets the number of posts (default 5000).
func TestJSONServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: not in -short mode")
	}
	server := os.Getenv("INTEG_JSON_SERVER")
	if server == "" {
		var err error
		if server, err = exec.LookPath("json-server"); err != nil {
			t.Skip("json-server not found: set INTEG_JSON_SERVER or run integrations/rest/testdata/jsonserver/run.sh")
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found")
	}
	records := 5000
	if v := os.Getenv("INTEG_JSON_SERVER_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("INTEG_JSON_SERVER_RECORDS=%q: want a number >= 10", v)
		}
		records = n
	}

	dir := t.TempDir()
	tap := buildTap(t, dir)
	base := startJSONServer(t, server, dir, records)

	cfgPath := filepath.Join(dir, "config.json")
	example, err := os.ReadFile("testdata/example-config.json")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, bytes.Replace(example, []byte("http://127.0.0.1:3000"), []byte(base), 1))

	// Airbyte's configured catalog, from discover.
	catalogPath := filepath.Join(dir, "configured_catalog.json")
	var configured bytes.Buffer
	if out, _, err := runTap(t, tap, "discover", "--config", cfgPath); err != nil {
		t.Fatalf("discover: %v", err)
	} else {
		msgs := lines(t, out)
		var cat struct {
			Catalog struct {
				Streams []json.RawMessage `json:"streams"`
			} `json:"catalog"`
		}
		if err := json.Unmarshal(msgs[len(msgs)-1], &cat); err != nil || len(cat.Catalog.Streams) != 1 {
			t.Fatalf("discover output is not one CATALOG of one stream: %v\n%s", err, out)
		}
		fmt.Fprintf(&configured, `{"streams": [{"stream": %s, "sync_mode": "incremental", "destination_sync_mode": "append", "cursor_field": ["updated_at"], "primary_key": [["id"]]}]}`, cat.Catalog.Streams[0])
		writeFile(t, catalogPath, configured.Bytes())
	}

	// Full syncs.
	singerState := filepath.Join(dir, "singer-state.json")
	airbyteState := filepath.Join(dir, "airbyte-state.json")
	full := map[string]*syncRun{}
	full["singer"] = singerSync(t, tap, cfgPath, "")
	full["airbyte"] = airbyteSync(t, tap, cfgPath, catalogPath, "")
	for proto, r := range full {
		t.Logf("%s full sync: %d records in %v (%.0f records/s), bookmark %s", proto, len(r.ids), r.took.Round(time.Millisecond), float64(len(r.ids))/r.took.Seconds(), r.bookmark)
		if len(r.ids) != records {
			t.Errorf("%s full sync: %d records, want %d", proto, len(r.ids), records)
		}
		if dup := duplicates(r.ids); len(dup) > 0 {
			t.Errorf("%s full sync: duplicate ids %v", proto, dup)
		}
		if want := postTime(records); r.bookmark != want {
			t.Errorf("%s full sync: bookmark %s, want %s", proto, r.bookmark, want)
		}
	}
	writeFile(t, singerState, full["singer"].state)
	writeFile(t, airbyteState, full["airbyte"].state)

	// Update some posts on the server, then sync incrementally.
	var changed []int
	for id := 7; id < records; id += records / 20 {
		changed = append(changed, id)
	}
	changedAt := time.Now().UTC().Add(-time.Second).Format("2006-01-02T15:04:05.000Z")
	for _, id := range changed {
		patch(t, fmt.Sprintf("%s/posts/%d", base, id), fmt.Sprintf(`{"updated_at": %q, "title": "changed"}`, changedAt))
	}
	// The last post has the bookmark's value: resume is inclusive, so it is
	// read again; nothing older is.
	want := append(slices.Clone(changed), records)
	slices.Sort(want)

	inc := map[string]*syncRun{
		"singer":  singerSync(t, tap, cfgPath, singerState),
		"airbyte": airbyteSync(t, tap, cfgPath, catalogPath, airbyteState),
	}
	for proto, r := range inc {
		t.Logf("%s incremental sync: %d records in %v after %d updates, bookmark %s", proto, len(r.ids), r.took.Round(time.Millisecond), len(changed), r.bookmark)
		got := slices.Clone(r.ids)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s incremental sync: ids %v, want %v", proto, got, want)
		}
		for i, at := range r.updatedAt {
			if at < full[proto].bookmark {
				t.Errorf("%s incremental sync: post %d has updated_at %s, older than the bookmark %s", proto, r.ids[i], at, full[proto].bookmark)
			}
		}
		if r.bookmark != changedAt {
			t.Errorf("%s incremental sync: bookmark %s, want %s", proto, r.bookmark, changedAt)
		}
	}
}

// postTime is the updated_at the generated db gives post id.
func postTime(id int) string {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Minute).Format("2006-01-02T15:04:05.000Z")
}

// buildTap builds cmd/tap-rest as a user gets it.
func buildTap(t *testing.T, dir string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	tap := filepath.Join(dir, "tap-rest")
	cmd := exec.Command(goBin, "build", "-o", tap, "github.com/integ/integ/cmd/tap-rest")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/tap-rest: %v\n%s", err, out)
	}
	return tap
}

// startJSONServer writes a db of n posts and serves it on a free loopback
// port until the test ends.
func startJSONServer(t *testing.T, server, dir string, n int) string {
	t.Helper()
	posts := make([]map[string]any, n)
	for i := range posts {
		id := i + 1
		posts[i] = map[string]any{
			"id":         id,
			"title":      fmt.Sprintf("post %d", id),
			"author":     map[string]any{"name": fmt.Sprintf("author %d", id%17), "karma": id % 5},
			"tags":       []string{"a", "b", "c"}[:id%4],
			"score":      float64(id) / 4,
			"draft":      map[bool]any{true: nil, false: id%2 == 0}[id%3 == 0],
			"created_on": time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, id%365).Format(time.DateOnly),
			"updated_at": postTime(id),
		}
	}
	db, err := json.Marshal(map[string]any{"posts": posts})
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "db.json")
	writeFile(t, dbPath, db)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(server, "--host", "127.0.0.1", "--port", port, "--quiet", dbPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting json-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/posts?_limit=1")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("json-server did not answer within 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncRun is what one sync wrote.
type syncRun struct {
	ids       []int
	updatedAt []string
	state     []byte // the state file for the next run
	bookmark  string
	took      time.Duration
}

func singerSync(t *testing.T, tap, cfg, state string) *syncRun {
	t.Helper()
	args := []string{"--config", cfg}
	if state != "" {
		args = append(args, "--state", state)
	}
	out, took, err := runTap(t, tap, args...)
	if err != nil {
		t.Fatalf("singer sync: %v", err)
	}
	r := &syncRun{took: took}
	for _, line := range lines(t, out) {
		var m struct {
			Type   string          `json:"type"`
			Record post            `json:"record"`
			Value  json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("singer output line is not a message: %v: %s", err, line)
		}
		switch m.Type {
		case "RECORD":
			r.ids = append(r.ids, m.Record.ID)
			r.updatedAt = append(r.updatedAt, m.Record.UpdatedAt)
		case "STATE":
			r.state = m.Value
		}
	}
	var st struct {
		Bookmarks map[string]struct {
			Value string `json:"replication_key_value"`
		} `json:"bookmarks"`
	}
	if err := json.Unmarshal(r.state, &st); err != nil {
		t.Fatalf("singer state %s: %v", r.state, err)
	}
	r.bookmark = st.Bookmarks["posts"].Value
	return r
}

func airbyteSync(t *testing.T, tap, cfg, catalog, state string) *syncRun {
	t.Helper()
	args := []string{"read", "--config", cfg, "--catalog", catalog}
	if state != "" {
		args = append(args, "--state", state)
	}
	out, took, err := runTap(t, tap, args...)
	if err != nil {
		t.Fatalf("airbyte read: %v", err)
	}
	r := &syncRun{took: took}
	var last json.RawMessage
	for _, line := range lines(t, out) {
		var m struct {
			Type   string `json:"type"`
			Record struct {
				Data post `json:"data"`
			} `json:"record"`
			State json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("airbyte output line is not a message: %v: %s", err, line)
		}
		switch m.Type {
		case "RECORD":
			r.ids = append(r.ids, m.Record.Data.ID)
			r.updatedAt = append(r.updatedAt, m.Record.Data.UpdatedAt)
		case "STATE":
			last = m.State
		}
	}
	var st struct {
		Stream struct {
			State struct {
				Value string `json:"replication_key_value"`
			} `json:"stream_state"`
		} `json:"stream"`
	}
	if err := json.Unmarshal(last, &st); err != nil {
		t.Fatalf("airbyte state %s: %v", last, err)
	}
	r.bookmark = st.Stream.State.Value
	r.state = []byte("[" + string(last) + "]")
	return r
}

type post struct {
	ID        int    `json:"id"`
	UpdatedAt string `json:"updated_at"`
}

// runTap runs the tap with a time limit (under go test's, and under a
// minute, so that a looping tap fails fast) and returns its stdout.
func runTap(t *testing.T, tap string, args ...string) ([]byte, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tap, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return nil, took, fmt.Errorf("tap-rest %s: %w\nstderr: %s\nstdout tail: %s", strings.Join(args, " "), err, stderr.Bytes(), tail(stdout.Bytes(), 2000))
	}
	return stdout.Bytes(), took, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func lines(t *testing.T, out []byte) [][]byte {
	t.Helper()
	var ls [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		ls = append(ls, slices.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ls
}

func patch(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s: %s", url, resp.Status)
	}
}

func duplicates(ids []int) []int {
	seen := map[int]bool{}
	var dup []int
	for _, id := range ids {
		if seen[id] {
			dup = append(dup, id)
		}
		seen[id] = true
	}
	return dup
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
