// Package relay copies bytes both ways between two connections (a TCP
// router's client and backend, a WebSocket tunnel) and can stop at a clean
// point so that the pair moves to another process during a binary upgrade:
// both directions stop reading, the bytes read but not yet written are
// kept, and the half-close and termination-delay state is reported.
//
// While a direction waits for input on a bare TCP socket it holds no
// buffer: the read is attempted from the poller's callback with a pooled
// buffer that goes back at once when nothing is there. (io.Copy's splice
// path is avoided on purpose: it can hold bytes in a kernel pipe, which a
// stop would lose.)
package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// BufSize is the size of the pooled buffers a direction borrows per read.
const BufSize = 16 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, BufSize); return &b }}

// aLongTimeAgo is a deadline that has passed: it wakes a blocked read or
// write, and a read or write started after it fails before any syscall.
var aLongTimeAgo = time.Unix(1, 0)

// Directions: Up copies the first connection (the client) to the second
// (the backend), Down the other way.
const (
	Up   = 0
	Down = 1
)

// State is where a stopped relay left off.
type State struct {
	// Pending[d] holds the bytes of direction d read from its source but
	// not yet written to its destination; they are written first when
	// the relay resumes.
	Pending [2][]byte
	// Closed[d]: direction d saw the end of its source and closed the
	// write half of its destination (the FIN went through).
	Closed [2]bool
	// DelayLeft is what is left of the termination delay granted to the
	// open direction once the other one closed; negative: no deadline.
	DelayLeft time.Duration
}

// Relay is one pair of connections being copied. Create it with New or
// Resume, run it with Run; Detach stops it for a move.
type Relay struct {
	conns [2]net.Conn
	delay time.Duration // termination delay; negative waits forever
	idle  time.Duration // no byte either way for that long ends it; 0: never

	dirs [2]direction

	stop   atomic.Bool  // a Detach asked both directions to stop
	broken atomic.Bool  // an error or a timeout ends the relay
	last   atomic.Int64 // unix nanoseconds of the last byte copied (idle bound only)
	until  atomic.Int64 // termination deadline once one direction closed; 0: none

	mu       sync.Mutex
	finished bool // Run returned for good
	parked   chan struct{}
	verdict  chan bool
}

// Drainer is a wrapper that buffers bytes of its own (a replayed peek).
// Once Drained reports true, reading the wrapper is reading the socket
// underneath, and the relay reads that socket directly (no buffer held
// while it waits).
type Drainer interface {
	Drained() (net.Conn, bool)
}

// Holder is a client connection wrapper that keeps the relay serving it,
// so that an upgrade's hand-off can find and detach the pair. A relay is
// given to it only when both sides can move (no TLS of ours on either).
type Holder interface {
	HoldRelay(r *Relay, service string)
}

// Toucher is a connection that records activity (a tunnel's idle bound):
// the relay calls Touch after each chunk it reads from or writes to it,
// also when it reads the socket under it directly.
type Toucher interface {
	Touch()
}

// ReadToucher is a connection that wants to know when bytes were read
// from it (a WebSocket ping's answer): the relay calls TouchRead after
// each chunk it reads from it, also when it reads the socket under it.
type ReadToucher interface {
	TouchRead()
}

type direction struct {
	src, dst  net.Conn
	touch     []Toucher       // src and dst, when they record activity
	readTouch ReadToucher     // src, when it records reads
	rc        syscall.RawConn // src's socket when src is a bare TCP conn (or a drained wrapper of one)
	pending   []byte
	closed    atomic.Bool // read by the other direction's goroutine
}

// New prepares a relay between a (client) and b (backend). delay is the
// termination delay (how long the other direction may still run once one
// direction closed; negative waits forever); idle, when positive, ends the
// relay after that long without a byte either way.
func New(a, b net.Conn, delay, idle time.Duration) *Relay {
	r := &Relay{conns: [2]net.Conn{a, b}, delay: delay, idle: idle,
		parked: make(chan struct{}), verdict: make(chan bool)}
	r.dirs[Up] = direction{src: a, dst: b, rc: rawConn(a), touch: touchers(a, b)}
	r.dirs[Down] = direction{src: b, dst: a, rc: rawConn(b), touch: touchers(a, b)}
	for d := range 2 {
		r.dirs[d].readTouch, _ = r.dirs[d].src.(ReadToucher)
	}
	return r
}

// Resume prepares a relay that carries on from st (from another process):
// pending bytes are written first, closed directions stay closed, and the
// termination delay left keeps running.
func Resume(a, b net.Conn, st State, delay, idle time.Duration) *Relay {
	r := New(a, b, delay, idle)
	for d := range 2 {
		r.dirs[d].pending = st.Pending[d]
		r.dirs[d].closed.Store(st.Closed[d])
	}
	if (st.Closed[Up] || st.Closed[Down]) && st.DelayLeft >= 0 {
		r.until.Store(time.Now().Add(st.DelayLeft).UnixNano())
	}
	return r
}

func touchers(cs ...net.Conn) []Toucher {
	var ts []Toucher
	for _, c := range cs {
		if t, ok := c.(Toucher); ok {
			ts = append(ts, t)
		}
	}
	return ts
}

// Bounds returns the termination delay and the idle bound the relay runs
// with.
func (r *Relay) Bounds() (delay, idle time.Duration) { return r.delay, r.idle }

// Conns returns the two connections (client, backend).
func (r *Relay) Conns() (a, b net.Conn) { return r.conns[0], r.conns[1] }

// under follows drained wrappers down to the connection they read; false
// when one of them still buffers bytes of its own.
func under(c net.Conn) (net.Conn, bool) {
	for range 8 {
		d, ok := c.(Drainer)
		if !ok {
			return c, true
		}
		u, ok := d.Drained()
		if !ok {
			return c, false
		}
		c = u
	}
	return c, false
}

func rawConn(c net.Conn) syscall.RawConn {
	c, ok := under(c)
	if !ok {
		return nil
	}
	tc, ok := c.(*net.TCPConn)
	if !ok || !rawReads {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// Run copies until both directions are done, or until a Detach moved the
// pair away: then it returns true, and the caller closes its copies of
// the connections without shutting them down (the peers see nothing).
// Run does not close the connections.
func (r *Relay) Run() (moved bool) {
	for {
		r.armDeadlines()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.copy(Up)
		}()
		r.copy(Down)
		wg.Wait()

		r.mu.Lock()
		if !r.stop.Load() {
			r.finished = true
			r.mu.Unlock()
			return false
		}
		r.mu.Unlock()
		// Stopped for a Detach: report, then wait for its verdict.
		r.parked <- struct{}{}
		if <-r.verdict {
			r.mu.Lock()
			r.finished = true
			r.mu.Unlock()
			return true
		}
		// The move did not happen: carry on here.
		for _, c := range r.conns {
			_ = c.SetDeadline(time.Time{})
		}
		r.stop.Store(false)
	}
}

// armDeadlines sets the read deadlines the idle bound and a running
// termination delay ask for.
func (r *Relay) armDeadlines() {
	if r.idle > 0 {
		r.touch()
	}
	for d := range 2 {
		if !r.dirs[d].closed.Load() {
			if dl := r.readDeadline(); !dl.IsZero() {
				_ = r.dirs[d].src.SetReadDeadline(dl)
			}
		}
	}
}

func (r *Relay) touch() { r.last.Store(time.Now().UnixNano()) }

// readDeadline is the earliest of the termination deadline and the idle
// bound; zero when neither applies.
func (r *Relay) readDeadline() time.Time {
	var dl time.Time
	if u := r.until.Load(); u != 0 {
		dl = time.Unix(0, u)
	}
	if r.idle > 0 {
		if i := time.Unix(0, r.last.Load()).Add(r.idle); dl.IsZero() || i.Before(dl) {
			dl = i
		}
	}
	return dl
}

// copy runs direction d until its source ends, an error, or a stop.
func (r *Relay) copy(d int) {
	dir := &r.dirs[d]
	if dir.closed.Load() {
		return
	}
	if len(dir.pending) > 0 {
		p := dir.pending
		n, err := dir.dst.Write(p)
		if err != nil {
			if r.stop.Load() && isTimeout(err) {
				dir.pending = p[n:]
				return
			}
			r.fail()
			return
		}
		dir.pending = nil
		if r.idle > 0 {
			r.touch()
		}
	}
	for {
		if r.stop.Load() {
			return
		}
		bp, n, err := r.read(dir)
		if n > 0 {
			wn, werr := dir.dst.Write((*bp)[:n])
			if werr != nil {
				if r.stop.Load() && isTimeout(werr) {
					dir.pending = append([]byte(nil), (*bp)[wn:n]...)
					bufs.Put(bp)
					return
				}
				bufs.Put(bp)
				r.fail()
				return
			}
			if r.idle > 0 {
				r.touch()
			}
			for _, t := range dir.touch {
				t.Touch()
			}
			if dir.readTouch != nil {
				dir.readTouch.TouchRead()
			}
		}
		if bp != nil {
			bufs.Put(bp)
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			if closeWrite(dir.dst) != nil {
				// No half-close on this side: the whole relay ends.
				r.fail()
				return
			}
			dir.closed.Store(true)
			r.halfDone(d)
			return
		case isTimeout(err):
			if r.stop.Load() {
				return
			}
			if r.broken.Load() {
				return
			}
			if dl := r.readDeadline(); !dl.IsZero() && time.Now().Before(dl) {
				// The idle bound moved on (the other direction
				// carried bytes): wait again.
				_ = dir.src.SetReadDeadline(dl)
				continue
			}
			r.fail()
			return
		default:
			r.fail()
			return
		}
	}
}

// read reads once from dir's source into a pooled buffer (nil when no
// byte was read). A bare TCP socket is read from the poller's callback so
// that no buffer is held while it waits.
func (r *Relay) read(dir *direction) (*[]byte, int, error) {
	if dir.rc == nil {
		bp := bufs.Get().(*[]byte)
		n, err := dir.src.Read(*bp)
		if n == 0 {
			bufs.Put(bp)
			bp = nil
		}
		if d, ok := dir.src.(Drainer); ok && err == nil {
			if _, ok := d.Drained(); ok {
				// Deadlines still go through the wrapper: same socket.
				dir.rc = rawConn(dir.src)
			}
		}
		return bp, n, err
	}
	var (
		bp   *[]byte
		n    int
		rerr error
	)
	err := dir.rc.Read(func(fd uintptr) bool {
		b := bufs.Get().(*[]byte)
		var again bool
		n, again, rerr = readFD(fd, *b)
		if again || n <= 0 {
			bufs.Put(b)
			return !again
		}
		bp = b
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	if rerr != nil {
		return nil, 0, rerr
	}
	if n == 0 {
		return nil, 0, io.EOF
	}
	return bp, n, nil
}

// halfDone: direction d closed. The other one gets the termination delay.
func (r *Relay) halfDone(d int) {
	other := &r.dirs[1-d]
	if other.closed.Load() || r.delay < 0 {
		return
	}
	dl := time.Now().Add(r.delay)
	r.until.Store(dl.UnixNano())
	if r.idle > 0 {
		dl = r.readDeadline()
	}
	_ = other.src.SetReadDeadline(dl)
	if r.stop.Load() {
		// A Detach set its past deadline before ours: restore it, or the
		// other direction would sleep through the stop until dl.
		_ = other.src.SetReadDeadline(aLongTimeAgo)
	}
}

// fail ends both directions now (a reset, a write error, a timeout).
func (r *Relay) fail() {
	r.broken.Store(true)
	for _, c := range r.conns {
		_ = c.SetReadDeadline(aLongTimeAgo)
	}
}

// ErrNotMovable is returned by Detach when the relay ended (or is ending)
// on its own: there is nothing to move.
var ErrNotMovable = errors.New("relay: ended, nothing to move")

// Detach stops both directions at a clean point and returns the state a
// Resume needs. The relay's goroutine stays parked until Release: move
// the sockets in between (dup them; do not shut them down). Reads stop at
// once; a write blocked on a peer that does not read is cut short and its
// unwritten bytes join the pending ones.
func (r *Relay) Detach() (State, error) { return r.DetachContext(context.Background()) }

// DetachContext is Detach bounded by ctx: when the relay's goroutines have
// not stopped by then (a starved scheduler), it returns ctx's error and
// the relay carries on here as soon as they do; no Release follows.
func (r *Relay) DetachContext(ctx context.Context) (State, error) {
	r.mu.Lock()
	if r.finished || r.broken.Load() {
		r.mu.Unlock()
		return State{}, ErrNotMovable
	}
	r.stop.Store(true)
	r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.SetDeadline(aLongTimeAgo)
	}
	select {
	case <-r.parked:
	case <-ctx.Done():
		go func() {
			<-r.parked // it parks once both directions saw the stop
			r.verdict <- false
		}()
		return State{}, ctx.Err()
	}
	if r.broken.Load() || (r.dirs[Up].closed.Load() && r.dirs[Down].closed.Load()) {
		r.verdict <- false
		return State{}, ErrNotMovable
	}
	var st State
	for d := range 2 {
		dir := &r.dirs[d]
		closed := dir.closed.Load()
		if !closed {
			// Bytes a wrapper buffered (a peeked prefix, a PROXY
			// protocol reader) come after those already pending; with
			// the deadline past, no socket read happens.
			dir.pending = drain(dir.src, dir.pending)
		}
		st.Pending[d] = dir.pending
		st.Closed[d] = closed
	}
	st.DelayLeft = -1
	if u := r.until.Load(); u != 0 {
		st.DelayLeft = max(0, time.Until(time.Unix(0, u)))
	}
	return st, nil
}

// Release ends a Detach: moved true lets Run return (the caller closes its
// copies); false resumes copying here with the pending bytes first.
func (r *Relay) Release(moved bool) { r.verdict <- moved }

// drain appends what src returns without a socket read (its deadline has
// passed) to p.
func drain(src net.Conn, p []byte) []byte {
	if u, ok := under(src); ok {
		if _, ok := u.(*net.TCPConn); ok {
			return p // no wrapper on the way holds a byte
		}
	}
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	for range 64 {
		n, err := src.Read(*bp)
		p = append(p, (*bp)[:n]...)
		if err != nil || n == 0 {
			break
		}
	}
	return p
}

func closeWrite(c net.Conn) error {
	switch t := c.(type) {
	case interface{ CloseWrite() error }:
		return t.CloseWrite()
	case interface{ TCPConn() (*net.TCPConn, bool) }:
		if tc, ok := t.TCPConn(); ok {
			return tc.CloseWrite()
		}
	}
	return errors.New("connection cannot half-close")
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
