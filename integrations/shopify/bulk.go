package shopify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// ErrBulkOperation marks a bulk operation Shopify refused to start or
// ended without completing.
var ErrBulkOperation = errors.New("shopify: bulk operation did not complete")

const (
	bulkRun = `mutation bulkOperationRunQuery($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } } }`
	bulkGet = `query bulkOperation($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } } }`
)

// bulkQuery is the query a bulk operation runs: the whole connection,
// with edges and nodes as bulk queries require and no first or after.
func (r resource) bulkQuery(filter string) string {
	args := ""
	if filter != "" {
		args = "query: " + strconv.Quote(filter)
	}
	if r.sortable {
		if args != "" {
			args += ", "
		}
		args += "sortKey: UPDATED_AT"
	}
	if args != "" {
		args = "(" + args + ")"
	}
	return fmt.Sprintf("{ %s%s { edges { node { %s } } } }", r.root, args, r.fields)
}

// bulk reads the stream with a bulk operation: start it, poll it until it
// is done, then stream its JSON Lines file. The file's URL is a signed
// link: it gets no access token (see auth).
func (r resource) bulk(c *integ.HttpContext, cfg Config) error {
	resp, err := c.Do(graphQL(cfg.endpoint(), bulkRun, map[string]any{"query": r.bulkQuery(filter(c, cfg))}))
	if err != nil {
		return fmt.Errorf("starting a bulk operation: %w", err)
	}
	if ue := resp.Get("data.bulkOperationRunQuery.userErrors.0.message"); ue.Exists() {
		// Shopify runs one bulk query per app and shop at a time.
		return &integ.Error{Kind: integ.TransientFailure, Err: ErrBulkOperation,
			Msg: fmt.Sprintf("stream %q: Shopify refused to start a bulk operation: %s; if another bulk query of this app is running, wait for it to finish and run the sync again", c.Stream(), ue.String())}
	}
	id := strings.Clone(resp.Get("data.bulkOperationRunQuery.bulkOperation.id").String())
	if id == "" {
		return fmt.Errorf("bulkOperationRunQuery answered without a bulk operation id")
	}
	c.Logger().Info("bulk operation started; waiting for Shopify to prepare the file", "id", id)
	every := time.Duration(cfg.BulkPoll * float64(time.Second))
	// A bulk operation over a large shop may run for hours; four are allowed.
	var node gjson.Result
	_, err = c.Poll(graphQL(cfg.endpoint(), bulkGet, map[string]any{"id": id}), requests.PollOptions{First: every, Max: every, Timeout: 4 * time.Hour},
		func(op *requests.JSONResponse) (bool, error) {
			node = op.Get("data.node")
			switch status := node.Get("status").String(); status {
			case "COMPLETED":
				node = gjson.Parse(strings.Clone(node.Raw)) // outlives the response's buffer
				return true, nil
			case "CREATED", "RUNNING":
				return false, nil
			case "":
				return false, fmt.Errorf("polling bulk operation %s: node(id:) returned no bulk operation", id)
			default: // FAILED, CANCELED, CANCELING, EXPIRED
				return false, &integ.Error{Kind: integ.TransientFailure, Err: ErrBulkOperation,
					Msg: fmt.Sprintf("stream %q: bulk operation %s ended %s (error code %s); run the sync again, or set bulk_operations to false to read with paged queries", c.Stream(), id, status, node.Get("errorCode").String())}
			}
		})
	if err != nil {
		if errors.As(err, new(*integ.Error)) {
			return err
		}
		return fmt.Errorf("polling bulk operation %s: %w", id, err)
	}
	url := node.Get("url").String()
	c.Logger().Info("bulk operation completed", "objects", node.Get("objectCount").String())
	if url == "" { // no record matched
		return nil
	}
	return c.EmitJSONLines(requests.New(url))
}
