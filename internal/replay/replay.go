// Package replay lets a handler send one request more than once: the retry
// middleware and the failover service keep the request body in memory to
// send it again, and hold back a response whose status calls for another
// attempt so that nothing of it reaches the client.
package replay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

// ErrTooLarge is returned by ReadBody for a body over the limit.
var ErrTooLarge = errors.New("request body too large")

// ReadBody reads r's whole body (at most limit bytes; limit < 0: no bound)
// and makes r send it again on each Rewind. A request without a body is
// left alone (nil, nil).
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if limit >= 0 && r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	var src io.Reader = r.Body
	if limit >= 0 {
		src = io.LimitReader(r.Body, limit+1)
	}
	var b bytes.Buffer
	if r.ContentLength > 0 {
		b.Grow(int(r.ContentLength))
	}
	if _, err := b.ReadFrom(src); err != nil {
		return nil, err
	}
	if limit >= 0 && int64(b.Len()) > limit {
		return nil, ErrTooLarge
	}
	buf := b.Bytes()
	// The body is now of known length: forward it with Content-Length.
	r.ContentLength = int64(len(buf))
	r.TransferEncoding = nil
	Rewind(r, buf)
	return buf, nil
}

// Rewind sets r's body to buf again (nothing when buf is nil).
func Rewind(r *http.Request, buf []byte) {
	if buf == nil {
		return
	}
	if len(buf) == 0 {
		r.Body = http.NoBody
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
}

// Holder decides whether a response with a status in the writer's ranges
// is dropped (another attempt will follow).
type Holder interface {
	Hold(code int) bool
}

// Writer passes a response through unless its status is in Ranges and
// Hold agrees: then the status, headers and body are dropped (the headers
// of the ResponseWriter are put back as they were) and Held reports it.
type Writer struct {
	http.ResponseWriter
	Ranges statusrange.Ranges
	Hold   Holder

	saved   http.Header // the headers before the attempt (nil: no Ranges)
	held    bool
	written bool
}

// Init sets the writer up on w (a Writer is often a field of a larger
// per-request state: no allocation of its own); with ranges, w's headers
// are saved to be put back when a response is held.
func (t *Writer) Init(w http.ResponseWriter, ranges statusrange.Ranges, hold Holder) {
	*t = Writer{ResponseWriter: w, Ranges: ranges, Hold: hold}
	if len(ranges) > 0 {
		t.saved = w.Header().Clone()
	}
}

// Reset prepares the writer for another attempt.
func (t *Writer) Reset() { t.held = false }

// Held reports whether the last attempt's response was dropped.
func (t *Writer) Held() bool { return t.held }

// Written reports whether anything went to the client.
func (t *Writer) Written() bool { return t.written }

// WriteHeader implements http.ResponseWriter.
func (t *Writer) WriteHeader(code int) {
	if t.held || t.written {
		if t.written {
			t.ResponseWriter.WriteHeader(code)
		}
		return
	}
	if code >= 200 && len(t.Ranges) > 0 && t.Ranges.Contains(code) && t.Hold != nil && t.Hold.Hold(code) {
		t.held = true
		h := t.Header()
		clear(h)
		for k, v := range t.saved {
			h[k] = v
		}
		return
	}
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.written = true
	}
	t.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (t *Writer) Write(b []byte) (int, error) {
	if !t.written && !t.held {
		t.WriteHeader(http.StatusOK)
	}
	if t.held {
		return len(b), nil
	}
	return t.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (t *Writer) Flush() {
	if t.held {
		return
	}
	if !t.written {
		t.WriteHeader(http.StatusOK)
		if t.held {
			return
		}
	}
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker.
func (t *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.written = true
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the real writer.
func (t *Writer) Unwrap() http.ResponseWriter { return t.ResponseWriter }
