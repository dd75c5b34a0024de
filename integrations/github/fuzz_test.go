package github

import (
	"strings"
	"testing"
)

// The config's repository names and the App's private key are parsed by
// the connector: whatever they hold, they give an error (never a panic),
// and an error about the key never quotes it.
func FuzzConfigParsers(f *testing.F) {
	f.Add("octocat/Hello-World", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n")
	f.Add("a/b/c", "-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----")
	f.Add("/x", "")
	f.Add("owner/", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, repo, key string) {
		cfg := Config{Repositories: []string{repo}}
		err := cfg.check()
		owner, name, ok := strings.Cut(repo, "/")
		if valid := ok && owner != "" && name != "" && !strings.Contains(name, "/"); valid != (err == nil) {
			t.Errorf("repository %q: %v", repo, err)
		}
		if err == nil && repoPath(repo) == "" {
			t.Errorf("no path for %q", repo)
		}
		k, err := parseKey([]byte(key))
		if (k == nil) == (err == nil) {
			t.Fatalf("key and error both set or both nil: %v", err)
		}
		if err != nil && err != errKeyNotPEM && err != errKeyNotRSA {
			t.Errorf("an error that may quote the key: %v", err)
		}
	})
}
