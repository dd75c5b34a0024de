// Package odata builds OData v4 queries and reads OData v4 collections: the
// system query options ($select, $expand, $filter, $orderby, $top, $skip)
// with literals quoted as the OData ABNF says, server-driven paging that
// follows @odata.nextLink, and the "value" array that holds a page's
// entities. Storm's Query API, Dynamics 365, SAP and every other OData v4
// service speak the same.
//
//	since, err := odata.Cmp("Updated", "ge", t) // Updated ge 2024-05-01T00:00:00Z
//	...
//	q := odata.Query{
//		Select:  []string{"Id", "OrderNo", "Updated"},
//		Expand:  []string{"Items"},
//		Filter:  since,
//		OrderBy: []string{"Id"},
//	}
//	first := odata.MaxPageSize(q.Request(baseURL+"/Orders/Orders"), 500)
//	return c.EmitPages(first, odata.NextLink(), odata.ValuePath)
//
// The package builds requests and pages; it does not parse $metadata.
package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/requests"
)

// ValuePath is where an OData v4 collection response holds its entities.
const ValuePath = "value"

// NextLinkPath is the gjson path of the link to a collection's next page.
const NextLinkPath = `@odata\.nextLink`

// NextLink follows @odata.nextLink (absolute, or relative to the previous
// request) until a page has none: OData's server-driven paging. The link is
// requested as given (its $skiptoken is opaque), with the previous
// request's headers, so a Prefer: odata.maxpagesize stays in force.
func NextLink(opts ...requests.PageOption) requests.Paginator {
	return requests.NextURL(NextLinkPath, opts...)
}

// MaxPageSize asks the service for pages of at most n entities (the
// Prefer: odata.maxpagesize header). Unlike $top, which caps the whole
// result, it only sizes pages; services may send smaller ones.
func MaxPageSize(r *requests.Request, n int) *requests.Request {
	if n <= 0 {
		return r
	}
	return r.Header("Prefer", "odata.maxpagesize="+strconv.Itoa(n))
}

// Query holds the system query options of a collection request. Zero
// fields are left out.
type Query struct {
	Select  []string // properties to return ($select)
	Expand  []string // navigation properties to inline ($expand), each may carry options: "Items($select=Id)"
	Filter  string   // a boolean expression ($filter); build it with Cmp, And and Or
	OrderBy []string // "Updated", "Id desc" ($orderby)
	Top     int      // at most this many entities in all ($top); not a page size, see MaxPageSize
	Skip    int      // skip this many entities ($skip)
}

// Encode returns the query string, without the leading '?', options in
// the order $select, $expand, $filter, $orderby, $top, $skip. Spaces are
// written %20 (never '+', which OData services may read as a plus sign)
// and '$', ',', quotes and parentheses are kept readable.
func (q Query) Encode() string {
	var parts []string
	add := func(name, value string) {
		parts = append(parts, name+"="+escape(value))
	}
	if len(q.Select) > 0 {
		add("$select", strings.Join(q.Select, ","))
	}
	if len(q.Expand) > 0 {
		add("$expand", strings.Join(q.Expand, ","))
	}
	if q.Filter != "" {
		add("$filter", q.Filter)
	}
	if len(q.OrderBy) > 0 {
		add("$orderby", strings.Join(q.OrderBy, ","))
	}
	if q.Top > 0 {
		add("$top", strconv.Itoa(q.Top))
	}
	if q.Skip > 0 {
		add("$skip", strconv.Itoa(q.Skip))
	}
	return strings.Join(parts, "&")
}

// Request returns a GET of the collection at url with the query, kept as
// Encode wrote it, and the headers an OData v4 client sends: Accept:
// application/json and OData-MaxVersion: 4.0. NextLink carries the headers
// to every page.
func (q Query) Request(url string) *requests.Request {
	if enc := q.Encode(); enc != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + enc
	}
	return requests.New(url).Header("Accept", "application/json").Header("OData-MaxVersion", "4.0")
}

// escape percent-encodes a query option's value: everything but the
// unreserved characters and the sub-delimiters OData expressions are made
// of, minus '&', '=', '+' and ';' (which split or change a query string).
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func keep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~$,'()*:@/!", c) >= 0
}

// String quotes s as an OData string literal: in single quotes, with each
// single quote doubled:
//
//	String("O'Brien") == "'O''Brien'"
func String(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// DateTimeOffset writes t as an OData Edm.DateTimeOffset literal, in UTC
// (2024-05-01T00:00:00Z, fractional seconds only when there are some).
// Such literals are not quoted.
func DateTimeOffset(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// Literal writes v as an OData literal: nil as null, booleans, integers,
// finite floats, strings (quoted, see String) and time.Time (see
// DateTimeOffset). A value of another type, or a NaN or infinite float,
// is an error: it has no literal.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		return String(x), nil
	case time.Time:
		return DateTimeOffset(x), nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("odata: %v has no literal", x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("odata: no literal for a %T", v)
}

// Cmp writes the comparison "prop op literal(v)"; op is one of eq, ne, gt,
// ge, lt, le. prop is a property path (Customer/Name). A bad property
// name, operator or value is an error.
func Cmp(prop, op string, v any) (string, error) {
	if !validPath(prop) {
		return "", fmt.Errorf("odata: %q is not a property path", prop)
	}
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return "", fmt.Errorf("odata: %q is not a comparison operator", op)
	}
	lit, err := Literal(v)
	if err != nil {
		return "", err
	}
	return prop + " " + op + " " + lit, nil
}

// And joins expressions with "and", each in parentheses when there are
// several; empty ones are skipped.
func And(exprs ...string) string { return join("and", exprs) }

// Or joins expressions with "or", each in parentheses when there are
// several; empty ones are skipped.
func Or(exprs ...string) string { return join("or", exprs) }

func join(op string, exprs []string) string {
	var kept []string
	for _, e := range exprs {
		if e != "" {
			kept = append(kept, e)
		}
	}
	if len(kept) == 1 {
		return kept[0]
	}
	for i, e := range kept {
		kept[i] = "(" + e + ")"
	}
	return strings.Join(kept, " "+op+" ")
}

// validPath accepts OData identifiers (a letter or '_', then letters,
// digits or '_') joined by '/'.
func validPath(p string) bool {
	if p == "" {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}
