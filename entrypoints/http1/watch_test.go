package http1

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// A handler waiting on its context (context.AfterFunc, Done) has its
// client watched by the poller: no goroutine reads ahead, and the client's
// departure, a pipelined request or Close each end the wait as they should.
func TestClientWatchedByPoller(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is Linux-only")
	}
	fired := make(chan struct{}, 4)
	waiting := make(chan struct{}, 4)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			return
		}
		ran := make(chan struct{})
		stop := context.AfterFunc(r.Context(), func() { fired <- struct{}{}; close(ran) })
		defer stop()
		w.(http.Flusher).Flush()
		waiting <- struct{}{}
		select {
		case <-ran:
		case <-time.After(3 * time.Second):
		}
	})}
	addr := startServer(t, s)
	open := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case <-waiting:
		case <-time.After(5 * time.Second):
			t.Fatal("handler not reached")
		}
		return c
	}
	watchedIs := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for s.parker.watched() != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d requests watched, want %d", s.parker.watched(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// The client leaves: the context ends at once.
	c := open()
	watchedIs(1)
	start := time.Now()
	c.Close()
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("the client's departure was not noticed")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("departure noticed after %v", d)
	}
	watchedIs(0)

	// A pipelined request is not a departure: the watch ends, the
	// handler runs to its end, and the next request is served.
	c = open()
	watchedIs(1)
	_, _ = io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	watchedIs(0)
	select {
	case <-fired:
		t.Fatal("pipelined bytes canceled the request")
	case <-time.After(200 * time.Millisecond):
	}
	c.Close()

	// Close cancels a watched request (its socket leaves the set silently).
	c = open()
	defer c.Close()
	for len(fired) > 0 {
		<-fired
	}
	watchedIs(1)
	_ = s.Close()
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not cancel the watched request")
	}
}
