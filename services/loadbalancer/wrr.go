package loadbalancer

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// maxSchedule bounds the precomputed round: beyond it (huge, coprime weights)
// WRR falls back to computing each pick under a mutex.
const maxSchedule = 4096

// WRR is smooth weighted round robin (nginx's): over a round of sum(weights)
// picks each server gets exactly its weight, interleaved as evenly as possible
// (5,1,1 gives a a b a c a a). The round is precomputed at Update, so a pick is
// one atomic increment and an index.
type WRR struct {
	state atomic.Pointer[wrrState]
	next  atomic.Uint64
}

type wrrState struct {
	round []*Server // precomputed round, or nil when too long

	// Fallback when the round would exceed maxSchedule.
	mu      sync.Mutex
	servers []*Server
	current []int
	total   int
}

// NewWRR returns an empty smooth weighted round robin policy.
func NewWRR() *WRR { return &WRR{} }

// Update implements Policy.
func (w *WRR) Update(up []*Server) {
	st := &wrrState{}
	for _, s := range up {
		if s.Weight > 0 {
			st.servers = append(st.servers, s)
			st.total += s.Weight
		}
	}
	st.current = make([]int, len(st.servers))
	if n := roundLength(st.servers); n > 0 && n <= maxSchedule {
		st.round = make([]*Server, n)
		for i := range st.round {
			st.round[i] = st.step()
		}
		clear(st.current)
	}
	w.state.Store(st)
}

// Pick implements Policy.
func (w *WRR) Pick(*http.Request) *Server {
	st := w.state.Load()
	if st == nil || len(st.servers) == 0 {
		return nil
	}
	if st.round != nil {
		return st.round[(w.next.Add(1)-1)%uint64(len(st.round))]
	}
	st.mu.Lock()
	s := st.step()
	st.mu.Unlock()
	return s
}

// step is one smooth-WRR selection: everyone gains its weight, the richest is
// picked (first on ties) and pays the total.
func (st *wrrState) step() *Server {
	best := -1
	for i, s := range st.servers {
		st.current[i] += s.Weight
		if best < 0 || st.current[i] > st.current[best] {
			best = i
		}
	}
	st.current[best] -= st.total
	return st.servers[best]
}

// roundLength is the period of the smooth WRR sequence: sum(weights)/gcd.
func roundLength(servers []*Server) int {
	g, sum := 0, 0
	for _, s := range servers {
		g = gcd(g, s.Weight)
		sum += s.Weight
	}
	if g == 0 {
		return 0
	}
	return sum / g
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
