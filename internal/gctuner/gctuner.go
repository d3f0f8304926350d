// Package gctuner keeps the garbage collector from running too often while
// the live heap is small. A proxy's live heap is a few MiB, so with the
// default GOGC=100 it collects many times a second under load, and each
// cycle's marking shows up in tail latency. Like a heap ballast, the tuner
// raises GOGC after every cycle so that the next goal is at least MinGoal,
// within [100, MaxPercent]; once the live heap is large (many connections,
// a big routing table) GOGC is back at 100 and memory is not traded away.
package gctuner

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Config bounds the tuner.
type Config struct {
	MinGoal    uint64 // heap goal to keep at least, in bytes
	MaxPercent int    // highest GOGC it sets
}

// Start runs the tuner for the life of the process, unless the operator
// chose GOGC or GOMEMLIMIT themselves (theirs wins).
func Start(cfg Config) bool {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || cfg.MinGoal == 0 {
		return false
	}
	t := &tuner{cfg: cfg, last: 100, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.arm()
	return true
}

type tuner struct {
	cfg    Config
	last   int
	sample []metrics.Sample
}

// sentinel becomes garbage at once; its finalizer runs after the next
// cycle, and re-arms a new one.
type sentinel struct{ _ int64 }

func (t *tuner) arm() {
	s := new(sentinel)
	runtime.SetFinalizer(s, func(*sentinel) { t.tune(); t.arm() })
}

func (t *tuner) tune() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := Percent(t.sample[0].Value.Uint64(), t.cfg); p != t.last {
		t.last = p
		debug.SetGCPercent(p)
	}
}

// Percent is the GOGC that puts the next heap goal at MinGoal for this
// live heap, within [100, MaxPercent].
func Percent(live uint64, cfg Config) int {
	if live == 0 {
		return max(100, cfg.MaxPercent)
	}
	p := int(cfg.MinGoal*100/live) - 100
	return min(max(p, 100), max(100, cfg.MaxPercent))
}
