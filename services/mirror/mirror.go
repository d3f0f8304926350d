// Package mirror sends copies of requests to mirror services while the main
// service answers the client. Mirrors run after the main response, on their
// own goroutines with a bounded budget: a slow or dead mirror never delays the
// client, it only loses copies.
package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Mirror is one mirror service and the share of requests it receives.
type Mirror struct {
	Name    string
	Handler http.Handler
	Percent int // 0..100

	count atomic.Uint64
}

// Options tune a mirroring service.
type Options struct {
	// MirrorBody sends the request body to mirrors; off, they get none.
	MirrorBody bool
	// MaxBodySize bounds the body copied for mirrors; a larger request is
	// served but not mirrored. Negative means no limit.
	MaxBodySize int64
	// MaxInFlight bounds concurrent mirror requests; beyond it copies are
	// dropped. Zero means 1024.
	MaxInFlight int
	// Timeout bounds one mirror request. Zero means 30s.
	Timeout time.Duration
}

// Mirroring is the handler of a mirroring service.
type Mirroring struct {
	main    http.Handler
	mirrors []*Mirror
	opts    Options
	slots   chan struct{}
	dropped atomic.Uint64
}

// New builds a mirroring handler.
func New(main http.Handler, mirrors []Mirror, opts Options) (*Mirroring, error) {
	if main == nil {
		return nil, errors.New("mirroring: nil main handler")
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	m := &Mirroring{main: main, opts: opts, slots: make(chan struct{}, opts.MaxInFlight)}
	for i := range mirrors {
		mi := &mirrors[i]
		if mi.Percent < 0 || mi.Percent > 100 {
			return nil, fmt.Errorf("mirroring: mirror %q: percent %d must be between 0 and 100", mi.Name, mi.Percent)
		}
		if mi.Handler == nil {
			return nil, fmt.Errorf("mirroring: mirror %q: nil handler", mi.Name)
		}
		m.mirrors = append(m.mirrors, &Mirror{Name: mi.Name, Handler: mi.Handler, Percent: mi.Percent})
	}
	return m, nil
}

// Dropped is the number of mirror copies dropped for lack of budget.
func (m *Mirroring) Dropped() uint64 { return m.dropped.Load() }

// hit says whether the n-th request goes to a mirror of percent p: exactly
// p of every 100 consecutive requests, spread evenly.
func hit(n uint64, p int) bool {
	return n*uint64(p)/100 != (n-1)*uint64(p)/100
}

// ServeHTTP serves r with the main handler and hands copies to the mirrors
// whose share includes this request.
func (m *Mirroring) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var fire uint64 // bit i: mirror i gets this request (at most 64 mirrors mirrored)
	for i, mi := range m.mirrors {
		if i < 64 && mi.Percent > 0 && hit(mi.count.Add(1), mi.Percent) {
			fire |= 1 << i
		}
	}
	if fire == 0 || isUpgrade(r) {
		m.main.ServeHTTP(w, r)
		return
	}

	var body []byte
	if m.opts.MirrorBody && r.Body != nil && r.Body != http.NoBody {
		buf, complete, err := readUpTo(r.Body, m.opts.MaxBodySize)
		switch {
		case err != nil:
			// The main service sees the same failure reading the body.
			r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}), r.Body}
			fire = 0
		case !complete:
			r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
			fire = 0
		default:
			r.Body = io.NopCloser(bytes.NewReader(buf))
			body = buf
		}
	}
	var copies []*http.Request
	if fire != 0 {
		// Clone before the main handler runs: middlewares and the proxy may
		// change the request.
		for i := range m.mirrors {
			if fire&(1<<i) == 0 {
				continue
			}
			// A fresh context: the copy outlives the client request, and
			// must not write into its per-request values (access log).
			c := r.Clone(context.Background())
			c.Body, c.ContentLength = http.NoBody, 0
			if body != nil {
				c.Body, c.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			} else if r.ContentLength != 0 {
				c.Header.Del("Content-Length")
				c.TransferEncoding = nil
			}
			copies = append(copies, c)
		}
	}
	m.main.ServeHTTP(w, r)

	j := 0
	for i, mi := range m.mirrors {
		if fire&(1<<i) == 0 {
			continue
		}
		c := copies[j]
		j++
		select {
		case m.slots <- struct{}{}:
		default:
			m.dropped.Add(1)
			continue
		}
		go m.send(mi, c)
	}
}

func (m *Mirroring) send(mi *Mirror, r *http.Request) {
	defer func() {
		<-m.slots
		if p := recover(); p != nil {
			// http.ErrAbortHandler is the documented way to abort quietly.
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				return
			}
			slog.Warn("mirror request panicked", "mirror", mi.Name, "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(r.Context(), m.opts.Timeout)
	defer cancel()
	mi.Handler.ServeHTTP(&discard{h: http.Header{}}, r.WithContext(ctx))
}

func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || r.Method == http.MethodConnect
}

// readUpTo reads the whole body when it fits in max bytes (max < 0: any
// size); complete is false when it does not, with the bytes read so far.
func readUpTo(r io.Reader, max int64) (buf []byte, complete bool, err error) {
	if max < 0 {
		buf, err = io.ReadAll(r)
		return buf, err == nil, err
	}
	buf, err = io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return buf, false, err
	}
	return buf, int64(len(buf)) <= max, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// discard is the response writer of a mirror request: everything is dropped.
type discard struct {
	h http.Header
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
