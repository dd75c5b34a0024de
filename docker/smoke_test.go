//go:build smoke

// The container smoke test: make docker-smoke, or
//
//	make docker && go test -tags smoke -count=1 -v ./docker/
//
// For every cmd/tap-<name> it runs the image source-<name>:<tag> with the
// machine's engine (docker/engine.sh; CONTAINER_ENGINE overrides) and checks
// the image itself (labels, AIRBYTE_ENTRYPOINT equal to the ENTRYPOINT, user
// airbyte, a writable /airbyte, CA certificates, under 25 MB), then that
// the container says what the bare binary says: --version, --about, and the
// Airbyte commands spec, check, discover and read, run both directly and
// through a shell wrapper like Airbyte's launcher, against an httptest
// server the container reaches with --network=host; and a Singer sync. It
// logs image sizes and spec latency, in the container and bare.
//
// Environment: SMOKE_BIN, the directory of the bare binaries (default
// ../bin); SMOKE_VERSION, the version they and the images were built with
// (default: what the binary's --version prints); IMAGE_PREFIX, as for
// make docker.
package docker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/internal/pokeserver"
)

const maxImageBytes = 25_000_000 // "smaller than 25 MB"

// fixture is what a data test of one integration needs: a local server
// shaped like its API and a config that points the connector at it.
type fixture struct {
	handler func() http.Handler
	config  func(serverURL string) string
}

var pokeHandler = func() http.Handler { return pokeserver.New(pokeserver.WithCount(40)) }

// fixtures holds the integrations whose data path is smoke-tested; others
// get the image and protocol checks only.
var fixtures = map[string]fixture{
	"pokeapi": {pokeHandler, func(u string) string {
		return fmt.Sprintf(`{"base_url": %q, "page_size": 7}`, u+"/api/v2")
	}},
	"rest": {pokeHandler, func(u string) string {
		return fmt.Sprintf(`{"base_url": %q, "streams": [{"name": "pokemon", "path": "pokemon",
			"records_path": "results", "primary_key": ["name"], "params": {"limit": "7"},
			"pagination": {"type": "next_url", "path": "next"}}]}`, u+"/api/v2")
	}},
}

// env is the engine and where the images and bare binaries are.
type env struct {
	engine, bin, version, prefix string
}

func TestSmoke(t *testing.T) {
	out, err := exec.Command("sh", "engine.sh").Output()
	if err != nil {
		const why = "no container engine (neither a running Docker daemon nor podman)"
		if inCI() {
			t.Fatal(why + ": CI must smoke-test the images (run docker/ci-setup.sh as root)")
		}
		t.Skip(why)
	}
	e := env{engine: strings.TrimSpace(string(out)), bin: os.Getenv("SMOKE_BIN"),
		version: os.Getenv("SMOKE_VERSION"), prefix: os.Getenv("IMAGE_PREFIX")}
	if e.bin == "" {
		e.bin = "../bin"
	}
	mains, _ := filepath.Glob("../cmd/tap-*/main.go")
	if len(mains) == 0 {
		t.Fatal("no ../cmd/tap-*/main.go")
	}
	t.Logf("engine %s", e.engine)
	for _, m := range mains {
		name := strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "tap-")
		t.Run(name, func(t *testing.T) { smokeOne(t, e, name) })
	}
}

// tagOf is docker/build.sh's version-to-tag rule.
func tagOf(version string) string {
	tag := regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(version, "-")
	if tag != "" && (tag[0] == '.' || tag[0] == '-') {
		tag = "_" + tag[1:]
	}
	if len(tag) > 128 {
		tag = tag[:128]
	}
	if tag == "" {
		tag = "dev"
	}
	return tag
}

func smokeOne(t *testing.T, e env, name string) {
	bare := filepath.Join(e.bin, "tap-"+name)
	verOut := mustRun(t, bare, "--version")
	version := e.version
	if version == "" {
		version = strings.TrimPrefix(strings.TrimSpace(verOut), "tap-"+name+" ")
	}
	repo := e.prefix + "source-" + name
	image := repo + ":" + tagOf(version)
	c := container{engine: e.engine, image: image}

	t.Run("image", func(t *testing.T) {
		var cfg struct {
			Labels     map[string]string
			Env        []string
			Entrypoint []string
			User       string
		}
		js := mustRun(t, e.engine, "image", "inspect", "--format", "{{json .Config}}", image)
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			t.Fatalf("image inspect: %v: %s", err, js)
		}
		if got := cfg.Labels["io.airbyte.name"]; got != repo {
			t.Errorf("label io.airbyte.name = %q, want %q", got, repo)
		}
		if got := cfg.Labels["io.airbyte.version"]; got != tagOf(version) {
			t.Errorf("label io.airbyte.version = %q, want %q", got, tagOf(version))
		}
		entry, ok := "", false
		for _, kv := range cfg.Env {
			if v, found := strings.CutPrefix(kv, "AIRBYTE_ENTRYPOINT="); found {
				entry, ok = v, true
			}
		}
		switch {
		case !ok:
			t.Errorf("no ENV AIRBYTE_ENTRYPOINT in %q", cfg.Env)
		case len(cfg.Entrypoint) == 0 || !strings.HasPrefix(cfg.Entrypoint[0], "/"):
			t.Errorf("ENTRYPOINT %q is not an absolute exec form", cfg.Entrypoint)
		case entry != strings.Join(cfg.Entrypoint, " "):
			t.Errorf("AIRBYTE_ENTRYPOINT %q differs from ENTRYPOINT %q", entry, cfg.Entrypoint)
		}
		if cfg.User != "airbyte" {
			t.Errorf("USER %q, want airbyte", cfg.User)
		}
		var size int64
		fmt.Sscan(mustRun(t, e.engine, "image", "inspect", "--format", "{{.Size}}", image), &size)
		if size <= 0 || size >= maxImageBytes {
			t.Errorf("image size %d bytes, want under %d", size, maxImageBytes)
		}
		t.Logf("FIGURE %s: %.1f MB (%d bytes; the binary is %.1f MB)", image, float64(size)/1e6, size, fileMB(bare))
	})

	t.Run("filesystem", func(t *testing.T) {
		out := c.mustSh(t, nil, `id -un; id -u
			cd /airbyte && touch probe && rm probe && echo airbyte-writable
			touch /airbyte/bin/probe 2>/dev/null && echo bin-writable || echo bin-read-only
			touch /tmp/probe && echo tmp-writable
			test -s /etc/ssl/certs/ca-certificates.crt && echo certs
			for a in sh sleep kill touch cat mkfifo test echo; do command -v $a >/dev/null || echo "no $a"; done`)
		want := "airbyte\n1000\nairbyte-writable\nbin-read-only\ntmp-writable\ncerts\n"
		if out != want {
			t.Errorf("in the container:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("version", func(t *testing.T) {
		if want := "tap-" + name + " " + version + "\n"; verOut != want {
			t.Errorf("bare --version %q, want %q", verOut, want)
		}
		if got := c.mustRun(t, nil, "--version"); got != verOut {
			t.Errorf("container --version %q, bare %q", got, verOut)
		}
	})

	t.Run("about", func(t *testing.T) {
		want := mustRun(t, bare, "--about", "--format", "json")
		if got := c.mustRun(t, nil, "--about", "--format", "json"); got != want {
			t.Errorf("container --about differs from bare:\n%s\nbare:\n%s", got, want)
		}
	})

	t.Run("spec", func(t *testing.T) {
		want := mustRun(t, bare, "spec")
		msgs := messages(t, want)
		if len(msgs) != 1 || msgs[0].Type != "SPEC" {
			t.Fatalf("spec must print one SPEC message, printed:\n%s", want)
		}
		if got := c.mustRun(t, nil, "spec"); got != want {
			t.Errorf("container spec differs from bare:\n%s\nbare:\n%s", got, want)
		}
		// As Airbyte's launcher runs it: sh -c, eval "$AIRBYTE_ENTRYPOINT spec"
		// into a file, a watchdog loop beside it, the exit code kept.
		got := c.mustSh(t, nil, launcher(`spec`, `> /airbyte/job/output.json`)+`
			cat /airbyte/job/output.json`)
		if got != want {
			t.Errorf("spec through the launcher wrapper:\n%s\nwant:\n%s", got, want)
		}
		t.Logf("FIGURE %s spec latency: container %v, bare %v (median of 7)",
			name, median(7, func() { c.mustRun(t, nil, "spec") }), median(7, func() { mustRun(t, bare, "spec") }))
	})

	fx, ok := fixtures[name]
	if !ok {
		t.Logf("no fixture server for %s: data checks skipped", name)
		return
	}
	srv := httptest.NewServer(fx.handler())
	defer srv.Close()
	dir := t.TempDir()
	must(t, os.Chmod(dir, 0o755)) // the container runs as uid 1000
	write := func(file, content string) {
		must(t, os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644))
	}
	write("config.json", fx.config(srv.URL))
	write("closed.json", fx.config("http://"+closedAddr(t)))
	mount := []string{"-v", dir + ":/data:ro"}
	local := func(f string) string { return filepath.Join(dir, f) }

	t.Run("check", func(t *testing.T) {
		for _, tc := range []struct{ config, status string }{{"config.json", "SUCCEEDED"}, {"closed.json", "FAILED"}} {
			got := c.mustRun(t, mount, "check", "--config", "/data/"+tc.config)
			var status []string
			for _, m := range messages(t, got) {
				if m.Type == "CONNECTION_STATUS" {
					status = append(status, m.ConnectionStatus.Status)
				}
			}
			if len(status) != 1 || status[0] != tc.status {
				t.Errorf("check with %s: CONNECTION_STATUS %q, want one %s:\n%s", tc.config, status, tc.status, got)
			}
			if tc.status == "SUCCEEDED" {
				sameMessages(t, "check", got, mustRun(t, bare, "check", "--config", local(tc.config)))
			}
		}
	})

	var catalog []byte
	t.Run("discover", func(t *testing.T) {
		want := mustRun(t, bare, "discover", "--config", local("config.json"))
		got := c.mustRun(t, mount, "discover", "--config", "/data/config.json")
		sameMessages(t, "discover", got, want)
		for _, m := range messages(t, got) {
			if m.Type == "CATALOG" {
				catalog = configured(t, m.Catalog)
			}
		}
		if catalog == nil {
			t.Fatalf("discover printed no CATALOG:\n%s", got)
		}
	})
	if catalog == nil {
		return
	}
	write("catalog.json", string(catalog))

	t.Run("read", func(t *testing.T) {
		want := mustRun(t, bare, "read", "--config", local("config.json"), "--catalog", local("catalog.json"))
		got := c.mustRun(t, mount, "read", "--config", "/data/config.json", "--catalog", "/data/catalog.json")
		sameMessages(t, "read", got, want)
		counts := map[string]int{}
		for _, m := range messages(t, got) {
			counts[m.Type]++
			if !slices.Contains([]string{"RECORD", "STATE", "TRACE", "LOG", "CONTROL"}, m.Type) {
				t.Errorf("read printed a %s message", m.Type)
			}
		}
		if counts["RECORD"] == 0 || counts["STATE"] == 0 {
			t.Errorf("read printed %v, want RECORD and STATE messages", counts)
		}
		t.Logf("read: %v", counts)
		// Through the launcher wrapper, its stdout a named pipe as in older
		// Airbyte platforms.
		viaPipe := c.mustSh(t, mount, `mkdir -p /airbyte/job && mkfifo /airbyte/job/stdout
			cat /airbyte/job/stdout > /airbyte/job/copy & reader=$!
			`+launcher(`read --config /data/config.json --catalog /data/catalog.json`, `> /airbyte/job/stdout`)+`
			wait $reader; cat /airbyte/job/copy`)
		sameMessages(t, "read through the launcher wrapper", viaPipe, want)
	})

	t.Run("singer", func(t *testing.T) {
		want := mustRun(t, bare, "--config", local("config.json"), "--discover")
		got := c.mustRun(t, mount, "--config", "/data/config.json", "--discover")
		sameMessages(t, "singer --discover", got, want)
		want = mustRun(t, bare, "--config", local("config.json"))
		got = c.mustRun(t, mount, "--config", "/data/config.json")
		sameMessages(t, "singer sync", got, want)
		if !strings.Contains(got, `"type":"RECORD"`) {
			t.Errorf("singer sync printed no RECORD:\n%.2000s", got)
		}
	})
}

// launcher is a shell fragment that runs the connector the way Airbyte's
// launcher does: eval "$AIRBYTE_ENTRYPOINT ARGS" in the background with its
// output redirected, a loop that kills it when a termination file appears,
// and its exit code written to a file and returned.
func launcher(args, redirect string) string {
	return `set -u
		[ -n "$AIRBYTE_ENTRYPOINT" ] || { echo "AIRBYTE_ENTRYPOINT is not set" >&2; exit 127; }
		mkdir -p /airbyte/job
		(eval "$AIRBYTE_ENTRYPOINT ` + args + `" ` + redirect + ` 2> /airbyte/job/stderr.log) &
		child=$!
		(while true; do if [ -f /airbyte/job/TERMINATED ]; then kill $child; exit 0; fi; sleep 1; done) &
		watchdog=$!
		wait $child
		code=$?
		echo $code > /airbyte/job/exitCode.txt
		kill $watchdog
		[ $code = 0 ] || { cat /airbyte/job/stderr.log >&2; exit $code; }`
}

type container struct{ engine, image string }

// mustRun runs the image's entrypoint with args, on the host's network.
func (c container) mustRun(t *testing.T, opts []string, args ...string) string {
	t.Helper()
	cmd := append([]string{"run", "--rm", "--pull=never", "--network=host"}, opts...)
	return mustRun(t, c.engine, append(append(cmd, c.image), args...)...)
}

// mustSh runs a shell script in the image, as its user.
func (c container) mustSh(t *testing.T, opts []string, script string) string {
	t.Helper()
	return c.mustRun(t, append(slices.Clone(opts), "--entrypoint", "/bin/sh"), "-c", script)
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%.3000s\nstderr:\n%.3000s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// message is the part of an Airbyte message the test looks at.
type message struct {
	Type             string
	ConnectionStatus struct{ Status string } `json:"connectionStatus"`
	Catalog          json.RawMessage
}

func messages(t *testing.T, out string) []message {
	t.Helper()
	var ms []message
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m message
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Type == "" {
			t.Fatalf("stdout line is not a protocol message: %q", line)
		}
		ms = append(ms, m)
	}
	return ms
}

// configured turns a discovered catalog into a configured catalog that
// reads every stream in full.
func configured(t *testing.T, catalog json.RawMessage) []byte {
	t.Helper()
	var c struct{ Streams []json.RawMessage }
	must(t, json.Unmarshal(catalog, &c))
	type stream struct {
		Stream              json.RawMessage `json:"stream"`
		SyncMode            string          `json:"sync_mode"`
		DestinationSyncMode string          `json:"destination_sync_mode"`
	}
	var out struct {
		Streams []stream `json:"streams"`
	}
	for _, s := range c.Streams {
		out.Streams = append(out.Streams, stream{s, "full_refresh", "overwrite"})
	}
	b, err := json.Marshal(out)
	must(t, err)
	return b
}

// sameMessages compares two runs' stdout line by line with timestamps
// (emitted_at, time_extracted) removed: JSON document by document.
func sameMessages(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := normalise(t, got), normalise(t, want)
	if slices.Equal(g, w) {
		return
	}
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s: the container's line %d differs from the bare binary's (%d and %d lines):\n%.1000s\nbare:\n%.1000s", what, i+1, len(g), len(w), gl, wl)
			return
		}
	}
}

func normalise(t *testing.T, out string) []string {
	t.Helper()
	var docs []string
	dec := json.NewDecoder(strings.NewReader(out)) // JSON lines, or one indented document
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return docs
		} else if err != nil {
			t.Fatalf("stdout is not JSON: %v:\n%.1000s", err, out)
		}
		b, _ := json.Marshal(dropTimes(v)) // maps marshal with sorted keys
		docs = append(docs, string(b))
	}
}

func dropTimes(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "emitted_at" || k == "time_extracted" {
				v[k] = "T"
			} else {
				v[k] = dropTimes(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = dropTimes(x)
		}
	}
	return v
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	return addr
}

func median(n int, f func()) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		f()
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[n/2].Round(100 * time.Microsecond)
}

func fileMB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / 1e6
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
