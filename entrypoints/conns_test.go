package entrypoints

import (
	"net"
	"sync"
	"testing"
	"time"
)

// TestTCPConnsCloseRace: connections added concurrently with Shutdown's
// close are either refused or waited for; none is added once the wait
// has begun (what tcpWG.Add racing Wait got wrong).
func TestTCPConnsCloseRace(t *testing.T) {
	for range 200 {
		var s tcpConns
		var wg sync.WaitGroup
		var mu sync.Mutex
		added := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, b := net.Pipe()
				defer b.Close()
				if !s.add(a) {
					return
				}
				mu.Lock()
				added++
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				s.remove(a)
			}()
		}
		done := s.close()
		if s.add(&net.TCPConn{}) {
			t.Fatal("add accepted after close")
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("close never saw the set empty")
		}
		wg.Wait()
	}
}

func TestIPLimit(t *testing.T) {
	l := &ipLimit{max: 2}
	a := addrIP(&net.TCPAddr{IP: net.ParseIP("10.0.0.1")})
	b := addrIP(&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.2")})
	if !l.acquire(a) || !l.acquire(a) || l.acquire(a) { //nolint:staticcheck // three calls on purpose: acquire takes a slot
		t.Fatal("a: want two slots")
	}
	if !l.acquire(b) {
		t.Fatal("b is another address")
	}
	l.release(a)
	if !l.acquire(a) {
		t.Fatal("a released slot not given back")
	}
	if l.rejected.Load() != 1 {
		t.Fatalf("rejected %d, want 1", l.rejected.Load())
	}
}
