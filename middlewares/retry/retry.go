// Package retry runs a request again, up to attempts times, when the proxy
// failed to reach a server (a network error, unless
// disableRetryOnNetworkError) or the server answered a status listed in
// status, before anything was sent to the client. The request body is kept
// in memory (up to maxRequestBodyBytes) to be sent again. The proxy
// cooperates through internal/retryhook: on a retried failure it writes
// nothing; a listed status is held back by internal/replay's writer.
package retry

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/replay"
	"github.com/switchyard-proxy/switchyard/internal/retryhook"
	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

// DefaultMaxRequestBodyBytes is Traefik's default maxRequestBodyBytes.
const DefaultMaxRequestBodyBytes = 2 << 20

type retry struct {
	next          http.Handler
	attempts      int
	initial       time.Duration
	timeout       time.Duration
	maxBody       int64
	status        statusrange.Ranges
	noNetwork     bool
	nonIdempotent bool
}

// Setup validates cfg (attempts > 0, initialInterval and timeout >= 0,
// status ranges, maxRequestBodyBytes >= -1, status required with
// disableRetryOnNetworkError).
func Setup(cfg *dynamic.Retry) (func(http.Handler) http.Handler, error) {
	if cfg == nil || cfg.Attempts <= 0 {
		return nil, errors.New("attempts must be greater than 0")
	}
	if cfg.InitialInterval < 0 {
		return nil, fmt.Errorf("initialInterval must not be negative, got %s", time.Duration(cfg.InitialInterval))
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout must not be negative, got %s", time.Duration(cfg.Timeout))
	}
	status, err := statusrange.Parse(cfg.Status)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if cfg.DisableRetryOnNetworkError && len(status) == 0 {
		return nil, errors.New("disableRetryOnNetworkError needs status: nothing would be retried")
	}
	maxBody := int64(DefaultMaxRequestBodyBytes)
	if cfg.MaxRequestBodyBytes != nil && *cfg.MaxRequestBodyBytes != 0 {
		maxBody = *cfg.MaxRequestBodyBytes
		if maxBody < -1 {
			return nil, fmt.Errorf("maxRequestBodyBytes must be -1 (no limit) or positive, got %d", maxBody)
		}
	}
	base := retry{
		attempts: cfg.Attempts, initial: time.Duration(cfg.InitialInterval), timeout: time.Duration(cfg.Timeout),
		maxBody: maxBody, status: status, noNetwork: cfg.DisableRetryOnNetworkError, nonIdempotent: cfg.RetryNonIdempotentMethod,
	}
	return func(next http.Handler) http.Handler {
		rt := base
		rt.next = next
		return &rt
	}, nil
}

// Backoff is the wait before attempt n+1 (n >= 1): initialInterval, then
// growing exponentially up to twice initialInterval, as Traefik documents.
func Backoff(initial time.Duration, n int) time.Duration {
	d := initial
	for i := 1; i < n && d < 2*initial; i++ {
		d = d * 3 / 2
	}
	return min(d, 2*initial)
}

// idempotent reports whether a method may be retried without
// retryNonIdempotentMethod (Traefik refuses POST, LOCK and PATCH).
func idempotent(m string) bool {
	return m != http.MethodPost && m != http.MethodPatch && m != "LOCK"
}

func (rt *retry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.attempts <= 1 || (!rt.nonIdempotent && !idempotent(r.Method)) {
		rt.next.ServeHTTP(w, r)
		return
	}
	body, err := replay.ReadBody(r, rt.maxBody)
	switch {
	case errors.Is(err, replay.ErrTooLarge):
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	st := &state{rt: rt, n: 1}
	if rt.timeout > 0 {
		st.deadline = time.Now().Add(rt.timeout)
	}
	st.tw.Init(w, rt.status, st)
	st.a.Retrier = st
	r = retryhook.With(r, &st.a)
	for ; ; st.n++ {
		st.tw.Reset()
		rt.next.ServeHTTP(&st.tw, r)
		if !st.a.TakeFailed() {
			return
		}
		replay.Rewind(r, body)
		if d := Backoff(rt.initial, st.n); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				w.WriteHeader(http.StatusBadGateway)
				return
			}
		}
	}
}

// state is one request's retries, in one allocation.
type state struct {
	rt       *retry
	n        int // the attempt under way, from 1
	deadline time.Time
	tw       replay.Writer
	a        retryhook.Attempt
}

// another reports whether attempt n may be followed by one more.
func (s *state) another() bool {
	if s.n >= s.rt.attempts {
		return false
	}
	return s.deadline.IsZero() || time.Now().Add(Backoff(s.rt.initial, s.n)).Before(s.deadline)
}

// Hold implements replay.Holder: a listed status is held back when
// another attempt follows.
func (s *state) Hold(int) bool {
	if !s.another() {
		return false
	}
	s.a.Fail()
	return true
}

// Retryable implements retryhook.Retrier: the proxy's network failure.
func (s *state) Retryable() bool {
	return !s.rt.noNetwork && !s.tw.Written() && s.another()
}
