package mqttinflightconn

import (
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/mqtt"
)

func TestNew(t *testing.T) {
	for _, cfg := range []*dynamic.TCPMQTTInFlightConn{nil, {}, {Amount: -1}, {Amount: 1, By: "ip"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	for _, by := range []string{"", "clientID", "username"} {
		if _, err := New(&dynamic.TCPMQTTInFlightConn{Amount: 1, By: by}); err != nil {
			t.Errorf("by %q: %v", by, err)
		}
	}
}

func TestAcquire(t *testing.T) {
	l, _ := New(&dynamic.TCPMQTTInFlightConn{Amount: 2})
	a := &mqtt.Connect{ClientID: "a"}
	r1, ok1 := l.Acquire(a)
	r2, ok2 := l.Acquire(a)
	if _, ok := l.Acquire(a); !ok1 || !ok2 || ok {
		t.Fatalf("third connection of a: %v %v %v", ok1, ok2, ok)
	}
	if _, ok := l.Acquire(&mqtt.Connect{ClientID: "b"}); !ok {
		t.Fatal("b refused")
	}
	r1()
	r1() // idempotent
	if l.InFlight("a") != 1 {
		t.Fatalf("in flight %d", l.InFlight("a"))
	}
	r3, ok := l.Acquire(a)
	if !ok {
		t.Fatal("a refused after a release")
	}
	r2()
	r3()
	if l.InFlight("a") != 0 || l.InFlight("b") != 1 {
		t.Fatalf("counts a=%d b=%d", l.InFlight("a"), l.InFlight("b"))
	}
	for i := 0; i < 5; i++ { // an empty client ID is not limited
		if _, ok := l.Acquire(&mqtt.Connect{}); !ok {
			t.Fatal("empty client ID refused")
		}
	}
}

func TestByUsername(t *testing.T) {
	l, _ := New(&dynamic.TCPMQTTInFlightConn{Amount: 1, By: "username"})
	if _, ok := l.Acquire(&mqtt.Connect{ClientID: "x", Username: "u", HasUsername: true}); !ok {
		t.Fatal("first refused")
	}
	if _, ok := l.Acquire(&mqtt.Connect{ClientID: "y", Username: "u", HasUsername: true}); ok {
		t.Fatal("second connection of user u accepted")
	}
}

func TestConcurrent(t *testing.T) {
	l, _ := New(&dynamic.TCPMQTTInFlightConn{Amount: 3})
	c := &mqtt.Connect{ClientID: "c"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := l.Acquire(c); ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 3 {
		t.Fatalf("granted %d", granted)
	}
}
