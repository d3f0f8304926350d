package http1

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
)

// reqContext is a request's context: canceled when the handler returns or
// the client goes away. net/http learns the latter from a background read
// started for every request; here it costs nothing unless asked: Err()
// peeks at the socket without blocking, and Done() or AfterFunc watch the
// socket only for the handlers that wait on them. The watch is the
// server's poller (EPOLLRDHUP on the client's socket, no goroutine, no
// buffer, no timer), so a streaming response that sits idle for hours
// learns of its client's departure at once and costs nothing meanwhile.
type reqContext struct {
	c  *conn
	mu sync.Mutex

	err      error
	done     chan struct{} // made by the first Done()
	fns      []*afterFn    // AfterFunc callbacks not yet run or stopped
	firing   []*afterFn    // callbacks due, run by runFired once x.mu is released
	finished bool          // the handler returned
	bodyRead bool          // the request body is consumed (or there is none)
	polled   bool          // the client's socket is in the poller's watch set
	watching bool          // a watcher goroutine owns the socket's read side
	stopped  chan struct{} // closed when the watcher exits
}

// afterFn is one AfterFunc registration.
type afterFn struct{ f func() }

func (x *reqContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value answers http.LocalAddrContextKey as net/http does; there is no
// *http.Server to give for http.ServerContextKey.
func (x *reqContext) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return x.c.nc.LocalAddr()
	}
	return nil
}

func (x *reqContext) Err() error {
	defer x.runFired()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil && !x.finished && x.c.peerGone() {
		x.cancelLocked()
	}
	return x.err
}

func (x *reqContext) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		} else {
			x.maybeWatchLocked()
		}
	}
	return x.done
}

// AfterFunc runs f on its own goroutine once the context is canceled, as
// context.AfterFunc does (which uses this method, so no goroutine waits
// on Done meanwhile). stop reports whether it kept f from running.
func (x *reqContext) AfterFunc(f func()) (stop func() bool) {
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFn{f: f}
	x.fns = append(x.fns, a)
	x.maybeWatchLocked()
	x.mu.Unlock()
	return func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		for i, b := range x.fns {
			if b == a {
				x.fns = append(x.fns[:i], x.fns[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (x *reqContext) cancelLocked() {
	if x.err != nil {
		return
	}
	x.err = context.Canceled
	if x.done != nil {
		close(x.done)
	}
	// Taken from fns now (stop then reports false, as context.AfterFunc's
	// does once canceled), run by runFired after x.mu is released: a
	// callback may call Err.
	x.firing = append(x.firing, x.fns...)
	x.fns = nil
}

// runFired runs the callbacks that cancelLocked made due; every path that
// may cancel defers it before taking x.mu.
func (x *reqContext) runFired() {
	x.mu.Lock()
	fns := x.firing
	x.firing = nil
	x.mu.Unlock()
	for _, a := range fns {
		a.f()
	}
}

// cancel cancels the context (a hijacked connection was closed).
func (x *reqContext) cancel() {
	defer x.runFired()
	x.mu.Lock()
	x.cancelLocked()
	x.mu.Unlock()
}

// setBodyRead: the body is consumed, so a watcher may read the socket.
func (x *reqContext) setBodyRead() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.bodyRead = true
	x.maybeWatchLocked()
}

func (x *reqContext) maybeWatchLocked() {
	c := x.c
	if x.watching || x.polled || (x.done == nil && len(x.fns) == 0) || x.err != nil || x.finished || !x.bodyRead || (c.br == nil && !c.brLent) {
		return
	}
	if c.br != nil && c.br.Buffered() > 0 {
		// A pipelined request is already read ahead: as with net/http's
		// background read, data ends the watch.
		return
	}
	if p := c.srv.getParker(); p != nil && p.watch(c.fd, x) == nil {
		x.setPolledLocked(true)
		// Nothing reads the connection until the handler returns (or
		// hijacks, or a TLS watch needs it): the reader goes back to
		// the pool meanwhile (a stream may wait for hours).
		c.lendReader()
		return
	}
	x.goWatchLocked()
}

// polledGone: the server closed the watched connection (Close).
func (x *reqContext) polledGone() {
	defer x.runFired()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.polled {
		x.setPolledLocked(false)
		x.cancelLocked()
	}
}

// setPolledLocked records whether the poller watches the client, on the
// connection too (Close must cancel a watched request: closing a socket
// takes it out of the epoll set silently).
func (x *reqContext) setPolledLocked(on bool) {
	x.polled = on
	if on {
		x.c.watched.Store(x)
	} else {
		x.c.watched.CompareAndSwap(x, nil)
	}
}

func (x *reqContext) goWatchLocked() {
	x.c.reclaimReader()
	x.watching = true
	x.stopped = make(chan struct{})
	go x.watch()
}

// polledEvent: the poller saw the client's socket readable or hung up.
// The socket has left the watch set (one-shot).
func (x *reqContext) polledEvent() {
	defer x.runFired()
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.polled {
		return // stopWatch ran meanwhile
	}
	x.setPolledLocked(false)
	if x.err != nil || x.finished {
		return
	}
	switch sockpeek.Peek(x.c.raw) {
	case sockpeek.Closed:
		x.cancelLocked()
	case sockpeek.Data:
		if x.c.tc != nil || x.c.tst != nil {
			// Under TLS the bytes may be a close_notify alert: let a
			// read-ahead through TLS tell (as before the poller).
			x.goWatchLocked()
		}
		// In the clear it is a pipelined request: the watch ends.
	case sockpeek.Empty:
		// Spurious: watch again.
		if p := x.c.srv.getParker(); p != nil && p.watch(x.c.fd, x) == nil {
			x.setPolledLocked(true)
		}
	}
}

// watch reads ahead on the connection, as net/http's background read:
// end of stream or an error (a TLS close_notify included) cancels the
// request; data (a pipelined request) stays buffered for the next request
// and ends the watch; stopWatch's past deadline ends it too.
func (x *reqContext) watch() {
	defer close(x.stopped)
	_, err := x.c.br.Peek(1)
	if err != nil && !isTimeout(err) {
		x.mu.Lock()
		x.cancelLocked()
		x.mu.Unlock()
		x.runFired()
	}
}

// finish cancels the context as the handler returns and stops a watcher,
// so the connection can read the next request.
func (x *reqContext) finish() {
	defer x.runFired()
	x.mu.Lock()
	x.finished = true
	x.cancelLocked()
	x.mu.Unlock()
	x.stopWatch()
}

// stopWatch ends a watcher's read so the socket's read side is free again
// (next request, or a hijacker). The context stays as it is.
func (x *reqContext) stopWatch() {
	x.mu.Lock()
	if x.polled {
		x.setPolledLocked(false)
		x.c.srv.parker.unwatch(x.c.fd, x)
	}
	watching := x.watching
	x.watching = false
	x.bodyRead = false // no new watcher
	stopped := x.stopped
	x.mu.Unlock()
	if watching {
		_ = x.c.nc.SetReadDeadline(aLongTimeAgo)
		<-stopped
		_ = x.c.nc.SetReadDeadline(time.Time{})
	}
}

// peerGone reports, without blocking or consuming input, whether the
// client closed or reset the connection.
func (c *conn) peerGone() bool { return sockpeek.Peek(c.raw) == sockpeek.Closed }
