// Package inflightconn limits the simultaneous TCP connections of each
// client IP: the inFlightConn TCP middleware.
package inflightconn

import (
	"errors"
	"net"
	"sync"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
)

// Limiter counts open connections per peer IP. It is safe for concurrent
// use and meant to be kept across reloads while its config is unchanged.
type Limiter struct {
	max   int64
	mu    sync.Mutex
	count map[string]int64
}

// New validates cfg (amount > 0).
func New(cfg *dynamic.TCPInFlightConn) (*Limiter, error) {
	if cfg == nil || cfg.Amount <= 0 {
		return nil, errors.New("amount must be greater than 0")
	}
	return &Limiter{max: cfg.Amount, count: map[string]int64{}}, nil
}

// Acquire takes a slot for conn's peer. When ok, release must be called
// once the connection is closed; when not ok the caller closes conn.
func (l *Limiter) Acquire(conn net.Conn) (release func(), ok bool) {
	key := conn.RemoteAddr().String()
	if a, ok := ipmatch.ParseIP(key); ok {
		key = a.String()
	}
	l.mu.Lock()
	if l.count[key] >= l.max {
		l.mu.Unlock()
		return nil, false
	}
	l.count[key]++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if l.count[key]--; l.count[key] <= 0 {
				delete(l.count, key)
			}
			l.mu.Unlock()
		})
	}, true
}

// InFlight reports the open connections of ip (for tests and metrics).
func (l *Limiter) InFlight(ip string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[ip]
}
