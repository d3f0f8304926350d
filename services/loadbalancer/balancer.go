// Package loadbalancer spreads requests over server handlers. A Balancer owns
// the server list and its health status; a Policy (wrr today; p2c, hrw and
// least-time later) picks among the servers that are up.
package loadbalancer

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Server is one backend of a balancer: usually a proxy to one URL, or a child
// service for weighted services.
type Server struct {
	Name    string // unique in the balancer; the server URL for a servers load balancer
	Handler http.Handler
	Weight  int // >= 0; 0 receives no traffic
}

// Policy picks one of the servers that are up.
//
// Update is called with the servers that are up whenever that set changes,
// never concurrently with itself; the slice is the policy's to keep. Pick is
// called concurrently, also during Update, and returns nil when no server can
// take the request.
type Policy interface {
	Update(up []*Server)
	Pick(r *http.Request) *Server
}

// Balancer is an http.Handler dispatching each request to the server its
// policy picks, answering 503 when none is available.
type Balancer struct {
	policy Policy

	mu       sync.Mutex
	servers  []*Server
	down     map[string]bool
	wasUp    bool
	updaters []func(up bool)
}

// New builds a balancer over servers. Names must be unique and weights >= 0.
func New(servers []Server, policy Policy) (*Balancer, error) {
	if policy == nil {
		return nil, errors.New("load balancer: nil policy")
	}
	b := &Balancer{policy: policy, down: map[string]bool{}}
	seen := make(map[string]bool, len(servers))
	for i := range servers {
		s := servers[i]
		if s.Handler == nil {
			return nil, fmt.Errorf("load balancer: server %q: nil handler", s.Name)
		}
		if s.Weight < 0 {
			return nil, fmt.Errorf("load balancer: server %q: negative weight %d", s.Name, s.Weight)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("load balancer: duplicate server %q", s.Name)
		}
		seen[s.Name] = true
		b.servers = append(b.servers, &s)
	}
	b.mu.Lock()
	b.refreshLocked()
	b.mu.Unlock()
	return b, nil
}

// ServeHTTP forwards the request to the picked server.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := b.policy.Pick(r)
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable"))
		return
	}
	s.Handler.ServeHTTP(w, r)
}

// SetStatus marks a server up or down (health checks call it). Unknown names
// are ignored: a health checker may outlive a reload that removed its server.
func (b *Balancer) SetStatus(name string, up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	known := false
	for _, s := range b.servers {
		if s.Name == name {
			known = true
			break
		}
	}
	if !known || b.down[name] == !up {
		return
	}
	if up {
		delete(b.down, name)
	} else {
		b.down[name] = true
	}
	b.refreshLocked()
}

// RegisterStatusUpdater registers fn to be told when the balancer as a whole
// goes from having an available server to none, or back (health propagation
// to parent services).
func (b *Balancer) RegisterStatusUpdater(fn func(up bool)) {
	b.mu.Lock()
	b.updaters = append(b.updaters, fn)
	b.mu.Unlock()
}

// Up reports whether some server with a positive weight is up.
func (b *Balancer) Up() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wasUp
}

func (b *Balancer) refreshLocked() {
	up := make([]*Server, 0, len(b.servers))
	anyUp := false
	for _, s := range b.servers {
		if !b.down[s.Name] {
			up = append(up, s)
			anyUp = anyUp || s.Weight > 0
		}
	}
	b.policy.Update(up)
	if anyUp != b.wasUp {
		b.wasUp = anyUp
		for _, fn := range b.updaters {
			fn(anyUp)
		}
	}
}

// Weight is a configured server's weight: 1 when unset.
func Weight(s dynamic.Server) int {
	if s.Weight == nil {
		return 1
	}
	return *s.Weight
}
