// Package ipallowlist accepts requests only from listed source ranges.
package ipallowlist

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
)

// Filter is an allow or deny list over the client IP chosen by an ipStrategy.
type Filter struct {
	ranges   *ipmatch.Ranges
	strategy *ipmatch.Strategy
	reject   int
	deny     bool // true: reject the listed ranges instead of the others
}

// NewFilter validates the options shared by ipAllowList and ipDenyList.
func NewFilter(cfg *dynamic.IPAllowList, deny bool) (*Filter, error) {
	if cfg == nil || len(cfg.SourceRange) == 0 {
		return nil, errors.New("sourceRange is empty, IPs are not filtered")
	}
	r, err := ipmatch.NewRanges(cfg.SourceRange)
	if err != nil {
		return nil, fmt.Errorf("sourceRange: %w", err)
	}
	if r.Len() == 0 {
		return nil, errors.New("sourceRange is empty, IPs are not filtered")
	}
	st, err := ipmatch.NewStrategy(cfg.IPStrategy)
	if err != nil {
		return nil, err
	}
	code := cfg.RejectStatusCode
	if code == 0 {
		code = http.StatusForbidden
	}
	if code < 100 || code > 599 {
		return nil, fmt.Errorf("rejectStatusCode %d is not a valid HTTP status", code)
	}
	return &Filter{ranges: r, strategy: st, reject: code, deny: deny}, nil
}

// Allowed reports whether the request may pass.
func (f *Filter) Allowed(r *http.Request) bool {
	a, ok := f.strategy.ClientAddr(r)
	if !ok {
		// An unknown client IP cannot be checked: refused by both lists.
		return false
	}
	return f.ranges.Contains(a) != f.deny
}

// Wrap returns the filtering handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.Allowed(r) {
			slog.Debug("request rejected by IP filter", "remote", r.RemoteAddr, "deny", f.deny)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(f.reject)
			_, _ = w.Write([]byte(http.StatusText(f.reject)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Setup validates cfg and returns the allow-list wrapper.
func Setup(cfg *dynamic.IPAllowList) (func(http.Handler) http.Handler, error) {
	f, err := NewFilter(cfg, false)
	if err != nil {
		return nil, err
	}
	return f.Wrap, nil
}
