package integ

import (
	"strings"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// AllowHost lets the source's credentials go to the origin of urlOrHost
// too (a URL, or a bare host for https). Credentials go only to the
// config's base_url (when it has one) and the hosts named here; any other
// host (a paginator's next URL, a redirect, a signed download link) is
// sent the request without them. A source that names no host (no base_url,
// no AllowHost before its first request) sends them to the host of its
// first request (trust on first use). Call it from the WithAuth function, or when
// the host is learned (an OAuth token's instance_url, from OnToken).
func (s *Session) AllowHost(urlOrHost string) error {
	return s.authHosts().Add(urlOrHost)
}

// authHosts is the session's credential scope, made on first use.
func (s *Session) authHosts() *requests.Hosts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hosts == nil {
		s.hosts = requests.NewHosts()
	}
	return s.hosts
}

// scopeAuth restricts a to the session's hosts, adding the config's
// base_url first. A templated base_url ("https://{shop}.myshopify.com")
// names no host of its own: the source names it with AllowHost.
func (s *Session) scopeAuth(a requests.Authenticator, cfg *Config) requests.Authenticator {
	hosts := s.authHosts()
	based := false
	if cfg != nil {
		if base := gjson.GetBytes(cfg.raw, "base_url"); base.Type == gjson.String && !strings.ContainsAny(base.String(), "{}") {
			based = hosts.Add(base.String()) == nil // an unparsable one fails the config's own validation
		}
	}
	if !based {
		hosts.AdoptFirst()
	}
	return requests.ScopeTo(a, hosts)
}
