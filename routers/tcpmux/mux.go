// Package tcpmux is the connection-level router of one entrypoint: it
// picks the TCP router for a connection from its ClientHello (server name,
// ALPN) and client address, before any byte reaches a backend. TLS routers
// see only TLS connections; routers without a tls section see only the
// others. What no TCP router claims goes to the entrypoint's HTTP side.
package tcpmux

import (
	ctls "crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Handler serves a connection and closes it when done.
type Handler interface {
	ServeTCP(c net.Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(net.Conn)

// ServeTCP calls f(c).
func (f HandlerFunc) ServeTCP(c net.Conn) { f(c) }

// Route is one TCP router on one entrypoint.
type Route struct {
	Name     string
	Rule     string
	Priority int // 0: len(Rule)
	// TLS routers match TLS connections only; Passthrough hands the raw
	// bytes (ClientHello included) to the service, otherwise TLS is
	// terminated with Config first.
	TLS         bool
	Passthrough bool
	Config      *ctls.Config
	Handler     Handler

	m *Matcher
}

// Muxer holds the routes of one entrypoint; immutable after Build.
type Muxer struct {
	tlsRoutes, plainRoutes []*Route
	built                  bool
}

// New returns an empty muxer.
func New() *Muxer { return &Muxer{} }

// Check compiles rule as a router with or without TLS would, so a builder
// can report errors before building anything else.
func Check(rule string, tls bool) (*Matcher, error) {
	m, err := Compile(rule)
	if err != nil {
		return nil, err
	}
	if !tls && m.needsTLS() {
		return nil, errors.New("a router without tls can only use HostSNI(`*`) and ClientIP: server names and ALPN exist only in TLS")
	}
	return m, nil
}

// AddRoute compiles r's rule and adds it.
func (mx *Muxer) AddRoute(r Route) error {
	if mx.built {
		return errors.New("tcpmux: AddRoute after Build")
	}
	m, err := Check(r.Rule, r.TLS)
	if err != nil {
		return err
	}
	if r.Handler == nil {
		return fmt.Errorf("route %q: no handler", r.Name)
	}
	r.m = m
	if r.Priority == 0 {
		r.Priority = len(r.Rule)
	}
	if r.TLS {
		mx.tlsRoutes = append(mx.tlsRoutes, &r)
	} else {
		mx.plainRoutes = append(mx.plainRoutes, &r)
	}
	return nil
}

// Build sorts routes by priority (higher first, then name).
func (mx *Muxer) Build() {
	sortRoutes(mx.tlsRoutes)
	sortRoutes(mx.plainRoutes)
	mx.built = true
}

func sortRoutes(rs []*Route) {
	slices.SortStableFunc(rs, func(a, b *Route) int {
		if a.Priority != b.Priority {
			if a.Priority > b.Priority {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// HasTLS reports whether some TLS router exists.
func (mx *Muxer) HasTLS() bool { return mx != nil && len(mx.tlsRoutes) > 0 }

// HasPlain reports whether some non-TLS router exists.
func (mx *Muxer) HasPlain() bool { return mx != nil && len(mx.plainRoutes) > 0 }

// Empty reports whether the muxer has no route at all.
func (mx *Muxer) Empty() bool { return mx == nil || len(mx.tlsRoutes)+len(mx.plainRoutes) == 0 }

// Match returns the first route for c, or nil.
func (mx *Muxer) Match(c *Conn) *Route {
	if mx == nil {
		return nil
	}
	rs := mx.plainRoutes
	if c.TLS {
		rs = mx.tlsRoutes
	}
	for _, r := range rs {
		if r.m.Match(c) {
			return r
		}
	}
	return nil
}
