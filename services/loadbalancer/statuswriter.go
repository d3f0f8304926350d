package loadbalancer

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// statusWriter records the status a server answered, for passive health.
// Flush, Hijack and Unwrap pass through so streaming and upgrades still work.
type statusWriter struct {
	rw   http.ResponseWriter
	code int
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

func getStatusWriter(rw http.ResponseWriter) *statusWriter {
	w := statusWriters.Get().(*statusWriter)
	w.rw, w.code = rw, 0
	return w
}

func putStatusWriter(w *statusWriter) {
	w.rw = nil
	statusWriters.Put(w)
}

func (w *statusWriter) Header() http.Header { return w.rw.Header() }

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.rw.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.rw.Write(p)
}

func (w *statusWriter) FlushError() error { return http.NewResponseController(w.rw).Flush() }

func (w *statusWriter) Flush() { _ = w.FlushError() }

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.rw).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.rw }
