package http1

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// hammer runs clients that send a request, read the answer and pause for
// a random short time (so their connections go idle, park and resume)
// until the server closes them; stop ends the server at a random moment.
// Every client must see its connection closed, the server must forget
// every connection, and nothing may stay parked.
func hammer(t *testing.T, park time.Duration, stop func(s *Server) error) {
	t.Helper()
	// Widen the windows of the idle path (set before the server starts,
	// cleared once it is gone).
	hook := func() {
		if rand.IntN(2) == 0 {
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		}
	}
	testHookIdle.Store(&hook)
	defer testHookIdle.Store(nil)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ParkAfter: park, IdleTimeout: time.Minute, ReadTimeout: time.Minute}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = s.Serve(ln) }()
	addr := ln.Addr().String()

	const clients = 32
	var wg sync.WaitGroup
	ended := make(chan struct{}, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				ended <- struct{}{}
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					break
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.Close {
					// The server announced its last response: the
					// connection must end now.
					if _, err := br.ReadByte(); err == nil {
						t.Errorf("data after Connection: close")
					}
					break
				}
				if rand.IntN(3) == 0 {
					// Go quiet: only the server can end this one.
					_ = c.SetDeadline(time.Now().Add(90 * time.Second))
					_, _ = br.ReadByte()
					break
				}
				time.Sleep(time.Duration(rand.IntN(2500)) * time.Microsecond)
			}
			ended <- struct{}{}
		}()
	}
	time.Sleep(time.Duration(5+rand.IntN(40)) * time.Millisecond)
	start := time.Now()
	if err := stop(s); err != nil {
		t.Errorf("stop: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		// (Shutdown's context is 20 s; the idle timeout a minute.)
		t.Errorf("stop took %v (a lost wake-up leaves a connection waiting for its idle timeout)", d)
	}
	timeout := time.After(30 * time.Second)
	for range clients {
		select {
		case <-ended:
		case <-timeout:
			t.Fatalf("a client connection was never closed")
		}
	}
	wg.Wait()
	<-served
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		parked := 0
		if s.parker != nil {
			parked = s.parker.parked()
		}
		if n == 0 && parked == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after stop: %d connections tracked, %d parked", n, parked)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStateMachineCloseRace: Close at any moment of the park/resume cycle
// closes every connection; none comes back to life in the poller.
func TestStateMachineCloseRace(t *testing.T) {
	for i := range 25 {
		park := time.Duration(rand.IntN(3)) * time.Millisecond // 0 means the default 1 s
		if i%5 == 0 {
			park = -1
		}
		hammer(t, park, func(s *Server) error { return s.Close() })
	}
}

// TestStateMachineShutdownRace: a graceful Shutdown with a one-minute idle
// timeout returns quickly whatever the connections were doing: the wake-up
// of an idle connection is never lost.
func TestStateMachineShutdownRace(t *testing.T) {
	for i := range 25 {
		park := time.Duration(1+rand.IntN(2)) * time.Millisecond
		if i%2 == 0 {
			park = -1 // no poller: only the wake-up of a blocked read
		}
		hammer(t, park, func(s *Server) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			return s.Shutdown(ctx)
		})
	}
}

// TestStateMachineMixed: Shutdown and Close together.
func TestStateMachineMixed(t *testing.T) {
	for range 15 {
		hammer(t, time.Millisecond, func(s *Server) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Shutdown(ctx) }()
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			_ = s.Close()
			err := <-done
			if err == context.Canceled || err == context.DeadlineExceeded {
				err = nil
			}
			return err
		})
	}
}

// TestHijackedContextCanceled: a hijacked request's context ends when the
// hijacked connection is closed (the handler may still be running, as an
// h2c upgrade is) and when the handler returns.
func TestHijackedContextCanceled(t *testing.T) {
	afterReturn := make(chan error, 1)
	onClose := make(chan error, 1)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if r.URL.Path == "/close" {
			_ = c.Close()
			select {
			case <-r.Context().Done():
				onClose <- nil
			case <-time.After(5 * time.Second):
				onClose <- context.DeadlineExceeded
			}
			return
		}
		ctx := r.Context()
		go func() {
			select {
			case <-ctx.Done():
				afterReturn <- nil
			case <-time.After(5 * time.Second):
				afterReturn <- context.DeadlineExceeded
			}
			_ = c.Close()
		}()
	})}
	addr := startServer(t, s)
	for _, path := range []string{"/close", "/return"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		defer c.Close()
	}
	if err := <-onClose; err != nil {
		t.Errorf("context not canceled when the hijacked connection closed")
	}
	if err := <-afterReturn; err != nil {
		t.Errorf("context not canceled when the hijacking handler returned")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Tunnels() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.Tunnels(); n != 0 {
		t.Errorf("%d tunnels still tracked after their connections closed", n)
	}
}
