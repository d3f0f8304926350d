// Package udpsvc holds UDP services: a weighted round-robin that picks the
// backend address of each new client session (the entrypoint keeps the
// session on that backend until it goes idle).
package udpsvc

import (
	"sync/atomic"
)

// Picker returns the backend address for a new session.
type Picker interface {
	NextAddr() string
}

// Addr is a single backend.
type Addr string

// NextAddr returns the address.
func (a Addr) NextAddr() string { return string(a) }

// WRR is a smooth weighted round-robin over pickers, precomputed so that
// picking is one atomic increment.
type WRR struct {
	order []Picker
	next  atomic.Uint64
}

// NewWRR builds the schedule; weight 0 is never picked.
func NewWRR(ps []Picker, weights []int) *WRR {
	w := &WRR{}
	sum := 0
	for _, x := range weights {
		if x > 0 {
			sum += x
		}
	}
	if sum == 0 {
		return w
	}
	if sum > 1<<16 {
		sum = 1 << 16 // a huge total only loses precision, not order
	}
	cur := make([]int, len(ps))
	for range sum {
		best := -1
		for i := range ps {
			if weights[i] <= 0 {
				continue
			}
			cur[i] += weights[i]
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		total := 0
		for _, x := range weights {
			if x > 0 {
				total += x
			}
		}
		cur[best] -= total
		w.order = append(w.order, ps[best])
	}
	return w
}

// NextAddr returns the next backend address ("" when none).
func (w *WRR) NextAddr() string {
	if len(w.order) == 0 {
		return ""
	}
	i := w.next.Add(1) - 1
	return w.order[i%uint64(len(w.order))].NextAddr()
}
