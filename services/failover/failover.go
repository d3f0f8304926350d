// Package failover sends traffic to a main service while it has a healthy
// server, and to a fallback service otherwise.
package failover

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/switchyard-proxy/switchyard/internal/replay"
	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

// Failover is the handler of a failover service.
type Failover struct {
	main, fallback http.Handler

	mainUp, fallbackUp atomic.Bool

	// errors: statuses of the main service that send the request to the
	// fallback; maxBody bounds the body kept to send it again.
	errors  statusrange.Ranges
	maxBody int64

	mu       sync.Mutex
	wasUp    bool
	updaters map[int]func(bool)
	nextID   int
}

// OnErrors makes a listed status of the main service send the request to
// the fallback too (failover.errors); the request body is kept in memory,
// at most maxBody bytes (-1: no limit; a larger body is answered 413).
func (f *Failover) OnErrors(status statusrange.Ranges, maxBody int64) {
	f.errors, f.maxBody = status, maxBody
}

// always holds back every response with a listed status.
type always struct{}

func (always) Hold(int) bool { return true }

// New returns a failover handler; both services start up.
func New(main, fallback http.Handler) *Failover {
	f := &Failover{main: main, fallback: fallback, updaters: map[int]func(bool){}, wasUp: true}
	f.mainUp.Store(true)
	f.fallbackUp.Store(true)
	return f
}

// ServeHTTP serves with main when it is up, else fallback, else 503.
func (f *Failover) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case f.mainUp.Load() && len(f.errors) > 0:
		f.tryMain(w, r)
	case f.mainUp.Load():
		f.main.ServeHTTP(w, r)
	case f.fallbackUp.Load():
		f.fallback.ServeHTTP(w, r)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable"))
	}
}

// tryMain sends r to the main service and, when it answers a listed
// status, to the fallback (with the same body) instead.
func (f *Failover) tryMain(w http.ResponseWriter, r *http.Request) {
	body, err := replay.ReadBody(r, f.maxBody)
	switch {
	case errors.Is(err, replay.ErrTooLarge):
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	var tw replay.Writer
	tw.Init(w, f.errors, always{})
	f.main.ServeHTTP(&tw, r)
	if !tw.Held() {
		return
	}
	replay.Rewind(r, body)
	f.fallback.ServeHTTP(w, r)
}

// SetMainStatus records the main service's health.
func (f *Failover) SetMainStatus(up bool) { f.mainUp.Store(up); f.notify() }

// SetFallbackStatus records the fallback service's health.
func (f *Failover) SetFallbackStatus(up bool) { f.fallbackUp.Store(up); f.notify() }

// MainUp reports whether traffic goes to the main service.
func (f *Failover) MainUp() bool { return f.mainUp.Load() }

// Up reports whether main or fallback is up.
func (f *Failover) Up() bool { return f.mainUp.Load() || f.fallbackUp.Load() }

func (f *Failover) notify() {
	f.mu.Lock()
	defer f.mu.Unlock()
	up := f.Up()
	if up == f.wasUp {
		return
	}
	f.wasUp = up
	for _, fn := range f.updaters {
		fn(up)
	}
}

// RegisterStatusUpdater registers fn to be told when the failover as a whole
// (main or fallback up) changes; the returned function unregisters it.
func (f *Failover) RegisterStatusUpdater(fn func(up bool)) (func(), error) {
	f.mu.Lock()
	id := f.nextID
	f.nextID++
	f.updaters[id] = fn
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.updaters, id)
		f.mu.Unlock()
	}, nil
}
