package docker_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileTemplate checks, without a container engine, what Airbyte
// relies on in docker/Dockerfile.in: an image from scratch with a non-root
// user, an absolute exec-form ENTRYPOINT that AIRBYTE_ENTRYPOINT repeats
// exactly, and the io.airbyte labels. The smoke test checks the built images.
func TestDockerfileTemplate(t *testing.T) {
	b, err := os.ReadFile("Dockerfile.in")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(string(b), "\\\n", " ") // join continued lines
	src = strings.NewReplacer("@NAME@", "example", "@IMAGE@", "source-example", "@VERSION@", "v1.2.3").Replace(src)
	instr := map[string][]string{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		instr[strings.ToUpper(word)] = append(instr[strings.ToUpper(word)], strings.TrimSpace(rest))
	}
	one := func(word string) string {
		if len(instr[word]) != 1 {
			t.Fatalf("want one %s, have %q", word, instr[word])
		}
		return instr[word][0]
	}
	if got := one("FROM"); got != "scratch" {
		t.Errorf("FROM %s: the image must build with no registry, FROM scratch", got)
	}
	if got := one("USER"); got != "airbyte" {
		t.Errorf("USER %s, want airbyte", got)
	}
	var entry []string
	if err := json.Unmarshal([]byte(one("ENTRYPOINT")), &entry); err != nil || len(entry) == 0 || !strings.HasPrefix(entry[0], "/") {
		t.Fatalf("ENTRYPOINT must be an absolute exec form: %q (%v)", one("ENTRYPOINT"), err)
	}
	if entry[0] != "/airbyte/bin/tap-example" {
		t.Errorf("ENTRYPOINT %q, want the binary /airbyte/bin/tap-<name>", entry)
	}
	kv := regexp.MustCompile(`([A-Za-z_.]+)=("[^"]*"|\S+)`)
	values := func(word string) map[string]string {
		m := map[string]string{}
		for _, s := range kv.FindAllStringSubmatch(one(word), -1) {
			m[s[1]] = strings.Trim(s[2], `"`)
		}
		return m
	}
	if got, want := values("ENV")["AIRBYTE_ENTRYPOINT"], strings.Join(entry, " "); got != want {
		t.Errorf("AIRBYTE_ENTRYPOINT %q, want the ENTRYPOINT %q", got, want)
	}
	labels := values("LABEL")
	if labels["io.airbyte.name"] != "source-example" || labels["io.airbyte.version"] != "v1.2.3" {
		t.Errorf("labels %v: want io.airbyte.name=source-<name> and io.airbyte.version=<version>", labels)
	}
}
