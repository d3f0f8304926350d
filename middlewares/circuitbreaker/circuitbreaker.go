// Package circuitbreaker stops sending requests to a failing service for a
// while: oxy's circuit breaker (its expression language and its tripped /
// recovering / standby states) shared by every router using the middleware
// and kept across reloads while the options are unchanged.
package circuitbreaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vulcand/oxy/v2/cbreaker"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Defaults, as in Traefik.
const (
	DefaultCheckPeriod      = 100 * time.Millisecond
	DefaultFallbackDuration = 10 * time.Second
	DefaultRecoveryDuration = 10 * time.Second
)

type nextKey struct{}

// Breaker holds the state of one circuitBreaker middleware.
type Breaker struct {
	cb *cbreaker.CircuitBreaker
}

// New validates cfg: the expression must parse (NetworkErrorRatio(),
// ResponseCodeRatio(a, b, c, d), LatencyAtQuantileMS(q), compared and
// combined with && and ||).
func New(cfg *dynamic.CircuitBreaker) (*Breaker, error) {
	if cfg == nil || strings.TrimSpace(cfg.Expression) == "" {
		return nil, errors.New("expression is required")
	}
	dur := func(d time.Duration, def time.Duration, name string) (time.Duration, error) {
		if d < 0 {
			return 0, fmt.Errorf("%s must not be negative", name)
		}
		if d == 0 {
			return def, nil
		}
		return d, nil
	}
	check, err := dur(time.Duration(cfg.CheckPeriod), DefaultCheckPeriod, "checkPeriod")
	if err != nil {
		return nil, err
	}
	fallback, err := dur(time.Duration(cfg.FallbackDuration), DefaultFallbackDuration, "fallbackDuration")
	if err != nil {
		return nil, err
	}
	recovery, err := dur(time.Duration(cfg.RecoveryDuration), DefaultRecoveryDuration, "recoveryDuration")
	if err != nil {
		return nil, err
	}
	code := cfg.ResponseCode
	if code == 0 {
		code = http.StatusServiceUnavailable
	}
	if code < 100 || code > 599 {
		return nil, fmt.Errorf("responseCode %d is not a valid HTTP status", code)
	}
	fb := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(http.StatusText(code)))
	})
	// oxy's breaker owns its next handler; ours changes with each router
	// and reload, so the real next travels in the request context.
	dispatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Value(nextKey{}).(http.Handler).ServeHTTP(w, r)
	})
	cb, err := cbreaker.New(dispatch, cfg.Expression,
		cbreaker.CheckPeriod(check), cbreaker.FallbackDuration(fallback),
		cbreaker.RecoveryDuration(recovery), cbreaker.Fallback(fb))
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", cfg.Expression, err)
	}
	return &Breaker{cb: cb}, nil
}

// Wrap returns the handler guarding next.
func (b *Breaker) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.cb.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nextKey{}, next)))
	})
}
