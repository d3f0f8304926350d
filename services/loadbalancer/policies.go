package loadbalancer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// NewPolicy returns the policy of a loadBalancer strategy name ("" is wrr).
func NewPolicy(strategy string) (Policy, error) {
	switch strings.ToLower(strategy) {
	case "", dynamic.StrategyWRR:
		return NewWRR(), nil
	case dynamic.StrategyP2C:
		return NewP2C(), nil
	case dynamic.StrategyHRW:
		return NewHRW(), nil
	case dynamic.StrategyLeastTime:
		return NewLeastTime(), nil
	}
	return nil, fmt.Errorf("unknown load-balancing strategy %q (wrr, p2c, hrw or leasttime)", strategy)
}

// weightedSet is the up servers with positive weight and their cumulative
// weights, for weighted random sampling.
type weightedSet struct {
	servers []*Server
	cum     []int // cum[i] = sum of weights of servers[0..i]
}

func newWeightedSet(up []*Server) *weightedSet {
	ws := &weightedSet{}
	total := 0
	for _, s := range up {
		if s.Weight > 0 {
			total += s.Weight
			ws.servers = append(ws.servers, s)
			ws.cum = append(ws.cum, total)
		}
	}
	return ws
}

// sample draws a server with probability proportional to its weight.
func (ws *weightedSet) sample() int {
	x := rand.IntN(ws.cum[len(ws.cum)-1]) + 1
	i, _ := slices.BinarySearch(ws.cum, x)
	return i
}

// P2C is power of two choices: two servers drawn at random (by weight), the
// one with fewer in-flight requests per unit of weight wins.
type P2C struct{ set atomic.Pointer[weightedSet] }

// NewP2C returns an empty p2c policy.
func NewP2C() *P2C { return &P2C{} }

func (*P2C) tracks() {}

// Update implements Policy.
func (p *P2C) Update(up []*Server) { p.set.Store(newWeightedSet(up)) }

// Pick implements Policy.
func (p *P2C) Pick(*http.Request) *Server {
	ws := p.set.Load()
	if ws == nil || len(ws.servers) == 0 {
		return nil
	}
	if len(ws.servers) == 1 {
		return ws.servers[0]
	}
	a, b := ws.servers[ws.sample()], ws.servers[ws.sample()]
	// Compare inflight/weight without dividing.
	la := a.st.inflight.Load() * int64(b.Weight)
	lb := b.st.inflight.Load() * int64(a.Weight)
	if lb < la {
		return b
	}
	return a
}

// HRW is highest random weight (rendezvous hashing) on the client IP: a client
// keeps its server while the set of servers is unchanged, and only clients of
// a removed server move. Weights scale each server's share.
type HRW struct{ set atomic.Pointer[[]hrwServer] }

type hrwServer struct {
	s    *Server
	seed uint64
	w    float64
}

// NewHRW returns an empty hrw policy.
func NewHRW() *HRW { return &HRW{} }

// Update implements Policy.
func (h *HRW) Update(up []*Server) {
	set := make([]hrwServer, 0, len(up))
	for _, s := range up {
		if s.Weight > 0 {
			set = append(set, hrwServer{s: s, seed: fnvString(fnvOffset, s.Name), w: float64(s.Weight)})
		}
	}
	h.set.Store(&set)
}

// Pick implements Policy.
func (h *HRW) Pick(r *http.Request) *Server {
	set := h.set.Load()
	if set == nil || len(*set) == 0 {
		return nil
	}
	ip := clientIP(r.RemoteAddr)
	var best *Server
	bestScore := math.Inf(-1)
	for _, c := range *set {
		x := mix64(fnvString(c.seed, ip))
		u := (float64(x>>11) + 0.5) / (1 << 53) // (0,1)
		score := -c.w / math.Log(u)
		if score > bestScore {
			best, bestScore = c.s, score
		}
	}
	return best
}

// clientIP is the host of a RemoteAddr, without allocating.
func clientIP(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && !strings.HasSuffix(addr, "]") {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix64 is splitmix64's finaliser: FNV's low bits are poor on short inputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// LeastTime sends each request to the server with the lowest smoothed
// response time times (in-flight + 1), per unit of weight. Servers not yet
// measured are tried first; ties go round robin.
type LeastTime struct {
	set  atomic.Pointer[[]*Server]
	next atomic.Uint64
}

// NewLeastTime returns an empty leasttime policy.
func NewLeastTime() *LeastTime { return &LeastTime{} }

func (*LeastTime) tracks() {}

// Update implements Policy.
func (l *LeastTime) Update(up []*Server) {
	set := make([]*Server, 0, len(up))
	for _, s := range up {
		if s.Weight > 0 {
			set = append(set, s)
		}
	}
	l.set.Store(&set)
}

// Pick implements Policy.
func (l *LeastTime) Pick(*http.Request) *Server {
	sp := l.set.Load()
	if sp == nil || len(*sp) == 0 {
		return nil
	}
	set := *sp
	n := len(set)
	start := int(l.next.Add(1) % uint64(n))
	var best *Server
	bestScore := math.Inf(1)
	for i := 0; i < n; i++ {
		s := set[(start+i)%n]
		score := float64(s.st.ewmaNs.Load()+1) * float64(s.st.inflight.Load()+1) / float64(s.Weight)
		if score < bestScore {
			best, bestScore = s, score
		}
	}
	return best
}
