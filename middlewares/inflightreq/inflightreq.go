// Package inflightreq limits the simultaneous requests of each source.
// Own code rather than oxy's connlimit: the counters must outlive a reload
// while the handler they wrap changes, and oxy binds them to one handler.
package inflightreq

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
)

// Limiter counts in-flight requests per source; kept across reloads while
// its config is unchanged.
type Limiter struct {
	max    int64
	status int
	source *ipmatch.Source
	mu     sync.Mutex
	count  map[string]int64
}

// New validates cfg (amount > 0).
func New(cfg *dynamic.InFlightReq) (*Limiter, error) {
	if cfg == nil || cfg.Amount <= 0 {
		return nil, errors.New("amount must be greater than 0")
	}
	src, err := ipmatch.NewSource(cfg.SourceCriterion)
	if err != nil {
		return nil, err
	}
	status := http.StatusTooManyRequests
	if cfg.StatusCode != 0 {
		if cfg.StatusCode < 400 || cfg.StatusCode > 599 {
			return nil, fmt.Errorf("statusCode %d: must be 4xx or 5xx", cfg.StatusCode)
		}
		status = cfg.StatusCode
	}
	return &Limiter{max: cfg.Amount, status: status, source: src, count: map[string]int64{}}, nil
}

func (l *Limiter) acquire(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count[key] >= l.max {
		return false
	}
	l.count[key]++
	return true
}

func (l *Limiter) release(key string) {
	l.mu.Lock()
	if l.count[key]--; l.count[key] <= 0 {
		delete(l.count, key)
	}
	l.mu.Unlock()
}

// InFlight reports the requests in flight for key.
func (l *Limiter) InFlight(key string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[key]
}

// Wrap returns the limiting handler: over the limit it answers 429 (or
// the configured statusCode).
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := l.source.Key(r)
		if err != nil {
			slog.Debug("inFlightReq: cannot extract source", "error", err)
			http.Error(w, "could not extract source of request", http.StatusInternalServerError)
			return
		}
		if !l.acquire(key) {
			http.Error(w, http.StatusText(l.status), l.status)
			return
		}
		defer l.release(key)
		next.ServeHTTP(w, r)
	})
}
