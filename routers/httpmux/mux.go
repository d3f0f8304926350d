// Package httpmux is the per-entrypoint HTTP router: it picks, for each
// request, the highest-priority route whose rule matches.
package httpmux

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// Route is one router on one entrypoint.
type Route struct {
	Name     string
	Rule     string
	Priority int // 0 means the default: the length of Rule
	Handler  http.Handler
}

// entry is a compiled route; order is its rank in priority order, so that
// lists of entries can be merged by rank.
type entry struct {
	Route
	priority int
	order    int
	matcher  *rules.HTTPMatcher
}

// Muxer routes requests by rule. Fill it with AddRoute, then call Build;
// after Build it is immutable and safe for concurrent use.
type Muxer struct {
	pending []*entry
	built   bool

	// Index: routes whose rules require a host sit in the bucket of each
	// host they accept; every other route sits in rest. Each list is in
	// priority order.
	exact    map[string][]*entry
	wildcard map[string][]*entry // keyed by the parent domain: "example.com" for *.example.com
	rest     []*entry
	all      []*entry // every route in priority order

	notFound http.Handler
}

// New returns an empty muxer.
func New() *Muxer { return &Muxer{} }

// errBuilt is returned when routes are added to a built muxer.
var errBuilt = errors.New("httpmux: muxer already built")

// AddRoute parses and compiles the route's rule. A bad rule returns the
// parse error and leaves the muxer unchanged, so the caller can disable
// only that router.
func (m *Muxer) AddRoute(rt Route) error {
	if m.built {
		return errBuilt
	}
	if rt.Handler == nil {
		return fmt.Errorf("route %q: no handler", rt.Name)
	}
	matcher, err := rules.ParseHTTP(rt.Rule)
	if err != nil {
		return err
	}
	prio := rt.Priority
	if prio == 0 {
		prio = len(rt.Rule)
	}
	m.pending = append(m.pending, &entry{Route: rt, priority: prio, matcher: matcher})
	return nil
}

// SetNotFound sets the handler for requests no route matches (default: a
// plain-text 404, as Traefik). Call it before Build.
func (m *Muxer) SetNotFound(h http.Handler) {
	if !m.built {
		m.notFound = h
	}
}

// Build orders the routes and builds the host index. Higher priority
// first; equal priorities by name, then by insertion order.
func (m *Muxer) Build() {
	if m.built {
		return
	}
	m.built = true
	all := m.pending
	m.pending = nil
	slices.SortStableFunc(all, func(a, b *entry) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	m.all = all
	m.exact = make(map[string][]*entry)
	m.wildcard = make(map[string][]*entry)
	for i, e := range all {
		e.order = i
		hosts, ok := rules.Hosts(e.matcher.Tree())
		if !ok {
			m.rest = append(m.rest, e)
			continue
		}
		// ok with no host: the rule cannot match anything; leave it out.
		for _, h := range hosts {
			if parent, found := strings.CutPrefix(h, "*."); found {
				m.wildcard[parent] = append(m.wildcard[parent], e)
			} else {
				m.exact[h] = append(m.exact[h], e)
			}
		}
	}
}

// Match returns the route that serves r: the highest-priority route whose
// rule matches. It gives the same answer as testing every route in
// priority order, but only looks at the routes of r's host and the routes
// not bound to a host. The returned Route must not be modified.
func (m *Muxer) Match(r *http.Request) (*Route, bool) {
	in := rules.NewRequest(r)
	if e := m.match(&in); e != nil {
		return &e.Route, true
	}
	return nil, false
}

func (m *Muxer) match(in *rules.Request) *entry {
	key := in.HostKey()
	a := m.exact[key]
	var b []*entry
	if i := strings.IndexByte(key, '.'); i > 0 {
		b = m.wildcard[key[i+1:]]
	}
	c := m.rest
	// Three-way merge by order; a route may sit in both host lists, so an
	// order already tried is skipped.
	last := -1
	for {
		var e *entry
		switch {
		case len(a) > 0 && (len(b) == 0 || a[0].order <= b[0].order) && (len(c) == 0 || a[0].order <= c[0].order):
			e, a = a[0], a[1:]
		case len(b) > 0 && (len(c) == 0 || b[0].order <= c[0].order):
			e, b = b[0], b[1:]
		case len(c) > 0:
			e, c = c[0], c[1:]
		default:
			return nil
		}
		if e.order == last {
			continue
		}
		last = e.order
		if e.matcher.MatchRequest(in) {
			return e
		}
	}
}

// ServeHTTP serves r with the matching route's handler, or answers 404.
func (m *Muxer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := rules.NewRequest(r)
	if e := m.match(&in); e != nil {
		e.Handler.ServeHTTP(w, r)
		return
	}
	if m.notFound != nil {
		m.notFound.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// Routes returns the routes in the order they are tried, highest priority
// first, with their effective priority.
func (m *Muxer) Routes() []Route {
	out := make([]Route, len(m.all))
	for i, e := range m.all {
		out[i] = e.Route
		out[i].Priority = e.priority
	}
	return out
}
