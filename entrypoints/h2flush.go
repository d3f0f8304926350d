package entrypoints

import (
	"net/http"
	"time"
)

// h2FlushDeadline makes respondingTimeouts.writeTimeout bound each flush
// of an HTTP/2 response instead of the whole response, as the HTTP/1
// engine does: a stream that flows (SSE, long poll) is never cut, one the
// client stops reading still is. x/net arms the stream's deadline at its
// start; every flush moves it. Only entrypoints with a writeTimeout pay
// for the wrapper (one small allocation a request).
type h2FlushDeadline struct {
	next http.Handler
	d    time.Duration
}

func (h h2FlushDeadline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.next.ServeHTTP(&flushDeadlineWriter{ResponseWriter: w, d: h.d}, r)
}

type flushDeadlineWriter struct {
	http.ResponseWriter
	d time.Duration
}

type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

type errFlusher interface{ FlushError() error }

func (w *flushDeadlineWriter) Flush() { _ = w.FlushError() }

func (w *flushDeadlineWriter) FlushError() error {
	if wd, ok := w.ResponseWriter.(writeDeadliner); ok {
		_ = wd.SetWriteDeadline(time.Now().Add(w.d))
	}
	switch f := w.ResponseWriter.(type) {
	case errFlusher:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
	}
	return nil
}

// Unwrap lets http.ResponseController reach x/net's writer (deadlines,
// full duplex).
func (w *flushDeadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
