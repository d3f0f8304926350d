package keycount

import (
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	c := New(2)
	r1, ok1 := c.Acquire("a")
	r2, ok2 := c.Acquire("a")
	_, ok3 := c.Acquire("a")
	rb, okb := c.Acquire("b")
	if !ok1 || !ok2 || ok3 || !okb {
		t.Fatalf("acquire: %v %v %v %v", ok1, ok2, ok3, okb)
	}
	r1()
	r1() // a second release gives nothing back
	if n := c.InFlight("a"); n != 1 {
		t.Fatalf("in flight after one release: %d", n)
	}
	if _, ok := c.Acquire("a"); !ok {
		t.Fatal("slot not given back")
	}
	r2()
	rb()
	if n := c.InFlight("b"); n != 0 {
		t.Fatalf("b: %d", n)
	}
}

func TestCounterConcurrent(t *testing.T) {
	c := New(3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak, held := 0, 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if rel, ok := c.Acquire("k"); ok {
					mu.Lock()
					held++
					peak = max(peak, held)
					held--
					mu.Unlock()
					rel()
				}
			}
		}()
	}
	wg.Wait()
	if peak > 3 || c.InFlight("k") != 0 {
		t.Fatalf("peak %d, left %d", peak, c.InFlight("k"))
	}
}
