package salesforce

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/integ/integ/integtest"
)

// The fixture's credentials: realistic, so the secret checks find them.
const (
	clientID     = "3MVG9fixture-client-id"
	clientSecret = "fixture-client-secret-5678"
	refreshToken = "5Aep861fixture-refresh-token-1234"
	accessToken  = "00Dfixture!access-token-9876"
)

// field is one field of a describe.
type field struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Label    string `json:"label"`
	Nillable bool   `json:"nillable"`
}

// object is one sObject of the fixture org.
type object struct {
	name      string
	queryable bool
	fields    []field
	records   int
	forbidden bool // queries answer INVALID_TYPE, as for an object the user may not read
}

var common = []field{
	{"Id", "id", "Record ID", false},
	{"IsDeleted", "boolean", "Deleted", false},
	{"CreatedDate", "datetime", "Created Date", false},
	{"SystemModstamp", "datetime", "System Modstamp", false},
}

// defaultObjects is a small org: three standard objects, a history and a
// sharing object (no SystemModstamp), a custom object with a base64 field, and one object
// that is listed but not queryable.
func defaultObjects() []*object {
	with := func(extra ...field) []field { return append(slices.Clone(common), extra...) }
	return []*object{
		{name: "Account", queryable: true, records: 5, fields: with(
			field{"Name", "string", "Account Name", false},
			field{"Type", "picklist", "Account Type", true},
			field{"Website", "url", "Website", true},
			field{"AnnualRevenue", "currency", "Annual Revenue", true},
			field{"NumberOfEmployees", "int", "Employees", true},
			field{"BillingAddress", "address", "Billing Address", true},
			field{"Description", "textarea", "Account Description", true},
			field{"LastActivityDate", "date", "Last Activity", true},
		)},
		{name: "Contact", queryable: true, records: 3, fields: with(
			field{"LastName", "string", "Last Name", false},
			field{"Email", "email", "Email", true},
			field{"Phone", "phone", "Business Phone", true},
			field{"AccountId", "reference", "Account ID", true},
			field{"HasOptedOutOfEmail", "boolean", "Email Opt Out", false},
		)},
		{name: "Opportunity", queryable: true, records: 4, fields: with(
			field{"Name", "string", "Name", false},
			field{"Amount", "currency", "Amount", true},
			field{"Probability", "percent", "Probability (%)", true},
			field{"CloseDate", "date", "Close Date", false},
		)},
		{name: "AccountHistory", queryable: true, records: 2, fields: []field{
			{"Id", "id", "History ID", false},
			{"AccountId", "reference", "Account ID", false},
			{"Field", "picklist", "Changed Field", false},
			{"CreatedDate", "datetime", "Created Date", false},
		}},
		{name: "AccountShare", queryable: true, records: 2, fields: []field{
			{"Id", "id", "Account Share ID", false},
			{"AccountId", "reference", "Account ID", false},
			{"RowCause", "picklist", "Row Cause", true},
			{"LastModifiedDate", "datetime", "Last Modified Date", false},
		}},
		{name: "Document__c", queryable: true, records: 2, fields: with(
			field{"Name", "string", "Document Name", true},
			field{"Body__c", "base64", "Body", true},
			field{"Score__c", "double", "Score", true},
		)},
		{name: "AccountChangeEvent", queryable: false, fields: with()},
	}
}

// org answers like Salesforce: the OAuth token endpoint on the login
// server, and the REST and Bulk API 2.0 endpoints on the instance.
type org struct {
	objects  []*object
	pageSize int // REST query page size (Salesforce's is 2000)
	// instance is the URL the token response names.
	instance string
	// pollsUntilDone is how many job polls answer InProgress first.
	pollsUntilDone int
	// limitUsed is the api-usage reported in Sforce-Limit-Info.
	limitUsed, limitMax int
	// rotate, when set, is the new refresh token the token endpoint hands
	// out with each access token (refresh token rotation).
	rotate           string
	integtest.Faults // a test answers chosen API requests itself

	mu      sync.Mutex
	n       int
	cursors map[string]cursor
	jobs    map[string]*job
}

type cursor struct {
	obj    *object
	fields []string
	rows   []int
	off    int
}

type job struct {
	obj    *object
	fields []string
	rows   []int
	polls  int
}

func newOrg() *org {
	return &org{objects: defaultObjects(), pageSize: 2, pollsUntilDone: 2, limitUsed: 120, limitMax: 15000,
		cursors: map[string]cursor{}, jobs: map[string]*job{}}
}

func (o *org) object(name string) *object {
	for _, obj := range o.objects {
		if obj.name == name {
			return obj
		}
	}
	return nil
}

// servers starts the login and instance servers and returns a config
// pointing at them.
func (o *org) servers(t *testing.T) (login, instance *integtest.Server, cfg map[string]any) {
	t.Helper()
	instance = integtest.NewServer(t, http.HandlerFunc(o.api))
	login = integtest.NewServer(t, http.HandlerFunc(o.token))
	o.instance = instance.URL
	return login, instance, map[string]any{
		"client_id": clientID, "client_secret": clientSecret, "refresh_token": refreshToken,
		"login_url": login.URL, "bulk_poll_interval": 0,
	}
}

// token is POST /services/oauth2/token, grant_type=refresh_token.
func (o *org) token(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/services/oauth2/token" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("client_id") != clientID || r.Form.Get("client_secret") != clientSecret {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	if r.Form.Get("refresh_token") != refreshToken {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant", "error_description": "expired access/refresh token"})
		return
	}
	resp := map[string]string{
		"access_token": accessToken, "instance_url": o.instance, "token_type": "Bearer",
		"id": o.instance + "/id/00Dxx0000001gPL/005xx000001Sv6e", "issued_at": "1709294400000",
		"signature": "fixture-signature=", "scope": "api refresh_token",
	}
	if o.rotate != "" {
		resp["refresh_token"] = o.rotate
	}
	writeJSON(w, resp)
}

func (o *org) api(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if o.Answer(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+accessToken {
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", o.limitUsed, o.limitMax))
	rest, ok := strings.CutPrefix(r.URL.Path, apiPath)
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	switch {
	case rest == "/limits" && r.Method == http.MethodGet:
		writeJSON(w, map[string]any{"DailyApiRequests": map[string]int{"Max": o.limitMax, "Remaining": o.limitMax - o.limitUsed}})
	case rest == "/sobjects" && r.Method == http.MethodGet:
		o.list(w)
	case strings.HasPrefix(rest, "/sobjects/") && strings.HasSuffix(rest, "/describe"):
		o.describe(w, strings.TrimSuffix(strings.TrimPrefix(rest, "/sobjects/"), "/describe"))
	case (rest == "/query" || rest == "/queryAll") && r.Method == http.MethodGet:
		o.query(w, r.URL.Query().Get("q"))
	case strings.HasPrefix(rest, "/query/"):
		o.next(w, strings.TrimPrefix(rest, "/query/"))
	case rest == "/jobs/query" && r.Method == http.MethodPost:
		o.createJob(w, r)
	case strings.HasPrefix(rest, "/jobs/query/") && strings.HasSuffix(rest, "/results"):
		o.results(w, r, strings.TrimSuffix(strings.TrimPrefix(rest, "/jobs/query/"), "/results"))
	case strings.HasPrefix(rest, "/jobs/query/"):
		o.jobInfo(w, strings.TrimPrefix(rest, "/jobs/query/"))
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (o *org) list(w http.ResponseWriter) {
	var objs []map[string]any
	for _, obj := range o.objects {
		objs = append(objs, map[string]any{
			"name": obj.name, "label": strings.TrimSuffix(obj.name, "__c"), "custom": strings.HasSuffix(obj.name, "__c"),
			"queryable": obj.queryable, "retrieveable": obj.queryable,
			"urls": map[string]string{"sobject": apiPath + "/sobjects/" + obj.name, "describe": apiPath + "/sobjects/" + obj.name + "/describe"},
		})
	}
	writeJSON(w, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

func (o *org) describe(w http.ResponseWriter, name string) {
	obj := o.object(name)
	if obj == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, map[string]any{"name": name, "label": name, "queryable": obj.queryable, "fields": obj.fields})
}

// query answers "SELECT f1,f2 FROM Object [WHERE Key >= datetime] [ORDER BY Key ASC]".
func (o *org) query(w http.ResponseWriter, soql string) {
	obj, fields, rows, ok := o.parse(soql, true)
	if !ok {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token: "+strconv.Quote(soql))
		return
	}
	if obj.forbidden {
		writeError(w, http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+obj.name+"' is not supported.")
		return
	}
	o.page(w, cursor{obj: obj, fields: fields, rows: rows})
}

func (o *org) next(w http.ResponseWriter, id string) {
	o.mu.Lock()
	c, ok := o.cursors[id]
	o.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	o.page(w, c)
}

func (o *org) page(w http.ResponseWriter, c cursor) {
	end := min(c.off+o.pageSize, len(c.rows))
	recs := []map[string]any{}
	for _, i := range c.rows[c.off:end] {
		rec := map[string]any{"attributes": map[string]string{"type": c.obj.name, "url": apiPath + "/sobjects/" + c.obj.name + "/" + recordID(c.obj, i)}}
		for _, f := range c.fields {
			rec[f] = value(c.obj, f, i, false)
		}
		recs = append(recs, rec)
	}
	body := map[string]any{"totalSize": len(c.rows), "done": end >= len(c.rows), "records": recs}
	if end < len(c.rows) {
		o.mu.Lock()
		id := fmt.Sprintf("01gD0000002HU6KIAW-%d", end)
		o.cursors[id] = cursor{obj: c.obj, fields: c.fields, rows: c.rows, off: end}
		o.mu.Unlock()
		body["nextRecordsUrl"] = apiPath + "/query/" + id
	}
	writeJSON(w, body)
}

func (o *org) createJob(w http.ResponseWriter, r *http.Request) {
	var body struct{ Operation, Query string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || (body.Operation != "query" && body.Operation != "queryAll") {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : Invalid job operation")
		return
	}
	obj, fields, rows, ok := o.parse(body.Query, false)
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "unsupported query: "+strconv.Quote(body.Query))
		return
	}
	for _, f := range fields {
		if typ := fieldType(obj, f); typ == "address" || typ == "location" || typ == "base64" {
			writeError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : "+f+": compound and base64 fields are not supported by Bulk API 2.0")
			return
		}
	}
	o.mu.Lock()
	id := fmt.Sprintf("750R0000000zlh%dIAA", len(o.jobs)+1)
	o.jobs[id] = &job{obj: obj, fields: fields, rows: rows}
	o.mu.Unlock()
	writeJSON(w, map[string]any{"id": id, "operation": body.Operation, "object": obj.name, "state": "UploadComplete",
		"concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": 61.0, "lineEnding": "LF", "columnDelimiter": "COMMA"})
}

func (o *org) jobInfo(w http.ResponseWriter, id string) {
	o.mu.Lock()
	j, ok := o.jobs[id]
	state := "InProgress"
	if ok {
		if j.polls++; j.polls > o.pollsUntilDone {
			state = "JobComplete"
		}
	}
	o.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, map[string]any{"id": id, "operation": "query", "object": j.obj.name, "state": state, "numberRecordsProcessed": len(j.rows)})
}

// results is GET .../results?locator=&maxRecords=: CSV, the next page's
// locator in Sforce-Locator ("null" after the last).
func (o *org) results(w http.ResponseWriter, r *http.Request, id string) {
	o.mu.Lock()
	j, ok := o.jobs[id]
	o.mu.Unlock()
	if !ok || j.polls <= o.pollsUntilDone {
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "the job is not complete")
		return
	}
	max, err := strconv.Atoi(r.URL.Query().Get("maxRecords"))
	if err != nil || max < 1 {
		max = 1000
	}
	off := 0
	if l := r.URL.Query().Get("locator"); l != "" {
		b, err := base64.StdEncoding.DecodeString(l)
		if off, err = strconv.Atoi(string(b)); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_LOCATOR", "invalid locator")
			return
		}
	}
	end := min(off+max, len(j.rows))
	next := "null"
	if end < len(j.rows) {
		next = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Sforce-Locator", next)
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-off))
	cw := csv.NewWriter(w)
	_ = cw.Write(j.fields)
	for _, i := range j.rows[off:end] {
		row := make([]string, len(j.fields))
		for k, f := range j.fields {
			row[k] = fmt.Sprint(value(j.obj, f, i, true))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// parse reads a SOQL SELECT of this fixture's shape; sorted requires the
// ORDER BY the REST query must have, and Bulk API 2.0 jobs must not.
func (o *org) parse(q string, sorted bool) (*object, []string, []int, bool) {
	rest, ok := strings.CutPrefix(q, "SELECT ")
	if !ok {
		return nil, nil, nil, false
	}
	list, rest, ok := strings.Cut(rest, " FROM ")
	if !ok {
		return nil, nil, nil, false
	}
	name, rest, _ := strings.Cut(rest, " ")
	obj := o.object(name)
	if obj == nil || !obj.queryable {
		return nil, nil, nil, false
	}
	key := replicationKey(name)
	from := ""
	if w, ok := strings.CutPrefix(rest, "WHERE "+key+" >= "); ok {
		from, rest, _ = strings.Cut(w, " ")
	}
	if sorted != (rest == "ORDER BY "+key+" ASC") {
		return nil, nil, nil, false
	}
	fields := strings.Split(list, ",")
	for _, f := range fields {
		if fieldType(obj, f) == "" {
			return nil, nil, nil, false
		}
	}
	var rows []int
	for i := range obj.records {
		if from == "" || stamp(i, "Z") >= from {
			rows = append(rows, i)
		}
	}
	return obj, fields, rows, true
}

func fieldType(obj *object, name string) string {
	for _, f := range obj.fields {
		if f.Name == name {
			return f.Type
		}
	}
	return ""
}

func recordID(obj *object, i int) string {
	return fmt.Sprintf("%s%012d", strings.ToUpper(obj.name[:3]), i+1)
}

// stamp is record i's modification time; REST writes +0000, Bulk CSV Z.
func stamp(i int, zone string) string {
	return fmt.Sprintf("2024-03-01T12:%02d:00.000%s", i, zone)
}

// value is field f of record i, shaped like the API writes it.
func value(obj *object, f string, i int, csvForm bool) any {
	zone := "+0000"
	if csvForm {
		zone = "Z"
	}
	var nillable bool
	for _, fd := range obj.fields {
		if fd.Name == f {
			nillable = fd.Nillable
		}
	}
	switch fieldType(obj, f) {
	case "id":
		return recordID(obj, i)
	case "reference":
		return fmt.Sprintf("001%012d", i+1)
	case "boolean":
		return i%2 == 1
	case "int":
		return 10 * i
	case "currency", "double", "percent":
		return float64(i) + 0.5
	case "date":
		return fmt.Sprintf("2024-03-%02d", i+1)
	case "datetime":
		return stamp(i, zone)
	case "address":
		return map[string]any{"street": fmt.Sprintf("%d Market St", i+1), "city": "San Francisco", "postalCode": "94105", "country": "US"}
	case "base64":
		return apiPath + "/sobjects/" + obj.name + "/" + recordID(obj, i) + "/" + f
	case "url":
		return fmt.Sprintf("https://example%d.com", i)
	case "picklist", "textarea":
		if i%2 == 0 && nillable {
			if csvForm {
				return ""
			}
			return nil
		}
		return fmt.Sprintf("%s, \"quoted\"\nline %d", f, i) // commas, quotes and newlines survive CSV
	default:
		return fmt.Sprintf("%s %d", f, i)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers like Salesforce: an array of errors.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode([]map[string]string{{"errorCode": code, "message": msg}})
}
