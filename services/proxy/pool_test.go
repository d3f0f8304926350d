package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// At most maxDialsPerHost dials are in flight; beyond that a request waits
// and leaves when its context ends; released dials serve the waiters.
func TestDialsPerHostBounded(t *testing.T) {
	addr, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) { _, _ = br.ReadByte() })
	tr := newTestTransport(t)
	gate := make(chan struct{})
	var inDial atomic.Int64
	tr.dialer.Control = func(string, string, syscall.RawConn) error {
		inDial.Add(1)
		<-gate
		return nil
	}
	p := tr.pool(mustURL(t, addr).Host)

	const n = maxDialsPerHost + 4
	var wg sync.WaitGroup
	got := make(chan *conn, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := p.get(context.Background()); err == nil {
				got <- c
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for inDial.Load() < maxDialsPerHost && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if d := inDial.Load(); d != maxDialsPerHost {
		t.Fatalf("%d dials in flight, want %d", d, maxDialsPerHost)
	}
	// A waiter whose client leaves does not wait for the dials.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter with an ended context: %v", err)
	}
	close(gate)
	// Each connection that comes back serves a waiter.
	putDone := make(chan struct{})
	go func() {
		defer close(putDone)
		for c := range got {
			p.put(c)
		}
	}()
	wg.Wait()
	close(got)
	<-putDone
	if c := conns.Load(); c > n {
		t.Errorf("%d connections for %d requests", c, n)
	}
}

// failingRW is a client that went away: every body write fails.
type failingRW struct{ *fakeRW }

func (failingRW) Write([]byte) (int, error) { return 0, errors.New("client gone") }

// A client that leaves mid-response does not cost the backend connection:
// the rest of a small response is drained and the connection pooled; a
// large one is not drained.
func TestDepartedClientConnectionSalvaged(t *testing.T) {
	addr, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := readRawRequest(br)
			if err != nil {
				return
			}
			size := 10 << 10
			if req.URL.Path == "/big" {
				size = 1 << 20
			}
			resp := make([]byte, 0, size+100)
			resp = append(resp, "HTTP/1.1 200 OK\r\nContent-Length: "...)
			resp = append(resp, []byte(itoa(size))...)
			resp = append(resp, "\r\n\r\n"...)
			resp = append(resp, make([]byte, size)...)
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
	tr := newTestTransport(t)
	h, _ := New(mustURL(t, addr), tr, defaultOpts())
	p := h.(*fastProxy).pool
	serve := func(path string) {
		req, _ := newReq(path)
		func() {
			defer func() { _ = recover() }() // http.ErrAbortHandler is fine
			h.ServeHTTP(failingRW{newFakeRW()}, req)
		}()
	}
	serve("/small")
	if n := p.idleCount(); n != 1 {
		t.Fatalf("after a departed client: %d idle connections, want 1 (salvaged)", n)
	}
	serve("/small")
	if c := conns.Load(); c != 1 {
		t.Errorf("backend saw %d connections, want 1", c)
	}
	serve("/big")
	if n := p.idleCount(); n != 0 {
		t.Errorf("a 1 MiB rest was drained: %d idle connections, want 0", n)
	}
}

func newReq(path string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err == nil {
		req.RemoteAddr = "1.2.3.4:5"
	}
	return req, err
}

func itoa(n int) string { return strconv.Itoa(n) }
