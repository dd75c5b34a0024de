package integ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// An asynchronous export, shaped like Salesforce Bulk 2.0: create a query
// job, poll it until JobComplete, then stream its CSV results as records.
func ExampleHttpContext_Poll() {
	polls := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jobs/query": // POST: the job is created
			fmt.Fprint(w, `{"id":"750x","state":"UploadComplete"}`)
		case "/jobs/query/750x":
			if polls++; polls < 3 {
				fmt.Fprint(w, `{"id":"750x","state":"InProgress"}`)
				return
			}
			fmt.Fprint(w, `{"id":"750x","state":"JobComplete"}`)
		case "/jobs/query/750x/results":
			w.Header().Set("Content-Type", "text/csv")
			fmt.Fprint(w, "Id,Name\n001,Acme\n002,Globex\n")
		}
	}))
	defer api.Close()

	accounts := func(c *integ.HttpContext) error {
		job, err := c.Do(requests.New(api.URL + "/jobs/query").Method(http.MethodPost).JSONBody(map[string]string{"query": "SELECT Id, Name FROM Account"}))
		if err != nil {
			return err
		}
		jobURL := api.URL + "/jobs/query/" + job.Get("id").String()
		status := requests.New(jobURL)
		_, err = c.Poll(status, requests.PollOptions{First: time.Millisecond}, func(r *requests.JSONResponse) (bool, error) {
			switch s := r.Get("state").String(); s {
			case "JobComplete":
				return true, nil
			case "Failed", "Aborted":
				return false, fmt.Errorf("the query job ended %s", s)
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		return c.EmitCSV(requests.New(jobURL + "/results"))
	}
	src := integ.NewSource("bulk", struct{}{}, integ.WithStreams(integ.NewStream("Account", struct {
		ID   string `json:"Id"`
		Name string `json:"Name"`
	}{}, accounts, integ.PrimaryKey("Id"))))
	cfg, _ := src.ParseConfig(json.RawMessage(`{}`))
	err := src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Protocol: plain{}, Output: driver.NewOutput(os.Stdout)})
	fmt.Println("polls:", polls, "error:", err)
	// Output:
	// Account {"Id":"001","Name":"Acme"}
	// Account {"Id":"002","Name":"Globex"}
	// polls: 3 error: <nil>
}
