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
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/internal/tcphandler"
)

// Handler serves a connection and closes it when done. It lives in
// internal/tcphandler, below this package and the TCP services.
type Handler = tcphandler.Handler

// HandlerFunc adapts a function to Handler.
type HandlerFunc = tcphandler.HandlerFunc

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
	// MQTT: the handler needs the client's CONNECT (an MQTT middleware),
	// even when the rule does not look at it.
	MQTT bool

	m    *Matcher
	rank int
}

// NeedsConnect reports whether the connection must have its MQTT CONNECT
// read (and kept in Conn.MQTT) before it is handed to r.
func (r *Route) NeedsConnect() bool { return r.MQTT || r.m.MQTT }

// Muxer holds the routes of one entrypoint; immutable after Build.
type Muxer struct {
	tlsRoutes, plainRoutes []*Route
	// TLS routes whose rule is only HostSNI names (joined by ||) are
	// indexed by name; the others stay in tlsRest. Both in rank order.
	bySNI   map[string][]*Route
	tlsRest []*Route
	// Some route of the family needs the CONNECT (rule or handler).
	tlsMQTT, plainMQTT bool
	built              bool
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
	if r.Passthrough && (m.MQTT || r.MQTT) {
		return errors.New("MQTT matchers and middlewares need the CONNECT, which TLS passthrough keeps encrypted: terminate TLS (passthrough: false)")
	}
	r.m = m
	if r.Priority == 0 {
		r.Priority = len(r.Rule)
	}
	if r.TLS {
		mx.tlsRoutes = append(mx.tlsRoutes, &r)
		mx.tlsMQTT = mx.tlsMQTT || r.NeedsConnect()
	} else {
		mx.plainRoutes = append(mx.plainRoutes, &r)
		mx.plainMQTT = mx.plainMQTT || r.NeedsConnect()
	}
	return nil
}

// Build sorts routes by priority (higher first, then name).
func (mx *Muxer) Build() {
	sortRoutes(mx.tlsRoutes)
	sortRoutes(mx.plainRoutes)
	mx.bySNI = map[string][]*Route{}
	mx.tlsRest = mx.tlsRest[:0]
	for i, r := range mx.tlsRoutes {
		r.rank = i
		if names, ok := sniOnly(r.m.root, nil); ok {
			for _, n := range names {
				if b := mx.bySNI[n]; len(b) == 0 || b[len(b)-1] != r {
					mx.bySNI[n] = append(b, r)
				}
			}
			continue
		}
		mx.tlsRest = append(mx.tlsRest, r)
	}
	mx.built = true
}

// sniOnly returns the names of a rule made only of HostSNI(name) joined
// by ||, so such a route can be found by a map lookup.
func sniOnly(n *node, acc []string) ([]string, bool) {
	switch n.op {
	case opSNI:
		return append(acc, n.s), true
	case opOr:
		acc, ok := sniOnly(n.a, acc)
		if !ok {
			return nil, false
		}
		return sniOnly(n.b, acc)
	}
	return nil, false
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

// PlainMQTT reports whether a non-TLS route needs the MQTT CONNECT: the
// entrypoint then reads a CONNECT before routing clear-text connections.
func (mx *Muxer) PlainMQTT() bool { return mx != nil && mx.plainMQTT }

// TLSMQTT reports whether a TLS route needs the MQTT CONNECT (TLSMatch
// then says when, after the handshake).
func (mx *Muxer) TLSMQTT() bool { return mx != nil && mx.tlsMQTT }

// Empty reports whether the muxer has no route at all.
func (mx *Muxer) Empty() bool { return mx == nil || len(mx.tlsRoutes)+len(mx.plainRoutes) == 0 }

// Match returns the first route for c, or nil: for TLS, the routes
// indexed under the server name and the unindexed ones are walked merged
// in priority order, as a linear scan would.
func (mx *Muxer) Match(c *Conn) *Route {
	if mx == nil {
		return nil
	}
	if !c.TLS {
		for _, r := range mx.plainRoutes {
			if r.m.Match(c) {
				return r
			}
		}
		return nil
	}
	exact := mx.bySNI[c.SNI]
	rest := mx.tlsRest
	for len(exact) > 0 || len(rest) > 0 {
		if len(rest) == 0 || (len(exact) > 0 && exact[0].rank < rest[0].rank) {
			return exact[0] // its rule is HostSNI(c.SNI) || ...: it matches
		}
		r := rest[0]
		rest = rest[1:]
		if r.m.Match(c) {
			return r
		}
	}
	return nil
}

// MatchTLS picks the route of a TLS connection before its handshake, when
// the CONNECT inside is not known yet. pending reports that r's rule (or
// one of an earlier route that may match) depends on the CONNECT: the
// caller terminates TLS with r.Config, reads the CONNECT and calls
// MatchTerminated. Without pending, r is the route (as Match).
func (mx *Muxer) MatchTLS(c *Conn) (r *Route, pending bool) {
	if mx == nil || !c.TLS {
		return nil, false
	}
	if !mx.tlsMQTT {
		return mx.Match(c), false
	}
	exact := mx.bySNI[c.SNI]
	rest := mx.tlsRest
	for len(exact) > 0 || len(rest) > 0 {
		if len(rest) == 0 || (len(exact) > 0 && exact[0].rank < rest[0].rank) {
			return exact[0], false
		}
		r := rest[0]
		rest = rest[1:]
		switch r.m.root.match3(c) {
		case yes:
			return r, false
		case maybe:
			return r, true
		}
	}
	return nil, false
}

// MatchTerminated picks the route of a TLS connection terminated with cfg
// (after MatchTLS said pending), its CONNECT in c.MQTT: the first route in
// priority order that terminates with the same TLS options and matches.
// Routes with other options are skipped: the handshake already happened
// under cfg's certificates and client-authentication policy.
func (mx *Muxer) MatchTerminated(c *Conn, cfg *ctls.Config) *Route {
	if mx == nil {
		return nil
	}
	for _, r := range mx.tlsRoutes {
		if r.Passthrough || r.Config != cfg {
			continue
		}
		if r.m.Match(c) {
			return r
		}
	}
	return nil
}
