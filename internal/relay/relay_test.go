package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns the two ends of one loopback TCP connection.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	x, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	y := <-ch
	if y == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { x.Close(); y.Close() })
	return x.(*net.TCPConn), y.(*net.TCPConn)
}

// setup: clientPeer ⇄ a | relay | b ⇄ backendPeer.
func setup(t testing.TB) (clientPeer, a, b, backendPeer *net.TCPConn) {
	clientPeer, a = tcpPair(t)
	b, backendPeer = tcpPair(t)
	return
}

func seqByte(i int64) byte { return byte(i*31 + i>>9) }

// writer streams the counter sequence in small bursts until stop, then
// half-closes; it returns how many bytes it wrote.
func writer(c *net.TCPConn, stop <-chan struct{}, seed uint64) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	buf := make([]byte, 2048)
	var off int64
	for {
		select {
		case <-stop:
			return off, c.CloseWrite()
		default:
		}
		n := 1 + rng.IntN(len(buf))
		for i := range n {
			buf[i] = seqByte(off + int64(i))
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return off, err
		}
		off += int64(n)
		if rng.IntN(4) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
	}
}

// reader checks the counter sequence until EOF; it returns the count.
func reader(c *net.TCPConn) (int64, error) {
	buf := make([]byte, 4096)
	var off int64
	for {
		n, err := c.Read(buf)
		for i := range n {
			if buf[i] != seqByte(off) {
				return off, fmt.Errorf("byte %d: got %d want %d", off, buf[i], seqByte(off))
			}
			off++
		}
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
	}
}

// moveConn does in one process what a hand-off does across two: dup the
// socket, close the original (no FIN: the dup keeps it open), adopt the
// dup.
func moveConn(t testing.TB, c net.Conn) net.Conn {
	t.Helper()
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestCopyAndHalfClose(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(a, b, -1, 0)
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	if _, err := cp.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = cp.CloseWrite()
	got, err := io.ReadAll(bp)
	if err != nil || string(got) != "ping" {
		t.Fatalf("backend got %q, %v", got, err)
	}
	// The other direction still runs after the half-close.
	if _, err := bp.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	_ = bp.CloseWrite()
	got, err = io.ReadAll(cp)
	if err != nil || string(got) != "pong" {
		t.Fatalf("client got %q, %v", got, err)
	}
	if moved := <-done; moved {
		t.Fatal("moved without a Detach")
	}
}

// TestMoveUnderLoad stops the relay many times while both directions
// stream, moves both sockets (dup, close the originals) and resumes from
// the state: no byte is lost, duplicated or reordered.
func TestMoveUnderLoad(t *testing.T) {
	cp, a0, b0, bp := setup(t)
	var a, b net.Conn = a0, b0
	stop := make(chan struct{})
	type res struct {
		n   int64
		err error
	}
	wUp, wDown, rUp, rDown := make(chan res, 1), make(chan res, 1), make(chan res, 1), make(chan res, 1)
	go func() { n, err := writer(cp, stop, 1); wUp <- res{n, err} }()
	go func() { n, err := writer(bp, stop, 2); wDown <- res{n, err} }()
	go func() { n, err := reader(bp); rUp <- res{n, err} }()
	go func() { n, err := reader(cp); rDown <- res{n, err} }()

	r := New(a, b, -1, 0)
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	pendingSeen := 0
	for range 30 {
		time.Sleep(time.Duration(1+rand.IntN(8)) * time.Millisecond)
		st, err := r.Detach()
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pending[Up])+len(st.Pending[Down]) > 0 {
			pendingSeen++
		}
		if st.Closed[Up] || st.Closed[Down] || st.DelayLeft >= 0 {
			t.Fatalf("unexpected state %+v", st)
		}
		na, nb := moveConn(t, a), moveConn(t, b)
		r.Release(true)
		if !<-done {
			t.Fatal("Run did not report the move")
		}
		_ = a.Close()
		_ = b.Close()
		a, b = na, nb
		r = Resume(a, b, st, -1, 0)
		go func() { done <- r.Run() }()
	}
	close(stop)
	up, down := <-wUp, <-wDown
	if up.err != nil || down.err != nil {
		t.Fatalf("writers: %v, %v", up.err, down.err)
	}
	gotUp, gotDown := <-rUp, <-rDown
	if gotUp.err != nil || gotDown.err != nil {
		t.Fatalf("readers: %v, %v", gotUp.err, gotDown.err)
	}
	if gotUp.n != up.n || gotDown.n != down.n {
		t.Fatalf("up %d of %d bytes, down %d of %d", gotUp.n, up.n, gotDown.n, down.n)
	}
	if <-done {
		t.Fatal("the last relay reported a move")
	}
	t.Logf("%d+%d bytes, %d stops caught bytes in flight", up.n, down.n, pendingSeen)
}

// TestDetachBlockedWrite: the backend reads nothing, so the relay's write
// blocks; a Detach cuts it short and the unwritten rest is pending.
func TestDetachBlockedWrite(t *testing.T) {
	cp, a, b, bp := setup(t)
	// Small fixed buffers towards the backend: the relay blocks soon.
	_ = b.SetWriteBuffer(32 << 10)
	_ = bp.SetReadBuffer(32 << 10)
	r := New(a, b, -1, 0)
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	const total = 8 << 20
	buf := make([]byte, total)
	for i := range buf {
		buf[i] = seqByte(int64(i))
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := cp.Write(buf)
		if err == nil {
			err = cp.CloseWrite()
		}
		wrote <- err
	}()
	// Wait until the backend's receive queue is full enough that the
	// relay blocks (the writer cannot finish).
	time.Sleep(100 * time.Millisecond)
	st, err := r.Detach()
	if err != nil {
		t.Fatal(err)
	}
	na, nb := moveConn(t, a), moveConn(t, b)
	r.Release(true)
	<-done
	_ = a.Close()
	_ = b.Close()
	if len(st.Pending[Up]) == 0 {
		t.Fatal("no pending bytes from the blocked write")
	}
	t.Logf("pending up: %d bytes", len(st.Pending[Up]))
	r = Resume(na, nb, st, -1, 0)
	go func() { done <- r.Run() }()
	n, err := reader(bp)
	if err != nil || n != total {
		t.Fatalf("backend read %d of %d: %v", n, total, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	_ = bp.CloseWrite()
	if _, err := io.ReadAll(cp); err != nil {
		t.Fatal(err)
	}
	<-done
}

// TestDetachHalfClosed: a direction that closed stays closed, and the
// termination delay left is carried over.
func TestDetachHalfClosed(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(a, b, 10*time.Second, 0)
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	_, _ = cp.Write([]byte("last words"))
	_ = cp.CloseWrite()
	if got, err := io.ReadAll(bp); err != nil || string(got) != "last words" {
		t.Fatalf("backend got %q, %v", got, err)
	}
	st, err := r.Detach()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Closed[Up] || st.Closed[Down] {
		t.Fatalf("closed flags %v", st.Closed)
	}
	if st.DelayLeft <= 5*time.Second || st.DelayLeft > 10*time.Second {
		t.Fatalf("delay left %v", st.DelayLeft)
	}
	na, nb := moveConn(t, a), moveConn(t, b)
	r.Release(true)
	<-done
	_ = a.Close()
	_ = b.Close()
	r = Resume(na, nb, st, 10*time.Second, 0)
	go func() { done <- r.Run() }()
	_, _ = bp.Write([]byte("reply"))
	_ = bp.CloseWrite()
	if got, err := io.ReadAll(cp); err != nil || string(got) != "reply" {
		t.Fatalf("client got %q, %v", got, err)
	}
	if <-done {
		t.Fatal("moved")
	}
}

// TestTerminationDelayResumed: the delay left runs out in the new relay.
func TestTerminationDelayResumed(t *testing.T) {
	cp, a, b, bp := setup(t)
	_ = cp
	st := State{Closed: [2]bool{true, false}, DelayLeft: 100 * time.Millisecond}
	r := Resume(a, b, st, time.Hour, 0)
	start := time.Now()
	if r.Run() {
		t.Fatal("moved")
	}
	if d := time.Since(start); d < 80*time.Millisecond || d > 5*time.Second {
		t.Fatalf("ended after %v", d)
	}
	_ = bp
}

func TestReleaseWithoutMove(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(a, b, -1, 0)
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	_, _ = cp.Write([]byte("one "))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(bp, buf); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Detach(); err != nil {
		t.Fatal(err)
	}
	r.Release(false)
	_, _ = cp.Write([]byte("two"))
	_ = cp.CloseWrite()
	got, _ := io.ReadAll(bp)
	if string(got) != "two" {
		t.Fatalf("got %q", got)
	}
	_ = bp.CloseWrite()
	_, _ = io.ReadAll(cp)
	if <-done {
		t.Fatal("moved")
	}
	if _, err := r.Detach(); !errors.Is(err, ErrNotMovable) {
		t.Fatalf("Detach after the end: %v", err)
	}
}

// prefixed replays a buffered prefix first, like the entrypoint's peek
// wrapper.
type prefixed struct {
	net.Conn
	mu   sync.Mutex
	data []byte
}

func (p *prefixed) Read(b []byte) (int, error) {
	p.mu.Lock()
	if len(p.data) > 0 {
		n := copy(b, p.data)
		p.data = p.data[n:]
		p.mu.Unlock()
		return n, nil
	}
	p.mu.Unlock()
	return p.Conn.Read(b)
}

// TestDetachDrainsWrapper: bytes a wrapper buffered join the pending ones.
func TestDetachDrainsWrapper(t *testing.T) {
	_, a, b, _ := setup(t)
	r := New(&prefixed{Conn: a, data: []byte("hello")}, b, -1, 0)
	var st State
	var err error
	detached := make(chan struct{})
	go func() {
		st, err = r.Detach()
		close(detached)
	}()
	for !r.stop.Load() {
		time.Sleep(time.Millisecond)
	}
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	<-detached
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.Pending[Up], []byte("hello")) {
		t.Fatalf("pending %q", st.Pending[Up])
	}
	r.Release(true)
	if !<-done {
		t.Fatal("not moved")
	}
}

func TestIdleBound(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(a, b, -1, 300*time.Millisecond)
	var ended atomic.Bool
	done := make(chan bool, 1)
	go func() { done <- r.Run(); ended.Store(true) }()
	// Traffic one way keeps the whole relay alive.
	buf := make([]byte, 1)
	for range 6 {
		time.Sleep(100 * time.Millisecond)
		_, _ = cp.Write([]byte("x"))
		if _, err := io.ReadFull(bp, buf); err != nil {
			t.Fatal(err)
		}
	}
	if ended.Load() {
		t.Fatal("ended while bytes flowed")
	}
	start := time.Now()
	<-done
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("idle relay ended after %v", d)
	}
}

// drainable is a prefixed wrapper that says when its prefix is gone.
type drainable struct{ prefixed }

func (d *drainable) Drained() (net.Conn, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Conn, len(d.data) == 0
}

// TestDrainedWrapperReadsRaw: once the wrapper's prefix is read, the
// relay reads the socket itself (no buffer held while idle).
func TestDrainedWrapperReadsRaw(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(&drainable{prefixed{Conn: a, data: []byte("pre")}}, b, -1, 0)
	if r.dirs[Up].rc != nil {
		t.Fatal("raw reads before the prefix is drained")
	}
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	_, _ = cp.Write([]byte("fix"))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(bp, buf); err != nil || string(buf) != "prefix" {
		t.Fatalf("got %q, %v", buf, err)
	}
	st, err := r.Detach()
	if err != nil {
		t.Fatal(err)
	}
	if r.dirs[Up].rc == nil {
		t.Fatal("still reading through the wrapper")
	}
	if len(st.Pending[Up]) != 0 {
		t.Fatalf("pending %q", st.Pending[Up])
	}
	r.Release(false)
	_ = cp.CloseWrite()
	_ = bp.CloseWrite()
	<-done
}

// TestDetachContextBound: a Detach whose relay does not stop in time (here
// its Run has not even started) returns the context's error, and the relay
// carries on copying once it runs.
func TestDetachContextBound(t *testing.T) {
	cp, a, b, bp := setup(t)
	r := New(a, b, -1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.DetachContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DetachContext: %v", err)
	}
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	_, _ = cp.Write([]byte("still copied"))
	_ = cp.CloseWrite()
	got, _ := io.ReadAll(bp)
	if string(got) != "still copied" {
		t.Fatalf("got %q", got)
	}
	_ = bp.CloseWrite()
	_, _ = io.ReadAll(cp)
	if <-done {
		t.Fatal("moved")
	}
}

// drainedWrapper buffers nothing once its prefix is read, like the PROXY
// protocol wrapper under the peek wrapper.
type drainedWrapper struct{ *prefixed }

func (d drainedWrapper) Drained() (net.Conn, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Conn, len(d.data) == 0
}

// outer claims to be drained but sits on a wrapper that is not.
type outer struct{ net.Conn }

func (o outer) Drained() (net.Conn, bool) { return o.Conn, true }

// TestDetachDrainsNestedWrapper: bytes buffered by a wrapper under a
// drained one are not lost on a detach.
func TestDetachDrainsNestedWrapper(t *testing.T) {
	_, a, b, bp := setup(t)
	inner := drainedWrapper{&prefixed{Conn: a, data: []byte("buffered")}}
	r := New(outer{inner}, b, -1, 0)
	if rawConn(outer{inner}) != nil {
		t.Fatal("reads the socket under a wrapper that buffers")
	}
	done := make(chan bool, 1)
	go func() { done <- r.Run() }()
	// Let the relay copy the prefix first, or not: either way, no byte
	// may be lost.
	st, err := r.Detach()
	if err != nil {
		t.Fatal(err)
	}
	r.Release(true)
	<-done
	// What the backend got before the stop, then what is pending: the
	// whole prefix, once.
	_ = bp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	got, _ := io.ReadAll(bp)
	if s := string(got) + string(st.Pending[Up]); s != "buffered" {
		t.Fatalf("backend got %q, pending %q", got, st.Pending[Up])
	}
}
