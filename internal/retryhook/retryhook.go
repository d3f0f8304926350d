// Package retryhook lets the retry middleware and the proxy agree, through
// the request context, on whether a failed forward will be retried: then
// the proxy writes nothing and the middleware runs the service again.
package retryhook

import (
	"context"
	"net/http"
)

type key struct{}

// Retrier decides whether a failed attempt is followed by another.
type Retrier interface {
	// Retryable reports whether another attempt may follow this one.
	Retryable() bool
}

// Attempt is the state of one retried request, shared by its attempts.
type Attempt struct {
	Retrier Retrier
	failed  bool
}

// With returns r carrying a.
func With(r *http.Request, a *Attempt) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), key{}, a))
}

// Failed is called by a proxy before it answers a network error when no
// byte of the response went out. It returns true when the attempt will be
// retried: the caller must then write nothing.
func Failed(r *http.Request) bool {
	a, _ := r.Context().Value(key{}).(*Attempt)
	if a == nil || a.Retrier == nil || !a.Retrier.Retryable() {
		return false
	}
	a.failed = true
	return true
}

// Fail records that the attempt failed and will be retried (a retried
// status: the retry middleware held the response back itself).
func (a *Attempt) Fail() { a.failed = true }

// TakeFailed reports (and clears) whether the last attempt failed that way.
func (a *Attempt) TakeFailed() bool {
	f := a.failed
	a.failed = false
	return f
}

// Pending reports, without clearing it, whether the attempt that just
// returned on r failed and will be retried (metrics count it as a retry).
func Pending(r *http.Request) bool {
	a, _ := r.Context().Value(key{}).(*Attempt)
	return a != nil && a.failed
}
