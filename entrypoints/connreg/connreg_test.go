package connreg

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func pipe(t testing.TB) net.Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a
}

func TestAddRemoveCounts(t *testing.T) {
	r := New()
	var es []*Entry
	for i := range 10 {
		e := NewEntry(pipe(t), ProtoUnknown, StateNew)
		if !r.Add(e) {
			t.Fatal("Add refused")
		}
		switch {
		case i < 3:
			e.SetProtocol(ProtoHTTP1)
			e.SetState(StateIdle)
		case i < 5:
			e.SetProtocol(ProtoHTTP2)
			e.SetState(StateActive)
		case i < 6:
			e.SetProtocol(ProtoTCP)
			e.SetState(StateTCP)
		}
		es = append(es, e)
	}
	c := r.Counts()
	if c.Total != 10 || c.ByState[StateIdle] != 3 || c.ByState[StateActive] != 2 || c.ByState[StateTCP] != 1 || c.ByState[StateNew] != 4 {
		t.Fatalf("by state: %+v", c)
	}
	if c.ByProtocol[ProtoHTTP1] != 3 || c.ByProtocol[ProtoHTTP2] != 2 || c.ByProtocol[ProtoTCP] != 1 || c.ByProtocol[ProtoUnknown] != 4 {
		t.Fatalf("by protocol: %+v", c)
	}
	if c.ByProtocolState[ProtoHTTP1][StateIdle] != 3 || c.ByProtocolState[ProtoHTTP2][StateActive] != 2 ||
		c.ByProtocolState[ProtoTCP][StateTCP] != 1 || c.ByProtocolState[ProtoUnknown][StateNew] != 4 || c.ByProtocolState[ProtoHTTP1][StateActive] != 0 {
		t.Fatalf("by protocol and state: %+v", c)
	}
	if r.Len() != 10 {
		t.Fatalf("Len %d", r.Len())
	}
	for _, e := range es {
		r.Remove(e)
		r.Remove(e) // idempotent
	}
	if r.Len() != 0 || r.Counts().Total != 0 {
		t.Fatal("not empty")
	}
	if es[0].Owner() != nil {
		t.Fatal("owner after remove")
	}
}

func TestAddTwicePanics(t *testing.T) {
	r := New()
	e := NewEntry(pipe(t), ProtoTCP, StateTCP)
	r.Add(e)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
		if r.Len() != 1 || r.count.Load() != 1 {
			t.Fatalf("count %d", r.count.Load())
		}
	}()
	r.Add(e)
}

func TestCloseWaitsForEmpty(t *testing.T) {
	r := New()
	e1 := NewEntry(pipe(t), ProtoHTTP1, StateActive)
	e2 := NewEntry(pipe(t), ProtoTCP, StateTCP)
	r.Add(e1)
	r.Add(e2)
	done := r.Close()
	if r.Close() != done {
		t.Fatal("second Close: another channel")
	}
	if r.Add(NewEntry(pipe(t), ProtoHTTP1, StateNew)) {
		t.Fatal("Add after Close accepted")
	}
	select {
	case <-done:
		t.Fatal("done while not empty")
	default:
	}
	r.Remove(e1)
	select {
	case <-done:
		t.Fatal("done while not empty")
	default:
	}
	r.Remove(e2)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("not done once empty")
	}
}

func TestCloseEmpty(t *testing.T) {
	var r Registry // zero value
	select {
	case <-r.Close():
	case <-time.After(5 * time.Second):
		t.Fatal("empty registry: not done")
	}
}

type owner struct{ aborted atomic.Int32 }

func (o *owner) Abort() { o.aborted.Add(1) }

func TestCloseAll(t *testing.T) {
	r := New()
	a, b := net.Pipe()
	defer func() { _ = b.Close() }()
	plain := NewEntry(a, ProtoTCP, StateTCP)
	owned := NewEntry(pipe(t), ProtoHTTP1, StateIdle)
	r.Add(plain)
	r.Add(owned)
	o := &owner{}
	owned.SetOwner(o)
	if owned.Owner() != o {
		t.Fatal("owner not set")
	}
	r.CloseAll()
	if o.aborted.Load() != 1 {
		t.Fatal("owner not aborted")
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("plain connection not closed")
	}
	// CloseAll does not remove: the servers do, as they return.
	if r.Len() != 2 {
		t.Fatalf("Len %d", r.Len())
	}
}

func TestRangeMayRemove(t *testing.T) {
	r := New()
	for range 200 {
		r.Add(NewEntry(pipe(t), ProtoHTTP1, StateIdle))
	}
	n := 0
	r.Range(func(e *Entry) bool {
		r.Remove(e)
		n++
		return true
	})
	if n != 200 || r.Len() != 0 {
		t.Fatalf("visited %d, left %d", n, r.Len())
	}
	r.Add(NewEntry(pipe(t), ProtoHTTP1, StateIdle))
	r.Add(NewEntry(pipe(t), ProtoHTTP1, StateIdle))
	n = 0
	r.Range(func(*Entry) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Range did not stop: %d", n)
	}
}

func TestNames(t *testing.T) {
	for _, s := range States() {
		if s.String() == "invalid" || s.String() == "" {
			t.Fatalf("state %d has no name", s)
		}
	}
	for _, p := range Protocols() {
		if p.String() == "invalid" || p.String() == "" {
			t.Fatalf("protocol %d has no name", p)
		}
	}
	if State(99).String() != "invalid" || Protocol(99).String() != "invalid" {
		t.Fatal("out of range")
	}
}

// TestHammer adds, changes and removes entries from many goroutines while
// others count, range, set owners and finally close: the count must end
// at zero and the done channel must close exactly when the last goes.
func TestHammer(t *testing.T) {
	r := New()
	c := pipe(t)
	workers := 4 * runtime.GOMAXPROCS(0)
	const perWorker = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var refused atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				e := NewEntry(c, ProtoUnknown, StateNew)
				if !r.Add(e) {
					refused.Add(1)
					continue
				}
				e.SetProtocol(Protocol(1 + (w+i)%int(numProtocols-1)))
				for s := range numStates {
					e.SetState(s)
				}
				if i%3 == 0 {
					e.SetOwner(&owner{})
				}
				r.Remove(e)
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cs := r.Counts()
				sum := 0
				for _, n := range cs.ByState {
					sum += n
				}
				if sum != cs.Total {
					t.Errorf("by state sums to %d, total %d", sum, cs.Total)
					return
				}
				r.Range(func(e *Entry) bool { _ = e.Owner(); return true })
			}
		})
	}
	// Close halfway through: later Adds are refused, done closes once
	// the workers' entries are gone.
	time.Sleep(5 * time.Millisecond)
	done := r.Close()
	wg.Wait()
	close(stop)
	readers.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("not done; %d left", r.Len())
	}
	if r.Len() != 0 || r.count.Load() != 0 {
		t.Fatalf("left %d, count %d", r.Len(), r.count.Load())
	}
	t.Logf("%d Adds refused after Close", refused.Load())
}

func TestManyConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	r := New()
	c := pipe(t)
	es := make([]*Entry, 100_000)
	for i := range es {
		es[i] = NewEntry(c, ProtoHTTP1, StateIdle)
		r.Add(es[i])
	}
	start := time.Now()
	cs := r.Counts()
	t.Logf("Counts of %d entries: %v", cs.Total, time.Since(start))
	if cs.Total != len(es) || cs.ByState[StateIdle] != len(es) {
		t.Fatalf("%+v", cs)
	}
	if n := testing.AllocsPerRun(3, func() { _ = r.Counts() }); n != 0 {
		t.Fatalf("Counts allocates %v", n)
	}
	for _, e := range es {
		r.Remove(e)
	}
	if r.Len() != 0 {
		t.Fatal("not empty")
	}
}

func TestSetStateAllocs(t *testing.T) {
	r := New()
	e := NewEntry(pipe(t), ProtoHTTP1, StateNew)
	r.Add(e)
	if n := testing.AllocsPerRun(100, func() { e.SetState(StateActive); e.SetState(StateIdle) }); n != 0 {
		t.Fatalf("SetState allocates %v", n)
	}
}

func BenchmarkAddRemove(b *testing.B) {
	r := New()
	c := pipe(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := NewEntry(c, ProtoHTTP1, StateNew)
			r.Add(e)
			r.Remove(e)
		}
	})
}

func BenchmarkSetState(b *testing.B) {
	r := New()
	e := NewEntry(pipe(b), ProtoHTTP1, StateNew)
	r.Add(e)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.SetState(State(i & 1))
	}
}

func BenchmarkCounts100k(b *testing.B) {
	r := New()
	c := pipe(b)
	for range 100_000 {
		r.Add(NewEntry(c, ProtoHTTP1, StateIdle))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Counts()
	}
}

// TestDraining: a draining entry counts as draining whatever its server
// reports afterwards; DrainAll marks every entry; an entry without a
// connection (QUIC) is aborted through its owner only.
func TestDraining(t *testing.T) {
	r := New()
	a := NewEntry(pipe(t), ProtoHTTP1, StateActive)
	b := NewEntry(pipe(t), ProtoHTTP2, StateIdle)
	q := NewEntry(nil, ProtoHTTP3, StateNew)
	r.Add(a)
	r.Add(b)
	r.Add(q)
	a.SetDraining()
	a.SetState(StateIdle) // the server goes on reporting
	if a.State() != StateDraining || a.ServerState() != StateIdle || !a.Draining() {
		t.Fatalf("state %v, server state %v", a.State(), a.ServerState())
	}
	c := r.Counts()
	if c.ByState[StateDraining] != 1 || c.ByProtocolState[ProtoHTTP1][StateDraining] != 1 || c.ByState[StateIdle] != 1 || c.ByState[StateNew] != 1 {
		t.Fatalf("counts %+v", c)
	}
	r.DrainAll()
	if c := r.Counts(); c.ByState[StateDraining] != 3 || c.ByProtocolState[ProtoHTTP3][StateDraining] != 1 {
		t.Fatalf("after DrainAll: %+v", c)
	}
	r.CloseAll() // q has neither a connection nor, yet, an owner: nothing to close
	o := &owner{}
	q.SetOwner(o)
	r.CloseAll()
	if o.aborted.Load() != 1 {
		t.Fatal("QUIC owner not aborted")
	}
}
