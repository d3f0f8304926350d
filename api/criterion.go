package api

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

const (
	defaultPerPage = 100
	nextPageHeader = "X-Next-Page"
)

// criterion holds the list filters of a request; an empty field matches all.
type criterion struct {
	search         string // lowercased
	status         string
	provider       string
	serviceName    string
	middlewareName string
}

func newCriterion(q url.Values) *criterion {
	return &criterion{
		search:         strings.ToLower(q.Get("search")),
		status:         q.Get("status"),
		provider:       q.Get("provider"),
		serviceName:    q.Get("serviceName"),
		middlewareName: q.Get("middlewareName"),
	}
}

func (c *criterion) matchStatus(status string) bool {
	return c.status == "" || strings.EqualFold(status, c.status)
}

func (c *criterion) matchProvider(provider string) bool {
	return c.provider == "" || strings.EqualFold(provider, c.provider)
}

// matchSearch is a case-insensitive substring match on any of values.
func (c *criterion) matchSearch(values ...string) bool {
	if c.search == "" {
		return true
	}
	for _, v := range values {
		if strings.Contains(strings.ToLower(v), c.search) {
			return true
		}
	}
	return false
}

// matchService matches a router's service reference, resolved in the
// router's provider, against serviceName: exactly when the filter is
// qualified, by bare name otherwise.
func (c *criterion) matchService(ref, provider string) bool {
	return c.serviceName == "" || refMatches(ref, provider, c.serviceName)
}

// matchMiddleware is true when one of the router's middlewares matches
// middlewareName, with the same rules as matchService.
func (c *criterion) matchMiddleware(refs []string, provider string) bool {
	if c.middlewareName == "" {
		return true
	}
	return slices.ContainsFunc(refs, func(ref string) bool { return refMatches(ref, provider, c.middlewareName) })
}

func refMatches(ref, provider, filter string) bool {
	if provider != "" {
		ref = dynamic.Qualify(ref, provider)
	}
	if strings.Contains(filter, "@") {
		return ref == filter
	}
	name, _ := dynamic.SplitQualified(ref)
	return name == filter
}

// filterAndSort returns a fresh slice of the items kept by c, ordered by the
// sortBy and direction parameters. all is sorted by name already.
func filterAndSort[T listed[T]](all []T, c *criterion, q url.Values) []T {
	out := make([]T, 0, len(all))
	for _, it := range all {
		if it.keep(c) {
			out = append(out, it)
		}
	}
	if by := q.Get("sortBy"); by != "" && by != "name" && len(out) > 0 {
		if _, ok := out[0].sortKey(by); ok {
			slices.SortStableFunc(out, func(a, b T) int {
				ka, _ := a.sortKey(by)
				kb, _ := b.sortKey(by)
				return cmp.Or(cmp.Compare(ka.n, kb.n), cmp.Compare(ka.s, kb.s))
			})
		}
	}
	if q.Get("direction") == "desc" {
		slices.Reverse(out)
	}
	return out
}

// page is the slice [start:end] of a list and the X-Next-Page value (1 on
// the last page, as in Traefik).
type page struct {
	start, end, next int
}

func paginate(q url.Values, total int) (page, error) {
	perPage, err := intParam(q, "per_page", defaultPerPage)
	if err != nil {
		return page{}, err
	}
	n, err := intParam(q, "page", 1)
	if err != nil {
		return page{}, err
	}
	// Guard the multiplication: a huge page number is simply past the end.
	if n-1 > total/perPage {
		return page{}, fmt.Errorf("invalid request: page: %d, per_page: %d", n, perPage)
	}
	start := (n - 1) * perPage
	if start != 0 && start >= total {
		return page{}, fmt.Errorf("invalid request: page: %d, per_page: %d", n, perPage)
	}
	end := min(start+perPage, total)
	next := 1
	if end < total {
		next = n + 1
	}
	return page{start: start, end: end, next: next}, nil
}

func intParam(q url.Values, key string, def int) (int, error) {
	raw := q.Get(key)
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid request: %s: %q", key, raw)
	}
	return v, nil
}
