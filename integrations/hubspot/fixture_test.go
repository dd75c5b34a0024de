package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// Secrets of the fixture: realistic lengths, so that a leak is found.
const (
	testToken        = "pat-na1-11111111-2222-3333-4444-555555555555"
	testClientID     = "client-id-0001"
	testClientSecret = "client-secret-abcdef-123456"
	testRefresh      = "refresh-token-aaaa-bbbb-cccc"
	testAccess       = "oauth-access-token-zzzz-0001"
)

// HubSpot's documented error bodies.
const (
	bodyUnauthorized  = `{"status":"error","message":"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview","correlationId":"4c5a2b1e-0000-4000-8000-000000000001","category":"INVALID_AUTHENTICATION"}`
	bodyMissingScopes = `{"status":"error","message":"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.","correlationId":"4c5a2b1e-0000-4000-8000-000000000002","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.deals.read"]}}],"category":"MISSING_SCOPES"}`
	bodyTenSecondly   = `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"4c5a2b1e-0000-4000-8000-000000000003","policyName":"TEN_SECONDLY_ROLLING","requestId":"4c5a2b1e-0000-4000-8000-000000000004"}`
	bodySecondly      = `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"4c5a2b1e-0000-4000-8000-000000000005","policyName":"SECONDLY","requestId":"4c5a2b1e-0000-4000-8000-000000000006"}`
	bodyDaily         = `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"4c5a2b1e-0000-4000-8000-000000000007","policyName":"DAILY","requestId":"4c5a2b1e-0000-4000-8000-000000000008"}`
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fixtureProperty is a property definition.
type fixtureProperty struct{ name, label, typ, fieldType string }

// fixtureRecord is one CRM record.
type fixtureRecord struct {
	id       int
	created  time.Time
	modified time.Time
	values   map[string]string
}

// fixtureObject is one object type's properties and records.
type fixtureObject struct {
	modified string // the last-modified property
	props    []fixtureProperty
	records  []*fixtureRecord // by id
}

// fixture answers like HubSpot's CRM API v3, as documented: list, search,
// properties, owners, the OAuth token endpoint, and its error bodies. It is
// strict: parameters or bodies HubSpot would refuse get HubSpot's 400.
type fixture struct {
	integtest.Faults // answers first when set
	mu               sync.Mutex
	objects          map[string]*fixtureObject
	owners           int
	denied           map[string]bool   // objects answering 403 MISSING_SCOPES
	access           map[string]bool   // accepted bearer tokens
	rotate           string            // a new refresh token the token endpoint hands out
	tokens           []url.Values      // token requests' forms
	window           int               // search results one query reaches
	bodies           map[string][]byte // search bodies, by arrival
}

// newFixture serves n records of each object (ids 1..n, modified a minute
// apart from epoch) and 3 owners.
func newFixture(n int) *fixture {
	f := &fixture{objects: map[string]*fixtureObject{}, owners: 3, denied: map[string]bool{},
		access: map[string]bool{testToken: true}, window: 10_000}
	for _, o := range objects {
		f.objects[o.name] = newObject(o.name, o.modified, n)
	}
	return f
}

func newObject(name, modified string, n int) *fixtureObject {
	fo := &fixtureObject{modified: modified, props: []fixtureProperty{
		{"amount", "Amount", "number", "number"},
		{"closedate", "Close date", "date", "date"},
		{"createdate", "Create date", "datetime", "date"},
		{"hs_is_vip", "VIP", "bool", "booleancheckbox"},
		{"hs_object_id", "Record ID", "number", "number"},
		{modified, "Last modified date", "datetime", "date"},
		{"name", "Name", "string", "text"},
		{"stage", "Stage", "enumeration", "select"},
	}}
	for i := 1; i <= n; i++ {
		fo.records = append(fo.records, &fixtureRecord{id: i, created: epoch, modified: epoch.Add(time.Duration(i) * time.Minute), values: map[string]string{
			"amount":    []string{"1500.50", "", "42", "-7.25"}[i%4],
			"closedate": []string{"2024-03-01", ""}[i%2],
			"hs_is_vip": []string{"true", "false", ""}[i%3],
			"name":      fmt.Sprintf("%s %d", name, i),
			"stage":     "appointmentscheduled",
		}})
	}
	return fo
}

// touch marks records modified at t.
func (f *fixture) touch(object string, t time.Time, ids ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.objects[object].records[id-1].modified = t
	}
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if f.Answer(w, r) {
		return
	}
	if r.URL.Path == "/oauth/v1/token" {
		f.token(w, r)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.access[tok] {
		answer(w, http.StatusUnauthorized, bodyUnauthorized)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/crm/v3/owners":
		f.listOwners(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "crm" && parts[2] == "properties":
		f.properties(w, parts[3])
	case r.Method == http.MethodGet && len(parts) == 4 && parts[2] == "objects":
		f.list(w, r, parts[3])
	case r.Method == http.MethodPost && len(parts) == 5 && parts[2] == "objects" && parts[4] == "search":
		f.search(w, r, parts[3])
	default:
		answer(w, http.StatusNotFound, `{"status":"error","message":"Resource not found","correlationId":"4c5a2b1e-0000-4000-8000-000000000009","category":"OBJECT_NOT_FOUND"}`)
	}
}

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func badRequest(w http.ResponseWriter, msg string) {
	answer(w, http.StatusBadRequest, fmt.Sprintf(`{"status":"error","message":%q,"correlationId":"4c5a2b1e-0000-4000-8000-00000000000a","category":"VALIDATION_ERROR"}`, msg))
}

// token is POST /oauth/v1/token with the refresh-token grant.
func (f *fixture) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		badRequest(w, "bad token request")
		return
	}
	f.tokens = append(f.tokens, r.PostForm)
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("client_id") != testClientID ||
		r.PostForm.Get("client_secret") != testClientSecret || r.PostForm.Get("refresh_token") != testRefresh {
		answer(w, http.StatusBadRequest, `{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token","correlationId":"4c5a2b1e-0000-4000-8000-00000000000b"}`)
		return
	}
	f.access[testAccess] = true
	rt := testRefresh
	if f.rotate != "" {
		rt = f.rotate
	}
	answer(w, http.StatusOK, fmt.Sprintf(`{"token_type":"bearer","refresh_token":%q,"access_token":%q,"expires_in":1800}`, rt, testAccess))
}

func (f *fixture) properties(w http.ResponseWriter, object string) {
	o := f.objects[object]
	if o == nil {
		answer(w, http.StatusBadRequest, `{"status":"error","message":"Unable to infer object type from: `+object+`","category":"VALIDATION_ERROR"}`)
		return
	}
	if f.denied[object] {
		answer(w, http.StatusForbidden, bodyMissingScopes)
		return
	}
	var out []string
	for _, p := range o.props {
		out = append(out, fmt.Sprintf(`{"name":%q,"label":%q,"type":%q,"fieldType":%q,"groupName":"%sinformation","description":"","options":[],"displayOrder":-1,"calculated":false,"externalOptions":false,"hasUniqueValue":false,"hidden":false,"hubspotDefined":true,"modificationMetadata":{"archivable":true,"readOnlyDefinition":true,"readOnlyValue":false},"formField":true}`,
			p.name, p.label, p.typ, p.fieldType, strings.TrimSuffix(object, "s")))
	}
	answer(w, http.StatusOK, `{"results":[`+strings.Join(out, ",")+`]}`)
}

// recordJSON is a record as the objects and search endpoints send it: every
// property value a string (or null when unset).
func recordJSON(o *fixtureObject, rec *fixtureRecord, props []string) string {
	vals := map[string]any{}
	for _, p := range props {
		switch p {
		case "hs_object_id":
			vals[p] = strconv.Itoa(rec.id)
		case "createdate":
			vals[p] = rec.created.Format("2006-01-02T15:04:05.000Z")
		case o.modified:
			vals[p] = rec.modified.Format("2006-01-02T15:04:05.000Z")
		default:
			if v, ok := rec.values[p]; ok {
				vals[p] = v
			} else {
				vals[p] = nil
			}
		}
	}
	b, _ := json.Marshal(vals)
	return fmt.Sprintf(`{"id":"%d","properties":%s,"createdAt":%q,"updatedAt":%q,"archived":false}`,
		rec.id, b, rec.created.Format("2006-01-02T15:04:05.000Z"), rec.modified.Format("2006-01-02T15:04:05.000Z"))
}

// limit reads a limit parameter the way HubSpot checks it.
func limit(s string, max int) (int, bool) {
	if s == "" {
		return 10, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= max
}

// object is the object a request names, or nil when HubSpot refuses it
// (unknown, or its scope denied), answered.
func (f *fixture) object(w http.ResponseWriter, object string) *fixtureObject {
	o := f.objects[object]
	switch {
	case o == nil:
		badRequest(w, "Unable to infer object type from: "+object)
		return nil
	case f.denied[object]:
		answer(w, http.StatusForbidden, bodyMissingScopes)
		return nil
	}
	return o
}

// list is GET /crm/v3/objects/{object}?limit=&after=&properties=&archived=.
func (f *fixture) list(w http.ResponseWriter, r *http.Request, object string) {
	o := f.object(w, object)
	if o == nil {
		return
	}
	q := r.URL.Query()
	n, ok := limit(q.Get("limit"), 100)
	if !ok {
		badRequest(w, "limit must be between 1 and 100")
		return
	}
	start := 0
	if a := q.Get("after"); a != "" {
		id, err := strconv.Atoi(a)
		if err != nil {
			badRequest(w, "after is not a valid cursor: "+a)
			return
		}
		start = id - 1
	}
	props := []string{"createdate", o.modified, "hs_object_id"}
	if p := q.Get("properties"); p != "" {
		props = strings.Split(p, ",")
	}
	var out []string
	end := min(start+n, len(o.records))
	for _, rec := range o.records[start:end] {
		out = append(out, recordJSON(o, rec, props))
	}
	paging := ""
	if end < len(o.records) {
		next := o.records[end].id
		paging = fmt.Sprintf(`,"paging":{"next":{"after":"%d","link":"https://api.hubapi.com/crm/v3/objects/%s?after=%d"}}`, next, object, next)
	}
	answer(w, http.StatusOK, `{"results":[`+strings.Join(out, ",")+`]`+paging+`}`)
}

// search is POST /crm/v3/objects/{object}/search.
func (f *fixture) search(w http.ResponseWriter, r *http.Request, object string) {
	o := f.object(w, object)
	if o == nil {
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		answer(w, http.StatusUnsupportedMediaType, `{"status":"error","message":"Content type not supported"}`)
		return
	}
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(r.Body)
	var body struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName string `json:"propertyName"`
				Operator     string `json:"operator"`
				Value        string `json:"value"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Sorts []struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		} `json:"sorts"`
		Properties []string `json:"properties"`
		Limit      int      `json:"limit"`
		After      string   `json:"after"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		badRequest(w, "Invalid input JSON: "+err.Error())
		return
	}
	if body.Limit < 1 || body.Limit > 200 {
		badRequest(w, "limit must be between 1 and 200")
		return
	}
	if len(body.FilterGroups) != 1 || len(body.FilterGroups[0].Filters) != 1 || len(body.Sorts) != 1 {
		badRequest(w, "the fixture serves one filter and one sort")
		return
	}
	flt, srt := body.FilterGroups[0].Filters[0], body.Sorts[0]
	since, err := strconv.ParseInt(flt.Value, 10, 64)
	if flt.PropertyName != o.modified || flt.Operator != "GTE" || err != nil || srt.PropertyName != o.modified || srt.Direction != "ASCENDING" {
		badRequest(w, fmt.Sprintf("the fixture serves %s GTE <ms> sorted ASCENDING, not %+v %+v", o.modified, flt, srt))
		return
	}
	start := 0
	if body.After != "" {
		if start, err = strconv.Atoi(body.After); err != nil {
			badRequest(w, "after is not a number: "+body.After)
			return
		}
	}
	if start+body.Limit > f.window {
		badRequest(w, fmt.Sprintf("The search API cannot page past %d results.", f.window))
		return
	}
	f.bodies[object] = append(f.bodies[object], raw.Bytes()...)
	f.bodies[object] = append(f.bodies[object], '\n')
	var match []*fixtureRecord
	for _, rec := range o.records {
		if rec.modified.UnixMilli() >= since {
			match = append(match, rec)
		}
	}
	slices.SortStableFunc(match, func(a, b *fixtureRecord) int { return a.modified.Compare(b.modified) })
	var out []string
	end := min(start+body.Limit, len(match))
	for _, rec := range match[min(start, end):end] {
		out = append(out, recordJSON(o, rec, body.Properties))
	}
	paging := ""
	if end < len(match) {
		paging = fmt.Sprintf(`,"paging":{"next":{"after":"%d"}}`, end)
	}
	answer(w, http.StatusOK, fmt.Sprintf(`{"total":%d,"results":[%s]%s}`, len(match), strings.Join(out, ","), paging))
}

// listOwners is GET /crm/v3/owners?limit=&after=&archived=.
func (f *fixture) listOwners(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, ok := limit(q.Get("limit"), 500)
	if !ok {
		badRequest(w, "limit must be between 1 and 500")
		return
	}
	start, _ := strconv.Atoi(q.Get("after"))
	var out []string
	end := min(start+n, f.owners)
	for i := start; i < end; i++ {
		out = append(out, fmt.Sprintf(`{"id":"%d","email":"owner%d@example.com","type":"PERSON","firstName":"Owner","lastName":"%d","userId":%d,"userIdIncludingInactive":%d,"createdAt":"2023-01-01T00:00:00Z","updatedAt":"2023-06-01T00:00:00Z","archived":false,"teams":[{"id":"7","name":"Sales","primary":true}]}`,
			1000+i, i, i, 5000+i, 5000+i))
	}
	paging := ""
	if end < f.owners {
		paging = fmt.Sprintf(`,"paging":{"next":{"after":"%d","link":"https://api.hubapi.com/crm/v3/owners?after=%d"}}`, end, end)
	}
	answer(w, http.StatusOK, `{"results":[`+strings.Join(out, ",")+`]`+paging+`}`)
}

// serve starts the fixture behind the request recorder.
func serve(t *testing.T, f *fixture) *integtest.Server {
	f.bodies = map[string][]byte{}
	return integtest.NewServer(t, f)
}

// tokenConfig is a private-app config pointing at srv.
func tokenConfig(srv *integtest.Server, extra ...any) map[string]any {
	cfg := map[string]any{
		"credentials":                map[string]any{"auth_type": "private_app", "access_token": testToken},
		"base_url":                   srv.URL,
		"page_size":                  2,
		"requests_per_second":        1000,
		"search_requests_per_second": 1000,
		"max_parallel_streams":       1, // a rate would read streams at once: tests assert the order of requests
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i].(string)] = extra[i+1]
	}
	return cfg
}
