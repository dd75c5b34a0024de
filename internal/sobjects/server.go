// Package sobjects is a describe-driven test integration and the API it
// reads, shaped after Salesforce's REST API: which streams exist is only
// known by asking the API, and each stream's schema by one more call per
// object. It shows (and its tests check) that discover describes every
// object while read and check describe only what they must.
//
// [Server] is an http.Handler (serve it with httptest.NewServer):
//
//	GET /services/data/v59.0/sobjects
//	    {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
//	      {"name": "Account", "label": "Account", "custom": false, "queryable": true,
//	       "urls": {"sobject": "...", "describe": "..."}}, ...]}
//	GET /services/data/v59.0/sobjects/{name}/describe
//	    {"name": "Account", "label": "Account", "queryable": true,
//	     "fields": [{"name": "Id", "type": "id", "label": "Record ID", "nillable": false}, ...]}
//	GET /services/data/v59.0/query?q=SELECT+Id,Name+FROM+Account
//	    {"totalSize": 3, "done": false, "nextRecordsUrl": "/services/data/v59.0/query/Account-2",
//	     "records": [{"attributes": {"type": "Account", "url": "..."}, "Id": "...", "Name": "..."}]}
//	GET /services/data/v59.0/limits
//	    {"DailyApiRequests": {"Max": 15000, "Remaining": 14998}, ...}
//
// The server counts requests by kind, per object, so tests can assert which
// calls a command made.
package sobjects

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// APIPath is the versioned root of every endpoint.
const APIPath = "/services/data/v59.0"

// pageSize is how many records a query page holds: small, so the three
// records of every object span two pages.
const pageSize = 2

// recordsPerObject is how many records every object has.
const recordsPerObject = 3

// Field is one field of an object's describe.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // id, string, boolean, int, double, currency, date, datetime, reference, picklist...
	Label    string `json:"label"`
	Nillable bool   `json:"nillable"`
}

// Server is the fake API. Its zero value is not usable: use NewServer.
type Server struct {
	objects []string
	fields  map[string][]Field

	mu        sync.Mutex
	failing   map[string]bool
	lists     int
	describes map[string]int
	queries   map[string]int
}

// NewServer serves n objects: Account, Contact, Opportunity, Lead and Case,
// then custom objects Object0006__c and so on. Every object has Id,
// Name, IsDeleted and SystemModstamp; each also has fields of its own.
func NewServer(n int) *Server {
	s := &Server{fields: map[string][]Field{}, failing: map[string]bool{}, describes: map[string]int{}, queries: map[string]int{}}
	standard := []string{"Account", "Contact", "Opportunity", "Lead", "Case"}
	for i := range n {
		name := fmt.Sprintf("Object%04d__c", i+1)
		if i < len(standard) {
			name = standard[i]
		}
		s.AddObject(name)
	}
	return s
}

// AddObject adds an object with the common fields and a few of its own.
func (s *Server) AddObject(name string) {
	fields := []Field{
		{Name: "Id", Type: "id", Label: "Record ID"},
		{Name: "Name", Type: "string", Label: "Name", Nillable: true},
		{Name: "IsDeleted", Type: "boolean", Label: "Deleted"},
		{Name: "SystemModstamp", Type: "datetime", Label: "System Modstamp"},
	}
	// Fields of its own, varying with the name, so that schemas differ.
	extra := []Field{
		{Name: "Amount__c", Type: "currency", Label: "Amount", Nillable: true},
		{Name: "Count__c", Type: "int", Label: "Count", Nillable: true},
		{Name: "CloseDate__c", Type: "date", Label: "Close date", Nillable: true},
		{Name: "OwnerId", Type: "reference", Label: "Owner ID", Nillable: true},
	}
	k := len(name) % len(extra)
	fields = append(fields, extra[:k+1]...)
	s.objects = append(s.objects, name)
	s.fields[name] = fields
}

// Fields returns an object's fields.
func (s *Server) Fields(name string) []Field { return s.fields[name] }

// Objects lists the object names in order.
func (s *Server) Objects() []string { return slices.Clone(s.objects) }

// FailDescribe makes the describe of name answer 500 from now on.
func (s *Server) FailDescribe(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[name] = true
}

// Counts are the requests the server answered, by kind.
type Counts struct {
	Lists     int            // GET /sobjects
	Describes map[string]int // GET /sobjects/{name}/describe, by object
	Queries   map[string]int // GET /query pages, by object
}

// TotalDescribes adds the describes of every object.
func (c Counts) TotalDescribes() int {
	n := 0
	for _, v := range c.Describes {
		n += v
	}
	return n
}

// Counts returns a copy of the request counts.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Counts{Lists: s.lists, Describes: map[string]int{}, Queries: map[string]int{}}
	for k, v := range s.describes {
		c.Describes[k] = v
	}
	for k, v := range s.queries {
		c.Queries[k] = v
	}
	return c
}

// ServeHTTP answers the endpoints in the package comment.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "only GET")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, APIPath)
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	switch {
	case rest == "/sobjects":
		s.list(w)
	case strings.HasPrefix(rest, "/sobjects/") && strings.HasSuffix(rest, "/describe"):
		s.describe(w, strings.TrimSuffix(strings.TrimPrefix(rest, "/sobjects/"), "/describe"))
	case rest == "/query":
		s.query(w, r.URL.Query().Get("q"))
	case strings.HasPrefix(rest, "/query/"):
		s.next(w, strings.TrimPrefix(rest, "/query/"))
	case rest == "/limits":
		writeJSON(w, map[string]any{
			"DailyApiRequests": map[string]int{"Max": 15000, "Remaining": 14998},
			"DataStorageMB":    map[string]int{"Max": 5, "Remaining": 5},
		})
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (s *Server) list(w http.ResponseWriter) {
	s.mu.Lock()
	s.lists++
	s.mu.Unlock()
	objs := make([]map[string]any, len(s.objects))
	for i, name := range s.objects {
		objs[i] = map[string]any{
			"name": name, "label": strings.TrimSuffix(name, "__c"), "custom": strings.HasSuffix(name, "__c"),
			"queryable": true, "retrieveable": true,
			"urls": map[string]string{"sobject": APIPath + "/sobjects/" + name, "describe": APIPath + "/sobjects/" + name + "/describe"},
		}
	}
	writeJSON(w, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

func (s *Server) describe(w http.ResponseWriter, name string) {
	s.mu.Lock()
	s.describes[name]++
	failing := s.failing[name]
	s.mu.Unlock()
	fields, ok := s.fields[name]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	case failing:
		writeError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred describing "+name)
	default:
		writeJSON(w, map[string]any{"name": name, "label": strings.TrimSuffix(name, "__c"), "queryable": true, "fields": fields})
	}
}

// query answers "SELECT f1,f2 FROM Object [WHERE ...] [ORDER BY ...]".
func (s *Server) query(w http.ResponseWriter, soql string) {
	fields, obj, ok := parseSOQL(soql)
	if !ok || s.fields[obj] == nil {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "cannot read the query "+strconv.Quote(soql))
		return
	}
	s.page(w, obj, fields, 0)
}

// next answers a nextRecordsUrl: /query/{Object}-{offset}-{fields}.
func (s *Server) next(w http.ResponseWriter, locator string) {
	parts := strings.SplitN(locator, "-", 3)
	if len(parts) != 3 {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || s.fields[parts[0]] == nil {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.page(w, parts[0], strings.Split(parts[2], ","), off)
}

func (s *Server) page(w http.ResponseWriter, obj string, fields []string, off int) {
	s.mu.Lock()
	s.queries[obj]++
	s.mu.Unlock()
	types := map[string]string{}
	for _, f := range s.fields[obj] {
		types[f.Name] = f.Type
	}
	var recs []map[string]any
	for i := off; i < min(off+pageSize, recordsPerObject); i++ {
		id := fmt.Sprintf("a0%s%012d", strings.ToUpper(obj[:1]), i+1)
		rec := map[string]any{"attributes": map[string]string{"type": obj, "url": APIPath + "/sobjects/" + obj + "/" + id}}
		for _, f := range fields {
			rec[f] = value(types[f], f, id, i)
		}
		recs = append(recs, rec)
	}
	body := map[string]any{"totalSize": recordsPerObject, "done": off+pageSize >= recordsPerObject, "records": recs}
	if off+pageSize < recordsPerObject {
		body["nextRecordsUrl"] = fmt.Sprintf("%s/query/%s-%d-%s", APIPath, obj, off+pageSize, strings.Join(fields, ","))
	}
	writeJSON(w, body)
}

// value makes a field's value of record i.
func value(typ, name, id string, i int) any {
	switch typ {
	case "id":
		return id
	case "boolean":
		return false
	case "int":
		return i
	case "currency", "double":
		return float64(i) + 0.5
	case "date":
		return fmt.Sprintf("2024-03-%02d", i+1)
	case "datetime":
		return fmt.Sprintf("2024-03-01T12:00:%02d.000Z", i)
	case "reference":
		return fmt.Sprintf("005%015d", i)
	default:
		return fmt.Sprintf("%s %d", name, i)
	}
}

// parseSOQL reads the fields and object of a simple SELECT.
func parseSOQL(q string) (fields []string, obj string, ok bool) {
	rest, ok := strings.CutPrefix(q, "SELECT ")
	if !ok {
		return nil, "", false
	}
	list, rest, ok := strings.Cut(rest, " FROM ")
	if !ok {
		return nil, "", false
	}
	obj, _, _ = strings.Cut(rest, " ")
	for _, f := range strings.Split(list, ",") {
		fields = append(fields, strings.TrimSpace(f))
	}
	return fields, obj, obj != ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers like Salesforce: an array of errors.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode([]map[string]string{{"errorCode": code, "message": msg}})
}
