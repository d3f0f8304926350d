package proxy

import (
	"context"
	"errors"
	"os"
	"time"
)

// writePoll bounds a blocked write to a backend (one that does not read the
// request body) so that the client's context is checked; an idle exchange
// never blocks in a write.
const writePoll = time.Second

var errWriteTimeout = &timeoutError{"timeout writing request to backend: no progress"}

// connWriter is what a connection's buffered writer writes to. Every socket
// write has a deadline: at most writePoll, at which the client's context
// is checked (a client that went away ends the exchange), and a write that
// has made no progress for the transport's write timeout fails. No goroutine,
// no timer of its own: the runtime poller's deadline does it.
type connWriter struct {
	c       *conn
	ctx     context.Context // of the request being written; nil: no cancellation
	timeout time.Duration   // no-progress bound; <= 0: none
	writes  int             // socket writes in this exchange
	armed   time.Time       // the write deadline set on the socket
}

// begin prepares the writer for one exchange.
func (w *connWriter) begin(ctx context.Context, timeout time.Duration) {
	w.ctx, w.timeout, w.writes = ctx, timeout, 0
}

func (w *connWriter) Write(p []byte) (int, error) {
	nc := w.c.nc
	w.writes++
	now := time.Now()
	stalled := now // since when the write made no progress
	total := 0
	for {
		// A deadline still at least half a poll away is kept: a blocked
		// write is noticed within writePoll either way, and most
		// exchanges then set no deadline at all.
		if w.armed.Sub(now) < writePoll/2 {
			w.armed = now.Add(writePoll)
			_ = nc.SetWriteDeadline(w.armed)
		}
		n, err := nc.Write(p[total:])
		total += n
		if err == nil {
			return total, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return total, err
		}
		now = time.Now()
		if n > 0 {
			stalled = now
		}
		if w.ctx != nil {
			if cerr := w.ctx.Err(); cerr != nil {
				return total, cerr
			}
		}
		if w.timeout > 0 && now.Sub(stalled) >= w.timeout {
			return total, errWriteTimeout
		}
	}
}
