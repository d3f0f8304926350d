// Package retry runs a request again, up to attempts times, when the proxy
// failed to reach a server (a network error) before anything was sent to
// the client and before the request body was read. The proxy cooperates
// through internal/retryhook: on such a failure it writes nothing.
package retry

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/retryhook"
)

type retry struct {
	next     http.Handler
	attempts int
	initial  time.Duration
}

// Setup validates cfg (attempts > 0, initialInterval >= 0).
func Setup(cfg *dynamic.Retry) (func(http.Handler) http.Handler, error) {
	if cfg == nil || cfg.Attempts <= 0 {
		return nil, errors.New("attempts must be greater than 0")
	}
	if cfg.InitialInterval < 0 {
		return nil, fmt.Errorf("initialInterval must not be negative, got %s", time.Duration(cfg.InitialInterval))
	}
	return func(next http.Handler) http.Handler {
		return &retry{next: next, attempts: cfg.Attempts, initial: time.Duration(cfg.InitialInterval)}
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

func (rt *retry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.attempts <= 1 {
		rt.next.ServeHTTP(w, r)
		return
	}
	var body *trackBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &trackBody{ReadCloser: r.Body}
		r.Body = body
	}
	tw := &trackWriter{ResponseWriter: w}
	n := 1
	a := &retryhook.Attempt{Retryable: func() bool {
		return n < rt.attempts && !tw.written && (body == nil || !body.read)
	}}
	r = retryhook.With(r, a)
	for ; ; n++ {
		rt.next.ServeHTTP(tw, r)
		if !a.TakeFailed() {
			return
		}
		if d := Backoff(rt.initial, n); d > 0 {
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

type trackBody struct {
	io.ReadCloser
	read bool
}

func (b *trackBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.read = true
	}
	return n, err
}

// trackWriter notes whether anything went to the client.
type trackWriter struct {
	http.ResponseWriter
	written bool
}

func (t *trackWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.written = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackWriter) Write(b []byte) (int, error) {
	t.written = true
	return t.ResponseWriter.Write(b)
}

func (t *trackWriter) Flush() {
	t.written = true
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

func (t *trackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.written = true
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

func (t *trackWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
