// Package ratelimit limits requests per source with a token bucket: average
// requests per period, bursts of up to burst. Buckets live in memory, or in
// Redis (option redis) to share one limit among several instances.
package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
)

// Limiter holds the buckets of one rateLimit middleware. It is safe for
// concurrent use and kept across reloads while its config is unchanged.
type Limiter struct {
	source      *ipmatch.Source
	rate        float64       // tokens per second; 0: unlimited
	burst       float64       // bucket size
	maxDelay    time.Duration // a request needing to wait longer is refused
	store       store
	passOnError bool // redis.denyOnError: false
	status      int  // answer over the limit (429 by default)
}

// store takes one token for key, telling how long to wait when none is left.
type store interface {
	// take takes a token for key when one is there or will be within
	// maxDelay (ok; wait is then how long to wait); otherwise it takes
	// nothing and wait tells when one will be there.
	take(key string, now time.Time, maxDelay time.Duration) (wait time.Duration, ok bool, err error)
	Close() error
}

// New validates cfg and returns its limiter (nothing started for memory;
// Redis connections are opened on first use).
func New(name string, cfg *dynamic.RateLimit) (*Limiter, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	if cfg.Average < 0 {
		return nil, fmt.Errorf("average must not be negative, got %d", cfg.Average)
	}
	if cfg.Burst < 0 {
		return nil, fmt.Errorf("burst must not be negative, got %d", cfg.Burst)
	}
	period := time.Duration(cfg.Period)
	if period < 0 {
		return nil, fmt.Errorf("period must not be negative, got %s", period)
	}
	if period == 0 {
		period = time.Second
	}
	src, err := ipmatch.NewSource(cfg.SourceCriterion)
	if err != nil {
		return nil, err
	}
	burst := cfg.Burst
	if burst == 0 {
		burst = 1
	}
	l := &Limiter{source: src, burst: float64(burst), status: http.StatusTooManyRequests}
	if cfg.StatusCode != 0 {
		if cfg.StatusCode < 400 || cfg.StatusCode > 599 {
			return nil, fmt.Errorf("statusCode %d: must be 4xx or 5xx", cfg.StatusCode)
		}
		l.status = cfg.StatusCode
	}
	if cfg.Average > 0 {
		l.rate = float64(cfg.Average) / period.Seconds()
		// Wait at most half a token interval, as Traefik does, capped at 500ms.
		l.maxDelay = min(500*time.Millisecond, time.Duration(float64(time.Second)/(2*l.rate)))
	}
	if cfg.Redis != nil {
		rs, err := newRedisStore(name, cfg.Redis, l.rate, l.burst)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		l.store = rs
		l.passOnError = cfg.Redis.DenyOnError != nil && !*cfg.Redis.DenyOnError
	} else {
		l.store = newMemStore(l.rate, l.burst)
	}
	return l, nil
}

// Close releases the Redis connections, if any.
func (l *Limiter) Close() error { return l.store.Close() }

// Wrap returns the limiting handler.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	if l.rate == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := l.source.Key(r)
		if err != nil {
			slog.Debug("rateLimit: cannot extract source", "error", err)
			http.Error(w, "could not extract source of request", http.StatusInternalServerError)
			return
		}
		wait, ok, err := l.store.take(key, time.Now(), l.maxDelay)
		if err != nil {
			slog.Error("rateLimit: store failure", "error", err, "denyOnError", !l.passOnError)
			if l.passOnError {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "rate limiter unavailable", http.StatusInternalServerError)
			return
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			w.Header().Set("X-Retry-In", wait.String())
			http.Error(w, http.StatusText(l.status), l.status)
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// memStore keeps buckets in a sharded map. A bucket refilled to the full
// burst is the same as no bucket, so sweeps drop those: memory follows the
// number of recently active sources.
type memStore struct {
	rate, burst float64
	shards      [16]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newMemStore(rate, burst float64) *memStore {
	s := &memStore{rate: rate, burst: burst}
	for i := range s.shards {
		s.shards[i].buckets = map[string]*bucket{}
		s.shards[i].sweepAt = 1024
	}
	return s
}

func (s *memStore) Close() error { return nil }

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// take may leave the bucket negative: a waiting request holds its token
// so later ones queue behind it.
func (s *memStore) take(key string, now time.Time, maxDelay time.Duration) (time.Duration, bool, error) {
	sh := &s.shards[fnv(key)%uint32(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		if len(sh.buckets) >= sh.sweepAt {
			s.sweep(sh, now)
		}
		b = &bucket{tokens: s.burst, last: now}
		sh.buckets[key] = b
	}
	s.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true, nil
	}
	wait := max(time.Duration((1-b.tokens)/s.rate*float64(time.Second)), 1)
	if wait > maxDelay {
		return wait, false, nil
	}
	b.tokens--
	return wait, true, nil
}

func (s *memStore) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(s.burst, b.tokens+d.Seconds()*s.rate)
		b.last = now
	}
}

func (s *memStore) sweep(sh *shard, now time.Time) {
	for k, b := range sh.buckets {
		s.refill(b, now)
		if b.tokens >= s.burst {
			delete(sh.buckets, k)
		}
	}
	sh.sweepAt = max(sh.sweepAt, 2*len(sh.buckets))
}
