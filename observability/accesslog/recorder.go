package accesslog

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseRecorder records the status and body size sent downstream. It
// lives inside the pooled LogData. Flush, Hijack and ReadFrom reach the
// underlying writer through http.ResponseController's Unwrap chain, so
// deadlines and full duplex work too.
type responseRecorder struct {
	rw          http.ResponseWriter
	status      int
	size        int64
	wroteHeader bool
	hijacked    bool
}

var (
	_ http.Flusher  = (*responseRecorder)(nil)
	_ http.Hijacker = (*responseRecorder)(nil)
	_ io.ReaderFrom = (*responseRecorder)(nil)
)

func (w *responseRecorder) Header() http.Header { return w.rw.Header() }

func (w *responseRecorder) WriteHeader(code int) {
	if !w.wroteHeader {
		// 1xx other than 101 are interim: the final status comes later.
		if code >= 200 || code == http.StatusSwitchingProtocols {
			w.status = code
			w.wroteHeader = true
		}
	}
	w.rw.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	n, err := w.rw.Write(b)
	w.size += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile/splice path for io.Copy.
func (w *responseRecorder) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	var (
		n   int64
		err error
	)
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, src)
	}
	w.size += n
	return n, err
}

// writerOnly hides ReadFrom so io.Copy does not loop back into it.
type writerOnly struct{ io.Writer }

func (w *responseRecorder) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls first.
func (w *responseRecorder) FlushError() error {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
		return nil
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack takes over the connection (protocol upgrades). Without an
// explicit status the request is logged as 101 Switching Protocols.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	var (
		c   net.Conn
		brw *bufio.ReadWriter
		err error
	)
	if hj, ok := w.rw.(http.Hijacker); ok {
		c, brw, err = hj.Hijack()
	} else {
		c, brw, err = http.NewResponseController(w.rw).Hijack()
	}
	if err == nil {
		w.hijacked = true
		if !w.wroteHeader {
			w.status = http.StatusSwitchingProtocols
			w.wroteHeader = true
		}
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.rw }
