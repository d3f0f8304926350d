package middlewares

import (
	"io"
	"sync"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/tcp/inflightconn"
	"github.com/switchyard-proxy/switchyard/middlewares/tcp/mqttinflightconn"
)

// State keeps the state of stateful middlewares (rate buckets, in-flight
// counters, circuit breakers) across configuration generations. An entry is
// keyed by the qualified middleware name and the hash of its options: a
// reload that leaves a middleware unchanged finds its state again, a changed
// one gets fresh state, and one no build asked for during a whole generation
// is released (closed when it implements io.Closer).
//
// A nil *State keeps nothing: every build gets fresh state.
type State struct {
	mu    sync.Mutex
	gen   uint64
	items map[stateKey]*stateItem
}

type stateKey struct{ name, hash string }

type stateItem struct {
	v   any
	gen uint64
}

// NewState returns an empty store.
func NewState() *State { return &State{items: map[stateKey]*stateItem{}} }

// Begin starts a build generation.
func (s *State) Begin() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
}

// End releases the entries the generation just built did not use.
func (s *State) End() {
	if s == nil {
		return
	}
	s.mu.Lock()
	var gone []any
	for k, it := range s.items {
		if it.gen != s.gen {
			gone = append(gone, it.v)
			delete(s.items, k)
		}
	}
	s.mu.Unlock()
	for _, v := range gone {
		if c, ok := v.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// Len reports how many entries are kept (for tests and metrics).
func (s *State) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// get returns the state of (name, cfg), creating it with mk when absent.
func (s *State) get(name string, cfg any, mk func() (any, error)) (any, error) {
	if s == nil {
		return mk()
	}
	k := stateKey{name: name, hash: dynamic.Hash(cfg)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.items[k]; ok {
		it.gen = s.gen
		return it.v, nil
	}
	v, err := mk()
	if err != nil {
		return nil, err
	}
	s.items[k] = &stateItem{v: v, gen: s.gen}
	return v, nil
}

// TCPInFlightConn returns the inFlightConn limiter of a TCP middleware,
// kept across builds while its options are unchanged (open connections stay
// counted through a reload).
func (s *State) TCPInFlightConn(name string, cfg *dynamic.TCPInFlightConn) (*inflightconn.Limiter, error) {
	v, err := s.get(name+"#tcp.inFlightConn", cfg, func() (any, error) { return inflightconn.New(cfg) })
	if err != nil {
		return nil, err
	}
	return v.(*inflightconn.Limiter), nil
}

// TCPMQTTInFlightConn returns the mqttInFlightConn limiter of a TCP
// middleware, kept across builds while its options are unchanged.
func (s *State) TCPMQTTInFlightConn(name string, cfg *dynamic.TCPMQTTInFlightConn) (*mqttinflightconn.Limiter, error) {
	v, err := s.get(name+"#tcp.mqttInFlightConn", cfg, func() (any, error) { return mqttinflightconn.New(cfg) })
	if err != nil {
		return nil, err
	}
	return v.(*mqttinflightconn.Limiter), nil
}
