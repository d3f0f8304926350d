// Package loadbalancer spreads requests over server handlers. A Balancer owns
// the server list, its health status (active checks and passive ejection) and
// sticky cookies; a Policy (wrr, p2c, hrw, leasttime) picks among the servers
// that are up.
package loadbalancer

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Server is one backend of a balancer: usually a proxy to one URL, or a child
// service for weighted services.
type Server struct {
	Name    string // unique in the balancer; the server URL for a servers load balancer
	Handler http.Handler
	Weight  int // >= 0; 0 receives no traffic

	st *stats // set by New
}

// stats are the live counters of one server, read by p2c and leasttime.
type stats struct {
	inflight atomic.Int64
	ewmaNs   atomic.Int64 // smoothed response time; 0 until the first response

	cookie    string // sticky cookie value
	setCookie string // whole Set-Cookie header value

	mu       sync.Mutex
	failures []time.Time // passive health: failures within the window
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

// tracker is implemented by policies that need in-flight counts and response
// times; the balancer only measures when the policy asks.
type tracker interface{ tracks() }

// Options are the optional behaviours of a balancer.
type Options struct {
	// HealthChecked says the servers' status is checked (active or passive
	// checks, or child status for parents): only then may parents register
	// status updaters.
	HealthChecked bool
	// Sticky pins clients to a server with a cookie; nil is off.
	Sticky *Cookie
	// Passive ejects a server after MaxFailedAttempts responses >= 500
	// (including proxy errors) within FailureWindow, for FailureWindow.
	Passive *Passive
	// OnStatus is told every change of a server's effective status.
	OnStatus func(name string, up bool)
}

// Passive configures passive health checks.
type Passive struct {
	FailureWindow     time.Duration
	MaxFailedAttempts int
}

// Balancer is an http.Handler dispatching each request to the server its
// policy picks, answering 503 when none is available.
type Balancer struct {
	policy  Policy
	track   bool
	opts    Options
	servers []*Server

	byCookie atomic.Pointer[map[string]*Server] // up servers by sticky value

	mu          sync.Mutex
	down        map[string]bool // active health / child status
	passiveDown map[string]bool
	effDown     map[string]bool
	wasUp       bool
	updaters    map[int]func(up bool)
	nextID      int
	timers      []*time.Timer
	closed      bool
}

// New builds a balancer over servers. Names must be unique and weights >= 0.
func New(servers []Server, policy Policy) (*Balancer, error) {
	return NewWithOptions(servers, policy, Options{})
}

// NewWithOptions builds a balancer with sticky cookies, passive health and
// status reporting as opts say.
func NewWithOptions(servers []Server, policy Policy, opts Options) (*Balancer, error) {
	if policy == nil {
		return nil, errors.New("load balancer: nil policy")
	}
	if opts.Passive != nil && (opts.Passive.FailureWindow <= 0 || opts.Passive.MaxFailedAttempts <= 0) {
		return nil, errors.New("load balancer: passive health check needs a positive failureWindow and maxFailedAttempts")
	}
	_, track := policy.(tracker)
	b := &Balancer{
		policy: policy, track: track, opts: opts,
		down: map[string]bool{}, passiveDown: map[string]bool{}, effDown: map[string]bool{},
		updaters: map[int]func(bool){},
	}
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
		s.st = &stats{}
		if opts.Sticky != nil {
			s.st.cookie = cookieValue(s.Name)
			s.st.setCookie = opts.Sticky.header(s.st.cookie)
		}
		b.servers = append(b.servers, &s)
	}
	b.mu.Lock()
	b.refreshLocked()
	b.mu.Unlock()
	return b, nil
}

// ServeHTTP forwards the request to the picked server.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var s *Server
	if b.opts.Sticky != nil {
		s = b.stickyServer(r)
	}
	if s == nil {
		s = b.policy.Pick(r)
		if s == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("Service Unavailable"))
			return
		}
		if b.opts.Sticky != nil {
			w.Header().Add("Set-Cookie", s.st.setCookie)
		}
	}
	if !b.track && b.opts.Passive == nil {
		s.Handler.ServeHTTP(w, r)
		return
	}
	b.serveTracked(s, w, r)
}

func (b *Balancer) serveTracked(s *Server, w http.ResponseWriter, r *http.Request) {
	var start time.Time
	if b.track {
		s.st.inflight.Add(1)
		start = time.Now()
	}
	var sw *statusWriter
	if b.opts.Passive != nil {
		sw = getStatusWriter(w)
		w = sw
	}
	defer func() {
		if b.track {
			s.st.inflight.Add(-1)
			s.st.observe(time.Since(start))
		}
		if sw != nil {
			code := sw.code
			putStatusWriter(sw)
			if code >= 500 {
				b.recordFailure(s)
			}
		}
	}()
	s.Handler.ServeHTTP(w, r)
}

// observe folds d into the smoothed response time (weight 1/8, as TCP's SRTT).
func (st *stats) observe(d time.Duration) {
	for {
		old := st.ewmaNs.Load()
		n := int64(d)
		if old != 0 {
			n = old + (int64(d)-old)/8
		}
		if n <= 0 {
			n = 1
		}
		if st.ewmaNs.CompareAndSwap(old, n) {
			return
		}
	}
}

// SetStatus marks a server up or down (active health checks and child
// services call it). Unknown names are ignored: a checker may outlive a reload
// that removed its server.
func (b *Balancer) SetStatus(name string, up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.server(name) == nil || b.down[name] == !up {
		return
	}
	if up {
		delete(b.down, name)
	} else {
		b.down[name] = true
	}
	b.refreshLocked()
}

func (b *Balancer) server(name string) *Server {
	for _, s := range b.servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// RegisterStatusUpdater registers fn to be told when the balancer as a whole
// goes from having an available server to none, or back (health propagation
// to parent services). It fails when the balancer's health is not checked.
// The returned function unregisters fn.
func (b *Balancer) RegisterStatusUpdater(fn func(up bool)) (func(), error) {
	if !b.opts.HealthChecked {
		return nil, errors.New("healthCheck not enabled on this service")
	}
	b.mu.Lock()
	id := b.nextID
	b.nextID++
	b.updaters[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.updaters, id)
		b.mu.Unlock()
	}, nil
}

// Up reports whether some server with a positive weight is up.
func (b *Balancer) Up() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wasUp
}

// ServerUp reports the effective status of one server.
func (b *Balancer) ServerUp(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.effDown[name]
}

// Close stops passive-health timers.
func (b *Balancer) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, t := range b.timers {
		t.Stop()
	}
	b.timers = nil
}

func (b *Balancer) refreshLocked() {
	up := make([]*Server, 0, len(b.servers))
	anyUp := false
	var cookies map[string]*Server
	if b.opts.Sticky != nil {
		cookies = make(map[string]*Server, len(b.servers))
	}
	for _, s := range b.servers {
		isDown := b.down[s.Name] || b.passiveDown[s.Name]
		if isDown != b.effDown[s.Name] {
			if isDown {
				b.effDown[s.Name] = true
			} else {
				delete(b.effDown, s.Name)
			}
			if b.opts.OnStatus != nil {
				b.opts.OnStatus(s.Name, !isDown)
			}
		}
		if isDown {
			continue
		}
		up = append(up, s)
		anyUp = anyUp || s.Weight > 0
		if cookies != nil && s.Weight > 0 {
			cookies[s.st.cookie] = s
		}
	}
	b.policy.Update(up)
	if cookies != nil {
		b.byCookie.Store(&cookies)
	}
	if anyUp != b.wasUp {
		b.wasUp = anyUp
		for _, fn := range b.updaters {
			fn(anyUp)
		}
	}
}

// recordFailure counts one failed response; enough of them within the window
// eject the server for one window.
func (b *Balancer) recordFailure(s *Server) {
	p := b.opts.Passive
	now := time.Now()
	st := s.st
	st.mu.Lock()
	keep := st.failures[:0]
	for _, t := range st.failures {
		if now.Sub(t) < p.FailureWindow {
			keep = append(keep, t)
		}
	}
	st.failures = append(keep, now)
	eject := len(st.failures) >= p.MaxFailedAttempts
	if eject {
		st.failures = st.failures[:0]
	}
	st.mu.Unlock()
	if !eject {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.passiveDown[s.Name] {
		return
	}
	b.passiveDown[s.Name] = true
	b.refreshLocked()
	var t *time.Timer
	t = time.AfterFunc(p.FailureWindow, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, x := range b.timers {
			if x == t {
				b.timers = append(b.timers[:i], b.timers[i+1:]...)
				break
			}
		}
		if b.closed {
			return
		}
		delete(b.passiveDown, s.Name)
		b.refreshLocked()
	})
	b.timers = append(b.timers, t)
}

// Weight is a configured server's weight: 1 when unset.
func Weight(s dynamic.Server) int {
	if s.Weight == nil {
		return 1
	}
	return *s.Weight
}
