package klaviyo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// testKey is the private key the fixture accepts.
const testKey = "pk_test_5c1e9a77d2b44f0e"

// t0 is when the fixture's account starts: every timestamp is after it.
var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// ts formats t as Klaviyo does: RFC 3339 with an explicit +00:00 offset.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// endpoint is what Klaviyo's reference documents for one list endpoint
// (revision 2026-10-15): the page size, whether page[size] is taken (and
// up to what), the sort fields, and the filters.
type endpoint struct {
	pageSize    int      // default, or fixed when maxPageSize is 0
	maxPageSize int      // 0: page[size] is refused
	sorts       []string // fields sort= takes
	greaterThan []string // fields greater-than() takes
	channel     bool     // equals(messages.channel,'...') required
}

var endpoints = map[string]endpoint{
	"profiles":  {pageSize: 20, maxPageSize: 100, sorts: []string{"id", "created", "updated", "email"}, greaterThan: []string{"updated"}},
	"events":    {pageSize: 200, maxPageSize: 1000, sorts: []string{"datetime", "timestamp"}, greaterThan: []string{"datetime"}},
	"lists":     {pageSize: 10, sorts: []string{"created", "id", "name", "updated"}, greaterThan: []string{"created", "updated"}},
	"campaigns": {pageSize: 10, sorts: []string{"created_at", "id", "name", "scheduled_at", "updated_at"}, greaterThan: []string{"created_at", "updated_at"}, channel: true},
	"metrics":   {pageSize: 200},
	// GET /api/lists/{id}/relationships/profiles
	"list_members": {pageSize: 20},
}

// apiResource is one JSON:API resource of the fixture.
type apiResource struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Attrs   map[string]any `json:"attributes,omitempty"`
	Rels    map[string]any `json:"relationships,omitempty"`
	Links   map[string]any `json:"links,omitempty"`
	channel string
}

// fixture answers like Klaviyo's API: the documented headers, JSON:API
// error bodies, cursor pages with an absolute links.next, filters and
// sorts, and 400 for what an endpoint does not take.
type fixture struct {
	mu        sync.Mutex
	data      map[string][]apiResource
	members   map[string][]apiResource // list id: its profiles, as resource linkage
	n         int                      // requests answered so far
	forbidden map[string]bool          // endpoints answering 403 (a key without the scope)
	// rate, when set, gives the steady window's headers of the n-th answer.
	rate func(n int) (limit, left, reset int)
}

// newFixture returns an account with np profiles (updated three at a time
// in the same second), ne events (two a second), nl lists, the campaigns
// (3 email, 2 sms, 1 mobile push) and 3 metrics.
func newFixture(np, ne, nl int) *fixture {
	f := &fixture{data: map[string][]apiResource{}, members: map[string][]apiResource{}, forbidden: map[string]bool{}}
	for i := range np {
		f.addProfile(fmt.Sprintf("01HPROF%04d", i), t0.Add(time.Duration(i/3)*time.Minute))
	}
	for i := range ne {
		at := t0.Add(time.Duration(i/2) * time.Hour)
		f.data["events"] = append(f.data["events"], apiResource{ID: fmt.Sprintf("4vEVT%04d", i), Type: "event",
			Attrs: map[string]any{
				"timestamp": at.Unix(), "datetime": ts(at), "uuid": fmt.Sprintf("8a1c0000-0000-4000-8000-%012d", i),
				"event_properties": map[string]any{"$value": 12.5 * float64(i), "Items": []string{"Socks"}},
			},
			Rels: map[string]any{
				"profile": map[string]any{"data": map[string]any{"type": "profile", "id": fmt.Sprintf("01HPROF%04d", i%3)}, "links": map[string]any{"self": "x", "related": "y"}},
				"metric":  map[string]any{"data": map[string]any{"type": "metric", "id": "RqZ9Ab"}, "links": map[string]any{"self": "x", "related": "y"}},
			}})
	}
	for i := range nl {
		id := fmt.Sprintf("Y6nL%02d", i)
		f.members[id] = []apiResource{}
		for j, p := range f.data["profiles"] {
			if i == 0 || i == 1 && j%2 == 0 { // the first list has every profile, the second every other one
				f.members[id] = append(f.members[id], apiResource{ID: p.ID, Type: "profile"})
			}
		}
		f.data["lists"] = append(f.data["lists"], apiResource{ID: fmt.Sprintf("Y6nL%02d", i), Type: "list", Attrs: map[string]any{
			"name": fmt.Sprintf("Newsletter %d", i), "created": ts(t0), "updated": ts(t0.Add(time.Duration(i) * time.Hour)), "opt_in_process": "double_opt_in",
		}, Rels: map[string]any{"tags": map[string]any{"links": map[string]any{"self": "x"}}}})
	}
	for i, ch := range []string{"email", "email", "email", "sms", "sms", "mobile_push"} {
		f.data["campaigns"] = append(f.data["campaigns"], apiResource{ID: fmt.Sprintf("01HCAMP%04d", i), Type: "campaign", channel: ch, Attrs: map[string]any{
			"name": fmt.Sprintf("Spring sale (%s)", ch), "status": "Sent", "archived": false,
			"audiences":        map[string]any{"included": []string{"Y6nL00"}, "excluded": []string{}},
			"send_options":     map[string]any{"use_smart_sending": true},
			"tracking_options": map[string]any{"add_tracking_params": false},
			"send_strategy":    map[string]any{"method": "static", "datetime": ts(t0)},
			"created_at":       ts(t0), "scheduled_at": ts(t0), "updated_at": ts(t0), "send_time": ts(t0),
		}})
	}
	for i, name := range []string{"Placed Order", "Opened Email", "Custom"} {
		integration := any(map[string]any{"id": "0eMvjm", "name": "Shopify", "category": "eCommerce"})
		if name == "Custom" {
			integration = nil
		}
		f.data["metrics"] = append(f.data["metrics"], apiResource{ID: fmt.Sprintf("RqZ9A%d", i), Type: "metric", Attrs: map[string]any{
			"name": name, "created": ts(t0), "updated": ts(t0), "integration": integration,
		}})
	}
	return f
}

// addProfile adds (or replaces) a profile updated at updated.
func (f *fixture) addProfile(id string, updated time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lat := any(40.7128)
	if len(f.data["profiles"])%2 == 1 {
		lat = "40.7128" // Klaviyo returns either
	}
	p := apiResource{ID: id, Type: "profile", Attrs: map[string]any{
		"email": strings.ToLower(id) + "@example.com", "phone_number": nil, "external_id": nil,
		"first_name": "Sarah", "last_name": "Mason", "organization": nil, "locale": "en-US", "title": nil, "image": nil,
		"created": ts(t0), "updated": ts(updated), "last_event_date": nil,
		"location":   map[string]any{"address1": "89 E 42nd St", "address2": nil, "city": "New York", "country": "United States", "latitude": lat, "longitude": "-74.0060", "region": "NY", "zip": "10017", "timezone": "America/New_York", "ip": nil},
		"properties": map[string]any{"pseudonym": "Dr. Octopus"},
	}, Rels: map[string]any{"lists": map[string]any{"links": map[string]any{"self": "x", "related": "y"}}}}
	for i, q := range f.data["profiles"] {
		if q.ID == id {
			f.data["profiles"][i] = p
			return
		}
	}
	f.data["profiles"] = append(f.data["profiles"], p)
}

// sortKey is the value of field in r, as sort= compares it.
func sortKey(r apiResource, field string) string {
	if field == "id" {
		return r.ID
	}
	if v, ok := r.Attrs[field].(string); ok {
		return v
	}
	return fmt.Sprint(r.Attrs[field])
}

// apiError writes a JSON:API error body, as Klaviyo does.
func apiError(w http.ResponseWriter, status int, code, title, detail string) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"id": "e4eebb08-b055-4a6f-bb13-c8cb69c9eb94", "status": status, "code": code, "title": title, "detail": detail,
		"source": map[string]any{"parameter": ""},
	}}})
}

var (
	greaterThanRe = regexp.MustCompile(`^greater-than\(([a-z_]+),([^,()]+)\)$`)
	channelRe     = regexp.MustCompile(`^equals\(messages\.channel,'(email|sms|mobile_push)'\)$`)
)

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Klaviyo-API-Key "+testKey {
		apiError(w, http.StatusUnauthorized, "not_authenticated", "Authentication credentials were not provided.", "Missing or invalid private key.")
		return
	}
	if rev := r.Header.Get("revision"); rev != Revision {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", fmt.Sprintf("Invalid revision header %q.", rev))
		return
	}
	if a := r.Header.Get("Accept"); a != "application/vnd.api+json" && a != "application/json" {
		apiError(w, http.StatusNotAcceptable, "not_acceptable", "Could not satisfy the request Accept header.", "Use application/vnd.api+json.")
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/"), "/")
	var list string
	if rest, ok := strings.CutPrefix(name, "lists/"); ok {
		if id, ok := strings.CutSuffix(rest, "/relationships/profiles"); ok {
			name, list = "list_members", id
		}
	}
	ep, ok := endpoints[name]
	if !ok || r.Method != http.MethodGet {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "No such endpoint.")
		return
	}
	if f.forbidden[name] {
		apiError(w, http.StatusForbidden, "permission_denied", "You do not have permission to perform this action.", fmt.Sprintf("This private key is missing the %s:read scope.", name))
		return
	}
	q := r.URL.Query()
	bad := func(detail string) { apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", detail) }
	for k := range q {
		if !slices.Contains([]string{"page[cursor]", "page[size]", "sort", "filter"}, k) {
			bad(fmt.Sprintf("'%s' is not a valid parameter.", k))
			return
		}
	}
	size := ep.pageSize
	if v := q.Get("page[size]"); v != "" {
		s, err := strconv.Atoi(v)
		switch {
		case ep.maxPageSize == 0:
			bad("'page[size]' is not a valid parameter for this endpoint.")
			return
		case err != nil || s < 1 || s > ep.maxPageSize:
			bad(fmt.Sprintf("Invalid page[size]: must be between 1 and %d.", ep.maxPageSize))
			return
		}
		size = s
	}
	f.mu.Lock()
	rows := slices.Clone(f.data[name])
	members, known := f.members[list]
	f.mu.Unlock()
	if name == "list_members" {
		if !known {
			apiError(w, http.StatusNotFound, "not_found", "Not found.", fmt.Sprintf("A list with id %s does not exist.", list))
			return
		}
		rows = slices.Clone(members)
	}
	filter := q.Get("filter")
	if ep.channel {
		m := channelRe.FindStringSubmatch(filter)
		if m == nil {
			bad("A channel filter is required, e.g. equals(messages.channel,'email').")
			return
		}
		rows = slices.DeleteFunc(rows, func(r apiResource) bool { return r.channel != m[1] })
	} else if filter != "" {
		m := greaterThanRe.FindStringSubmatch(filter)
		if m == nil || !slices.Contains(ep.greaterThan, m[1]) {
			bad(fmt.Sprintf("Invalid filter %q.", filter))
			return
		}
		after, err := time.Parse(time.RFC3339, m[2])
		if err != nil {
			bad(fmt.Sprintf("Invalid date-time %q in filter.", m[2]))
			return
		}
		rows = slices.DeleteFunc(rows, func(r apiResource) bool {
			at, _ := time.Parse(time.RFC3339, r.Attrs[m[1]].(string))
			return !at.After(after)
		})
	}
	if s := q.Get("sort"); s != "" {
		if !slices.Contains(ep.sorts, s) {
			bad(fmt.Sprintf("Invalid sort field %q.", s))
			return
		}
		cmp := func(a, b apiResource) int {
			if c := strings.Compare(sortKey(a, s), sortKey(b, s)); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		}
		if !slices.IsSortedFunc(rows, cmp) { // most requests: sorted already
			slices.SortStableFunc(rows, cmp)
		}
	}
	offset := 0
	if c := q.Get("page[cursor]"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			offset, err = strconv.Atoi(strings.TrimPrefix(string(raw), "bmV4dA:"))
		}
		if err != nil || offset < 0 || offset > len(rows) {
			bad("Invalid page cursor.")
			return
		}
	}
	end := min(offset+size, len(rows))
	base := "http://" + r.Host + r.URL.Path
	self := base + "?" + r.URL.RawQuery
	var next any
	if end < len(rows) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page[cursor]", base64.RawURLEncoding.EncodeToString([]byte("bmV4dA:"+strconv.Itoa(end))))
		next = base + "?" + nq.Encode()
	}
	page := make([]apiResource, 0, end-offset)
	for _, row := range rows[offset:end] {
		if name != "list_members" { // resource linkage has no links
			row.Links = map[string]any{"self": base + "/" + row.ID + "/"}
		}
		page = append(page, row)
	}
	w.Header().Set("Content-Type", "application/vnd.api+json")
	limit, left, reset := 750, 749, 44
	if f.rate != nil {
		limit, left, reset = f.rate(n)
	}
	w.Header().Set("RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(left))
	w.Header().Set("RateLimit-Reset", strconv.Itoa(reset))
	json.NewEncoder(w).Encode(map[string]any{"data": page, "links": map[string]any{"self": self, "next": next, "prev": nil}})
}
