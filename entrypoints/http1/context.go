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
// peeks at the socket without blocking, and Done() starts a watcher only
// for the handlers that wait on it.
type reqContext struct {
	c  *conn
	mu sync.Mutex

	err      error
	done     chan struct{} // made by the first Done()
	finished bool          // the handler returned
	bodyRead bool          // the request body is consumed (or there is none)
	watching bool          // a watcher goroutine owns the socket's read side
	stopped  chan struct{} // closed when the watcher exits
}

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

func (x *reqContext) cancelLocked() {
	if x.err != nil {
		return
	}
	x.err = context.Canceled
	if x.done != nil {
		close(x.done)
	}
}

// cancel cancels the context (a hijacked connection was closed).
func (x *reqContext) cancel() {
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
	if x.watching || x.done == nil || x.err != nil || x.finished || !x.bodyRead || x.c.br == nil {
		return
	}
	x.watching = true
	x.stopped = make(chan struct{})
	go x.watch()
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
	}
}

// finish cancels the context as the handler returns and stops a watcher,
// so the connection can read the next request.
func (x *reqContext) finish() {
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
