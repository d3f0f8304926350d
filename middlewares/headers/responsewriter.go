package headers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// writer applies the response header changes right before the status line
// goes out (WriteHeader, first Write, Flush or ReadFrom), so they also apply
// to streamed responses. Flush, Hijack and ReadFrom are passed through, and
// Unwrap lets http.ResponseController reach the rest (deadlines, ...).
type writer struct {
	rw      http.ResponseWriter
	h       *handler
	origin  string
	secure  bool
	tls     bool
	applied bool // headers modified (or connection hijacked)
}

var writerPool = sync.Pool{New: func() any { return new(writer) }}

func newWriter(rw http.ResponseWriter, h *handler, req *http.Request, secure, tls bool) *writer {
	w := writerPool.Get().(*writer)
	*w = writer{rw: rw, h: h, secure: secure, tls: tls}
	if h.cors {
		w.origin = req.Header.Get("Origin")
	}
	return w
}

// release returns w to the pool; the handler chain is done with it.
func (w *writer) release() {
	*w = writer{}
	writerPool.Put(w)
}

func (w *writer) apply() {
	if !w.applied {
		w.applied = true
		w.h.modifyResponse(w.rw.Header(), w.origin, w.secure, w.tls)
	}
}

// finish applies the changes when the handler returned without writing:
// the server then sends an implicit 200 with the header map as it is.
func (w *writer) finish() { w.apply() }

func (w *writer) Header() http.Header { return w.rw.Header() }

// WriteHeader passes informational (1xx) statuses through untouched: more
// headers may follow them.
func (w *writer) WriteHeader(code int) {
	if code >= 100 && code <= 199 {
		w.rw.WriteHeader(code)
		return
	}
	w.apply()
	w.rw.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	w.apply()
	return w.rw.Write(b)
}

func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	w.apply()
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.rw, r)
}

func (w *writer) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (w *writer) FlushError() error {
	w.apply()
	return http.NewResponseController(w.rw).Flush()
}

func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.applied = true // the header map no longer matters
	}
	return c, brw, err
}

func (w *writer) Unwrap() http.ResponseWriter { return w.rw }
