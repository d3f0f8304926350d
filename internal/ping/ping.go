// Package ping is the /ping health endpoint: 200 "OK" while the process
// serves, and a configurable status (503 by default) once graceful shutdown
// has begun, so that load balancers stop sending new traffic first.
package ping

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// DefaultTerminatingStatus is answered during shutdown when none is set.
const DefaultTerminatingStatus = http.StatusServiceUnavailable

// Handler answers health checks. The router mounts it on /ping; it answers
// any path it is given.
type Handler struct {
	terminatingStatus int
	terminating       atomic.Bool
}

// New returns a handler answering terminatingStatus after SetTerminating.
// A status outside 100-599 (0 included) means DefaultTerminatingStatus.
func New(terminatingStatus int) *Handler {
	if terminatingStatus < 100 || terminatingStatus > 599 {
		terminatingStatus = DefaultTerminatingStatus
	}
	return &Handler{terminatingStatus: terminatingStatus}
}

// SetTerminating switches the handler to the terminating status for good.
// It is safe to call concurrently with requests, and more than once.
func (h *Handler) SetTerminating() { h.terminating.Store(true) }

// Terminating reports whether SetTerminating was called.
func (h *Handler) Terminating() bool { return h.terminating.Load() }

// ServeHTTP answers GET and HEAD with the status and its text ("OK",
// "Service Unavailable"), anything else with 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	code := http.StatusOK
	if h.terminating.Load() {
		code = h.terminatingStatus
	}
	body := http.StatusText(code)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte(body))
	}
}
