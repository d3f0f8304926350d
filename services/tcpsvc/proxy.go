// Package tcpsvc holds TCP services: a proxy to one server (dial timeout,
// TLS and PROXY protocol towards the backend, half-close) and a weighted
// round-robin over handlers, used both for a load balancer's servers and
// for weighted services.
package tcpsvc

import (
	"context"
	ctls "crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/switchyard-proxy/switchyard/internal/relay"
	"github.com/switchyard-proxy/switchyard/internal/tcphandler"
)

// Transport is how a TCP service reaches its servers.
type Transport struct {
	DialTimeout   time.Duration
	DialKeepAlive time.Duration
	// TerminationDelay bounds how long the other direction may still run
	// once one side has closed its write half; negative waits forever.
	TerminationDelay time.Duration
	// TLS, when set, is used for servers marked tls (or for every server
	// when the transport has a tls section).
	TLS *ctls.Config
	// ProxyProtocol is the PROXY protocol version sent first (0: none).
	ProxyProtocol int
}

// Server proxies each connection to one backend address.
type Server struct {
	Address string
	// TLS, when set, wraps the backend connection (server name filled).
	TLS  *ctls.Config
	T    *Transport
	Name string // service name, for logs
}

// ServeTCP dials the backend and copies both ways until both are done.
func (s *Server) ServeTCP(c net.Conn) {
	defer c.Close()
	d := net.Dialer{Timeout: s.T.DialTimeout, KeepAlive: s.T.DialKeepAlive}
	ctx := context.Background()
	backend, err := d.DialContext(ctx, "tcp", s.Address)
	if err != nil {
		slog.Debug("tcp: dial backend", "service", s.Name, "address", s.Address, "error", err)
		return
	}
	if v := s.T.ProxyProtocol; v == 1 || v == 2 {
		h := proxyproto.HeaderProxyFromAddrs(byte(v), c.RemoteAddr(), c.LocalAddr())
		if _, err := h.WriteTo(backend); err != nil {
			backend.Close()
			slog.Debug("tcp: proxy protocol header", "service", s.Name, "error", err)
			return
		}
	}
	if s.TLS != nil {
		tc := ctls.Client(backend, s.TLS)
		if s.T.DialTimeout > 0 {
			_ = tc.SetDeadline(time.Now().Add(s.T.DialTimeout))
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			backend.Close()
			slog.Debug("tcp: backend TLS handshake", "service", s.Name, "address", s.Address, "error", err)
			return
		}
		_ = tc.SetDeadline(time.Time{})
		backend = tc
	}
	defer backend.Close()
	r := relay.New(c, backend, s.T.TerminationDelay, 0)
	if h, ok := c.(relay.Holder); ok && s.TLS == nil {
		// Cleartext towards the backend: the pair can move to a new
		// process on a binary upgrade (the entrypoint decides whether
		// the client side can).
		h.HoldRelay(r, s.Name)
	}
	r.Run()
}

// Pipe copies a→b and b→a. When one direction ends, the write half of its
// destination is closed and the other direction gets delay to finish.
func Pipe(a, b net.Conn, delay time.Duration) {
	relay.New(a, b, delay, 0).Run()
}

// ErrNoServer is logged when a balancer has nothing to pick.
var ErrNoServer = errors.New("no server available")

// WRR is a weighted round-robin over handlers: the smooth WRR order is
// computed once, and picking is one atomic increment.
type WRR struct {
	order []tcphandler.Handler
	next  atomic.Uint64
}

// NewWRR precomputes the schedule; handlers of weight 0 are never picked.
func NewWRR(hs []tcphandler.Handler, weights []int) *WRR {
	total := 0
	for _, w := range weights {
		if w > 0 {
			total += w
		}
	}
	g := 0
	for _, w := range weights {
		if w > 0 {
			g = gcd(g, w)
		}
	}
	if g > 1 {
		total /= g
	}
	w := &WRR{}
	if total == 0 {
		return w
	}
	const maxOrder = 1 << 16
	if total > maxOrder {
		// Scale down very large weights; proportions stay close.
		g *= total/maxOrder + 1
	}
	cur := make([]int, len(hs))
	eff := make([]int, len(hs))
	sum := 0
	for i, wt := range weights {
		if wt > 0 {
			eff[i] = max(1, wt/max(g, 1))
			sum += eff[i]
		}
	}
	w.order = make([]tcphandler.Handler, 0, sum)
	for range sum {
		best := -1
		for i := range hs {
			if eff[i] == 0 {
				continue
			}
			cur[i] += eff[i]
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= sum
		w.order = append(w.order, hs[best])
	}
	return w
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ServeTCP hands c to the next handler.
func (w *WRR) ServeTCP(c net.Conn) {
	if len(w.order) == 0 {
		slog.Debug("tcp: " + ErrNoServer.Error())
		c.Close()
		return
	}
	i := w.next.Add(1) - 1
	w.order[i%uint64(len(w.order))].ServeTCP(c)
}
