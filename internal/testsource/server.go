// Package testsource is a small incremental integration and the API it
// reads, for tests of the framework and its protocols (the Airbyte
// acceptance rules for incremental reads, above all) without a network.
//
// [Server] is an http.Handler (serve it with httptest.NewServer) with two
// endpoints, both paginated by a page number:
//
//	GET /events?updated_since=RFC3339&updated_before=RFC3339&page=N
//	    {"data": [{"id": 1, "name": "...", "version": 1, "updated_at": "..."}],
//	     "next_page": 2 | null, "total": 7}
//
// Events are sorted ascending by updated_at (then id) and filtered with
// updated_at >= updated_since (inclusive, like integ's bookmarks) and
// updated_at < updated_before (exclusive, for time windows). "total"
// counts every event that matches the filter.
//
//	GET /users?page=N
//	    {"data": [{"id": 1, "name": "..."}], "next_page": 2 | null}
//
// Tests change the data between syncs with [Server.Add] and [Server.Update].
// With [WithToken] every request needs "Authorization: Bearer TOKEN", which
// lets tests check that the secret never appears in any output.
//
// [Source] declares the matching integ source: "events" is incremental on
// updated_at and Sorted; "users" is full refresh.
package testsource

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPageSize is the number of records a page holds unless WithPageSize
// says otherwise: small, so that a handful of records spans several pages.
const DefaultPageSize = 2

// Event is one record of the events endpoint.
type Event struct {
	ID        int64     `json:"id" description:"The event's unique id."`
	Name      string    `json:"name" description:"What happened."`
	Version   int       `json:"version" description:"Incremented by every update."`
	UpdatedAt time.Time `json:"updated_at" description:"When the event was created or last updated."`
}

// User is one record of the users endpoint.
type User struct {
	ID   int64  `json:"id" description:"The user's unique id."`
	Name string `json:"name" description:"The user's name."`
}

// Server is the test API. It is safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	events   []Event
	users    []User
	pageSize int
	token    string
	failures []int // statuses of the next requests to fail, in order

	requests atomic.Int64
}

// Option configures a Server.
type Option func(*Server)

// WithPageSize sets the records per page (n < 1 means 1).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = max(n, 1) } }

// WithToken makes every request need the bearer token tok.
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithUsers replaces the default users.
func WithUsers(users ...User) Option { return func(s *Server) { s.users = users } }

// NewServer returns a server with no events and three users.
func NewServer(opts ...Option) *Server {
	s := &Server{
		pageSize: DefaultPageSize,
		users:    []User{{1, "Ada"}, {2, "Brian"}, {3, "Chidi"}},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Add creates an event updated at at and returns it.
func (s *Server) Add(name string, at time.Time) Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Event{ID: int64(len(s.events) + 1), Name: name, Version: 1, UpdatedAt: at.UTC()}
	s.events = append(s.events, e)
	return e
}

// Update bumps an event's version and moves its updated_at to at. It
// reports false when there is no event with that id.
func (s *Server) Update(id int64, at time.Time) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.events {
		if s.events[i].ID == id {
			s.events[i].Version++
			s.events[i].UpdatedAt = at.UTC()
			return s.events[i], true
		}
	}
	return Event{}, false
}

// Events returns every event in the order the API serves them.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedLocked()
}

// FailNext schedules the answers to the next len(statuses) requests, in
// order: a status fails the request with it and a JSON error body; 0 serves
// the request normally. FailNext(0, 503) fails the second request.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, statuses...)
}

// Requests counts the requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

func (s *Server) sortedLocked() []Event {
	out := slices.Clone(s.events)
	slices.SortStableFunc(out, func(a, b Event) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

type page[T any] struct {
	Data     []T  `json:"data"`
	NextPage *int `json:"next_page"`
	Total    *int `json:"total,omitempty"`
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "only GET is supported")
		return
	}
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		writeError(w, http.StatusUnauthorized, "missing or wrong API key")
		return
	}
	s.mu.Lock()
	if len(s.failures) > 0 {
		status := s.failures[0]
		s.failures = s.failures[1:]
		if status != 0 {
			s.mu.Unlock()
			writeError(w, status, "injected failure")
			return
		}
	}
	s.mu.Unlock()
	pageNo := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("page must be a positive integer, got %q", v))
			return
		}
		pageNo = n
	}
	switch r.URL.Path {
	case "/events":
		var since time.Time
		if v := r.URL.Query().Get("updated_since"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("updated_since must be an RFC 3339 time, got %q", v))
				return
			}
			since = t
		}
		var before time.Time // exclusive; zero: no upper bound
		if v := r.URL.Query().Get("updated_before"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("updated_before must be an RFC 3339 time, got %q", v))
				return
			}
			before = t
		}
		s.mu.Lock()
		all := s.sortedLocked()
		s.mu.Unlock()
		matching := slices.DeleteFunc(all, func(e Event) bool {
			return e.UpdatedAt.Before(since) || !before.IsZero() && !e.UpdatedAt.Before(before)
		})
		p := paginate(matching, pageNo, s.pageSize)
		total := len(matching)
		p.Total = &total
		writeJSON(w, http.StatusOK, p)
	case "/users":
		s.mu.Lock()
		users := slices.Clone(s.users)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, paginate(users, pageNo, s.pageSize))
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}
}

func paginate[T any](all []T, pageNo, size int) page[T] {
	start := min((pageNo-1)*size, len(all))
	end := min(start+size, len(all))
	p := page[T]{Data: all[start:end]}
	if p.Data == nil {
		p.Data = []T{}
	}
	if end < len(all) {
		next := pageNo + 1
		p.NextPage = &next
	}
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
