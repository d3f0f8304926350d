package proxy

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// watchAfter is how long an exchange waits on its backend before it asks
// to be told of its client's departure. Most exchanges end sooner and
// never pay for a watch; a streaming response or a long poll then waits
// with no deadline at all (bar the configured bounds) and no wake-up: the
// cancellation interrupts the blocked read.
const watchAfter = 200 * time.Millisecond

// aLongTimeAgo is a deadline that has passed: it wakes a blocked read or wait.
var aLongTimeAgo = time.Unix(1, 0)

// afterFuncer is a context that runs a function on cancellation without a
// goroutine waiting on Done (the HTTP/1 engine's request context: its
// poller watches the client's socket).
type afterFuncer interface {
	AfterFunc(func()) func() bool
}

// cancelWatch interrupts the backend connection's blocked read (or wait)
// when the request's context ends.
type cancelWatch struct {
	nc    net.Conn
	fired atomic.Bool
	stop  func() bool
}

func (w *cancelWatch) fire() {
	w.fired.Store(true)
	_ = w.nc.SetReadDeadline(aLongTimeAgo)
}

// armWatch asks ctx to interrupt nc's reads when it ends.
func armWatch(ctx context.Context, nc net.Conn) *cancelWatch {
	w := &cancelWatch{nc: nc}
	if a, ok := ctx.(afterFuncer); ok {
		w.stop = a.AfterFunc(w.fire)
	} else {
		w.stop = context.AfterFunc(ctx, w.fire)
	}
	return w
}
