package bench

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/internal/pokeserver"
)

// server is a pokeserver running inside the harness process, so its CPU
// time is never charged to the measured child.
type server struct {
	BaseURL string // http://127.0.0.1:PORT/api/v2
	records int
	srv     *http.Server
	served  *conc.Future[struct{}]
}

// startServer serves count Pokémon, with no cap on the page size, on a
// free port of 127.0.0.1.
func startServer(count int) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	srv := &http.Server{
		Handler:           pokeserver.New(pokeserver.WithCount(count), pokeserver.WithMaxLimit(0)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := conc.Go(func() (struct{}, error) {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return struct{}{}, err
		}
		return struct{}{}, nil
	})
	return &server{BaseURL: "http://" + ln.Addr().String() + "/api/v2", records: count, srv: srv, served: served}, nil
}

// count is the number of Pokémon served.
func (s *server) count() int { return s.records }

// firstPage is the URL of the first page of Pokémon, as the tap builds it.
func (s *server) firstPage(pageSize int) string {
	return fmt.Sprintf("%s/pokemon?limit=%d&offset=0", s.BaseURL, pageSize)
}

// Close stops the server and reports whether it had failed.
func (s *server) Close() error {
	cerr := s.srv.Close()
	if _, err := s.served.Await(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("close server: %w", cerr)
	}
	return nil
}
