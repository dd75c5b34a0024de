package integ_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

type catalogRecord struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Note      string `json:"note"`
	UpdatedAt string `json:"updated_at"`
}

// catalogSource has an incremental stream, a full-refresh one and one not
// selected by default.
func catalogSource(t *testing.T) *integ.Source {
	t.Helper()
	noop := func(*integ.HttpContext) error { return nil }
	src := integ.NewSource("cat", struct{}{}, integ.WithStreams(
		integ.NewStream("events", catalogRecord{}, noop, integ.PrimaryKey("id"), integ.Incremental("updated_at")),
		integ.NewStream("users", catalogRecord{}, noop, integ.PrimaryKey("id")),
		integ.NewStream("audit", catalogRecord{}, noop, integ.NotSelectedByDefault()),
	))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestPlan(t *testing.T) {
	type want struct {
		name   string
		mode   integ.SyncMode
		fields []string // nil: all
		schema []string // the planned schema's properties
	}
	all := []string{"id", "name", "note", "updated_at"}
	tests := []struct {
		name    string
		catalog *integ.Catalog
		want    []want
		wantErr []string
	}{
		{name: "nil catalog: default streams in preferred modes", catalog: nil, want: []want{
			{"events", integ.ModeIncremental, nil, all}, {"users", integ.ModeFullRefresh, nil, all}}},
		{name: "catalog order, explicit modes", catalog: &integ.Catalog{Streams: []integ.CatalogStream{
			{Name: "audit"}, {Name: "events", Mode: integ.ModeFullRefresh}}}, want: []want{
			{"audit", integ.ModeFullRefresh, nil, all}, {"events", integ.ModeFullRefresh, nil, all}}},
		{name: "field selection keeps schema order and automatic fields", catalog: &integ.Catalog{Streams: []integ.CatalogStream{
			{Name: "events", Fields: []string{"note", "gone_from_schema"}}}}, want: []want{
			{"events", integ.ModeIncremental, []string{"id", "note", "updated_at"}, []string{"id", "note", "updated_at"}}}},
		{name: "selecting every field is no selection", catalog: &integ.Catalog{Streams: []integ.CatalogStream{
			{Name: "users", Fields: []string{"name", "note", "updated_at"}}}}, want: []want{
			{"users", integ.ModeFullRefresh, nil, all}}},
		{name: "the stream's own cursor", catalog: &integ.Catalog{Streams: []integ.CatalogStream{
			{Name: "events", Mode: integ.ModeIncremental, Cursor: "updated_at"}}}, want: []want{
			{"events", integ.ModeIncremental, nil, all}}},
		{name: "empty catalog: nothing", catalog: &integ.Catalog{}, want: nil},
		{name: "unknown stream", catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "nope"}}},
			wantErr: []string{`"nope"`, "[events users audit]", "run discovery again"}},
		{name: "stream twice", catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "users"}, {Name: "users"}}},
			wantErr: []string{`"users" twice`}},
		{name: "unsupported mode", catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "users", Mode: integ.ModeIncremental}}},
			wantErr: []string{`stream "users"`, `"incremental"`, "[full_refresh]"}},
		{name: "another cursor", catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "events", Mode: integ.ModeIncremental, Cursor: "name"}}},
			wantErr: []string{`stream "events"`, `"name"`, "source-defined", `"updated_at"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := catalogSource(t).Plan(tt.catalog)
			if tt.wantErr != nil {
				var ie *integ.Error
				if !errors.As(err, &ie) || ie.Kind != integ.ConfigFailure || !errors.Is(err, integ.ErrCatalog) {
					t.Fatalf("Plan = %v, want a ConfigFailure wrapping ErrCatalog", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(ie.Msg, w) {
						t.Errorf("message %q lacks %q", ie.Msg, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != len(tt.want) {
				t.Fatalf("%d runs, want %d", len(runs), len(tt.want))
			}
			for i, w := range tt.want {
				r := runs[i]
				var props []string
				for _, p := range r.Schema.Properties {
					props = append(props, p.Name)
				}
				if r.Stream.Name != w.name || r.Mode != w.mode || !slices.Equal(r.Fields, w.fields) || !slices.Equal(props, w.schema) {
					t.Errorf("run %d = %s %s fields %v schema %v; want %s %s fields %v schema %v",
						i, r.Stream.Name, r.Mode, r.Fields, props, w.name, w.mode, w.fields, w.schema)
				}
				if r.Incremental() != (w.mode == integ.ModeIncremental) {
					t.Errorf("run %d: Incremental() = %v in mode %s", i, r.Incremental(), r.Mode)
				}
			}
		})
	}
}

func TestDefaultCatalog(t *testing.T) {
	var names []string
	for _, cs := range catalogSource(t).DefaultCatalog().Streams {
		names = append(names, cs.Name)
		if cs.Mode != "" || cs.Fields != nil || cs.Cursor != "" {
			t.Errorf("%s: the default selects the stream's defaults, got %+v", cs.Name, cs)
		}
	}
	if !slices.Equal(names, []string{"events", "users"}) {
		t.Errorf("default catalog %v, want events and users (audit is not selected by default)", names)
	}
}
