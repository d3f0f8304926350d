// Package inflightconn limits the simultaneous TCP connections of each
// client IP: the inFlightConn TCP middleware.
package inflightconn

import (
	"errors"
	"net"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/keycount"
)

// Limiter counts open connections per peer IP. It is safe for concurrent
// use and meant to be kept across reloads while its config is unchanged.
type Limiter struct {
	n *keycount.Counter
}

// New validates cfg (amount > 0).
func New(cfg *dynamic.TCPInFlightConn) (*Limiter, error) {
	if cfg == nil || cfg.Amount <= 0 {
		return nil, errors.New("amount must be greater than 0")
	}
	return &Limiter{n: keycount.New(cfg.Amount)}, nil
}

// Acquire takes a slot for conn's peer. When ok, release must be called
// once the connection is closed; when not ok the caller closes conn.
func (l *Limiter) Acquire(conn net.Conn) (release func(), ok bool) {
	key := conn.RemoteAddr().String()
	if a, ok := ipmatch.ParseIP(key); ok {
		key = a.String()
	}
	return l.n.Acquire(key)
}

// InFlight reports the open connections of ip (for tests and metrics).
func (l *Limiter) InFlight(ip string) int64 {
	return l.n.InFlight(ip)
}
