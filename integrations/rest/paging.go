package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// pager follows a stream's pagination for one run and says why it stopped:
// every stop is logged ("paging stopped after page 3: has_more is false"),
// so a list that ends early is explained, and a run that reaches max_pages
// fails. It is not shared: each run (each partition) gets its own.
type pager struct {
	cfg         *Pagination
	stream      string
	partition   string
	recordsPath string
	logger      *slog.Logger
	inner       requests.Paginator
	pages       int
	records     int
}

// newPager returns the paginator of one run.
func (d *stream) newPager(logger *slog.Logger, partition string) *pager {
	p := d.pager
	var inner requests.Paginator
	switch p.Type {
	case PagePage:
		inner = requests.PageNumber(orDefault(p.PageParam, "page"), p.SizeParam, p.Size, p.start())
	case PageOffset:
		limit := ""
		if p.Size > 0 {
			limit = orDefault(p.LimitParam, "limit")
		}
		inner = requests.Offset(orDefault(p.OffsetParam, "offset"), limit, p.Size)
	case PageLinkHeader:
		inner = requests.LinkHeader()
	case PageNextURL:
		inner = requests.NextURL(p.Path)
	case PageCursor:
		inner = requests.Cursor(p.Path, p.Param)
	case PageLastRecord:
		inner = requests.LastRecordCursor(d.recordsPath, orDefault(p.Field, "id"), p.Param)
	case PageBodyCursor:
		inner = requests.BodyCursor(p.Path, p.Field)
	}
	return &pager{cfg: p, stream: d.cfg.Name, partition: partition, recordsPath: d.recordsPath, logger: logger, inner: inner}
}

func (p *pager) maxPages() int {
	if p.cfg.MaxPages > 0 {
		return p.cfg.MaxPages
	}
	return defaultMaxPages
}

// stop logs why paging ended.
func (p *pager) stop(level slog.Level, format string, args ...any) {
	where := fmt.Sprintf("stream %q", p.stream)
	if p.partition != "" {
		where += fmt.Sprintf(" (partition %s)", p.partition)
	}
	p.logger.Log(context.Background(), level, fmt.Sprintf("%s: paging stopped after page %d (%s): %s", where, p.pages, plural(p.records, "record"), fmt.Sprintf(format, args...)))
}

// Next implements requests.Paginator.
func (p *pager) Next(prev *requests.Request, resp *requests.JSONResponse, count int) (*requests.Request, error) {
	p.pages++
	p.records += count
	c := p.cfg
	if count == 0 {
		p.stop(slog.LevelInfo, "the page has no records")
		return nil, nil
	}
	if p.pages == 1 && c.HasMorePath == "" && resp != nil {
		p.hintHasMore(resp)
	}
	if c.HasMorePath != "" && resp != nil {
		v := resp.Get(c.HasMorePath)
		switch {
		case !v.Exists():
			p.stop(slog.LevelWarn, "has_more_path %q is not in the response: check the path (the list may not be complete)", c.HasMorePath)
			return nil, nil
		case v.Type != gjson.True && v.Type != gjson.False:
			p.stop(slog.LevelWarn, "has_more_path %q is %s, not a boolean: check the path (the list may not be complete)", c.HasMorePath, shortText(v.Raw))
			return nil, nil
		case !v.Bool():
			p.stop(slog.LevelInfo, "has_more_path %q is false", c.HasMorePath)
			return nil, nil
		}
	}
	if c.ShortPageEnds && count < c.Size {
		p.stop(slog.LevelInfo, "the page has %d records, fewer than size %d (short_page_ends)", count, c.Size)
		return nil, nil
	}
	next, err := p.inner.Next(prev, resp, count)
	if err != nil {
		if errors.Is(err, requests.ErrPaginationLoop) {
			return nil, integ.ConfigErrorf("stream %q: after page %d: %w; the API hands out a page it already gave: check pagination.path, param or field", p.stream, p.pages, err)
		}
		return nil, err
	}
	if next == nil {
		p.stopNoNext(resp)
		return nil, nil
	}
	if p.pages >= p.maxPages() {
		return nil, integ.ConfigErrorf("stream %q: read %d pages (%s) and the API offers another (%s): raise pagination.max_pages if the list is that long, or check the stop condition (has_more_path, path)", p.stream, p.pages, plural(p.records, "record"), next)
	}
	return next, nil
}

// hasMoreNames are where APIs say a list goes on (Stripe, Zendesk, Slack,
// Shopify GraphQL...).
var hasMoreNames = []string{"has_more", "hasMore", "meta.has_more", "response_metadata.has_more", "pageInfo.hasNextPage", "more"}

// hintHasMore warns when the first page carries a has-more flag the config
// does not use: without it the list ends only on an empty page or at the
// page cap.
func (p *pager) hintHasMore(resp *requests.JSONResponse) {
	for _, name := range hasMoreNames {
		if v := resp.Get(name); v.Type == gjson.True || v.Type == gjson.False {
			p.logger.Warn(fmt.Sprintf("stream %q: the response has a boolean %q; set pagination.has_more_path to %q so that the list ends when the API says so", p.stream, name, name))
			return
		}
	}
}

// stopNoNext explains the end of a list whose paginator found no next page.
func (p *pager) stopNoNext(resp *requests.JSONResponse) {
	c := p.cfg
	switch c.Type {
	case PageLinkHeader:
		p.stop(slog.LevelInfo, "the response has no Link header with rel=\"next\"")
	case PageNextURL, PageCursor, PageBodyCursor:
		v := resp.Get(c.Path)
		if !v.Exists() {
			// Missing on page 1 is most likely a wrong path; later, an
			// API that leaves the field out on the last page.
			level := slog.LevelInfo
			if p.pages == 1 {
				level = slog.LevelWarn
			}
			p.stop(level, "pagination.path %q is not in the response (on the last page that is how some APIs end a list; on the first, check the path)", c.Path)
			return
		}
		p.stop(slog.LevelInfo, "pagination.path %q is null or empty", c.Path)
	case PageLastRecord:
		p.stop(slog.LevelWarn, "the page's last record has no %q to send as %s: check pagination.field", orDefault(c.Field, "id"), c.Param)
	default:
		p.stop(slog.LevelInfo, "no next page")
	}
}
