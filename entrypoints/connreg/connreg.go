// Package connreg is the connection registry of one entrypoint: every
// connection it accepted, whatever protocol serves it, with its protocol
// and state. Graceful shutdown, the idle limits, the upgrade hand-off and
// the API's connection counts all read it.
//
// # How a protocol server uses it
//
// The entrypoint adds an Entry for each accepted connection before it is
// classified (ProtoUnknown, StateNew) and removes it when the connection's
// server returns. The classifier sets the protocol once it knows it
// (SetProtocol). The protocol server that then serves the connection:
//
//   - reports each state change with SetState — a single atomic store, no
//     lock and no allocation, so the HTTP/1 engine does it per request;
//   - sets itself as the entry's Owner (SetOwner) when it keeps state the
//     registry must not bypass: CloseAll then calls Owner.Abort instead of
//     closing the socket under the server's feet (the HTTP/1 engine's
//     parked connections sit in an epoll set by descriptor);
//   - optionally implements Detacher on that owner: the live hand-off of
//     an upgrade asks it to stop serving the connection at a safe point and
//     give up its socket, backend socket and unforwarded bytes, so the new
//     process can carry on with them. A server that cannot do that safely
//     (TLS, h2 with open streams) does not implement it; its connections
//     drain instead.
//
// Shutdown: Close refuses new entries (Add returns false: the caller
// closes the connection) and returns a channel closed once the registry is
// empty; CloseAll, when the grace period is over, ends what is left.
//
// The registry is sharded: Add and Remove take one of 64 shard locks (one
// connection each, not one per request); counts are computed on demand.
package connreg

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol is what serves a connection.
type Protocol uint32

// Protocols. Extend at the end; the values are not persisted but the
// names are shown by the API.
const (
	ProtoUnknown Protocol = iota // still being classified
	ProtoHTTP1
	ProtoHTTP2
	ProtoTCP   // a TCP router's
	ProtoTLCP  // reserved for TLCP (GB/T 38636)
	ProtoHTTP3 // a QUIC connection serving HTTP/3
	numProtocols
)

var protoNames = [numProtocols]string{"unknown", "http1", "http2", "tcp", "tlcp", "http3"}

func (p Protocol) String() string {
	if p < numProtocols {
		return protoNames[p]
	}
	return "invalid"
}

// Protocols lists every protocol, in order.
func Protocols() []Protocol {
	ps := make([]Protocol, numProtocols)
	for i := range ps {
		ps[i] = Protocol(i)
	}
	return ps
}

// State is what a connection is doing.
type State uint32

// States. Extend at the end.
const (
	StateNew      State = iota // accepted, being classified (PROXY header, TLS handshake, first bytes)
	StateActive                // a request (or stream) in flight
	StateIdle                  // waiting for the next request: keep-alive, parked, h2 without streams
	StateTunnel                // upgraded (WebSocket, any 101): bytes relayed both ways
	StateTCP                   // owned by a TCP router
	StateDraining              // being shut down (graceful shutdown, upgrade drain): finishing what it does
	numStates
)

var stateNames = [numStates]string{"new", "active", "idle", "tunnel", "tcp", "draining"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "invalid"
}

// States lists every state, in order.
func States() []State {
	ss := make([]State, numStates)
	for i := range ss {
		ss[i] = State(i)
	}
	return ss
}

// Owner is the per-connection side of the protocol server serving an
// entry, set with Entry.SetOwner.
type Owner interface {
	// Abort closes the connection now, whatever it is doing, the way its
	// server must (CloseAll calls it instead of closing the socket).
	Abort()
}

// Detacher is implemented by an Owner whose connection can move to
// another process (the live hand-off of an upgrade). Detach waits, until
// ctx ends, for a point where nothing is in flight, then stops serving
// the connection without closing it and returns what a new process needs
// to carry on. The connection stays paused until Detached.Release: moved,
// the owner's server forgets it (closing its copies of the sockets
// without shutting them down; the entry is removed as usual); not moved,
// it is served on as before. An error (ErrNotMovable or ctx's) leaves the
// connection served here: it drains.
type Detacher interface {
	Detach(ctx context.Context) (*Detached, error)
}

// ErrNotMovable: the connection cannot move now (TLS of ours on it, a
// request in flight, a relay still connecting, ended meanwhile).
var ErrNotMovable = errors.New("connreg: connection cannot move")

// Detached is a connection given up by its server for the hand-off.
// Fields may be added.
type Detached struct {
	Client  net.Conn // the client connection (a wrapper over its TCP socket; its RemoteAddr is the client's)
	Backend net.Conn // the backend connection, if any (TCP router, tunnel)
	// Pending[0] was read from the client and not yet written to the
	// backend, Pending[1] the other way.
	Pending [2][]byte
	// Closed[d]: direction d (0: client to backend) saw its end and the
	// half-close went through.
	Closed [2]bool
	// DelayLeft: termination delay left to the open direction (negative:
	// none running); Delay and Idle: the bounds the pair runs with.
	DelayLeft, Delay, Idle time.Duration
	Router, Service        string // for the new process's logs
	Protocol               Protocol
	State                  State // StateTCP, StateTunnel or StateIdle
	// Release ends the detach once the sockets were sent (moved) or not.
	Release func(moved bool)
}

// Entry is one connection in a registry.
type Entry struct {
	state    atomic.Uint32
	proto    atomic.Uint32
	draining atomic.Bool

	conn       net.Conn
	acceptedAt time.Time

	shard atomic.Pointer[shard] // nil when not in a registry; changed under its mu

	// Guarded by shard.mu.
	prev, next *Entry
	owner      Owner
}

// NewEntry makes an entry for c (the connection as accepted, under any
// TLS wrapper: closing it ends the connection). c may be nil for a
// connection that is not a net.Conn (QUIC): its server sets an Owner.
func NewEntry(c net.Conn, p Protocol, s State) *Entry {
	e := &Entry{conn: c, acceptedAt: time.Now()}
	e.proto.Store(uint32(p))
	e.state.Store(uint32(s))
	return e
}

// Conn is the connection as accepted.
func (e *Entry) Conn() net.Conn { return e.conn }

// AcceptedAt is when the entry was made.
func (e *Entry) AcceptedAt() time.Time { return e.acceptedAt }

// State is the last state set, or StateDraining once SetDraining was
// called (whatever its server reports afterwards).
func (e *Entry) State() State {
	if e.draining.Load() {
		return StateDraining
	}
	return State(e.state.Load())
}

// ServerState is the last state its server set, draining or not.
func (e *Entry) ServerState() State { return State(e.state.Load()) }

// SetDraining marks the connection as being shut down (graceful
// shutdown, or left to drain by an upgrade): State reports StateDraining
// from now on. Servers go on reporting their states (ServerState).
func (e *Entry) SetDraining() { e.draining.Store(true) }

// Draining reports whether SetDraining was called.
func (e *Entry) Draining() bool { return e.draining.Load() }

// SetState records a state change: one atomic store.
func (e *Entry) SetState(s State) { e.state.Store(uint32(s)) }

// Protocol is what serves the connection.
func (e *Entry) Protocol() Protocol { return Protocol(e.proto.Load()) }

// SetProtocol records what serves the connection (after classification,
// or an h2c upgrade).
func (e *Entry) SetProtocol(p Protocol) { e.proto.Store(uint32(p)) }

// SetOwner sets (nil: clears) the server side of the connection. Call it
// after Add; it is dropped by Remove.
func (e *Entry) SetOwner(o Owner) {
	sh := e.shardLocked()
	if sh == nil {
		return
	}
	e.owner = o
	sh.mu.Unlock()
}

// Owner is the server side set with SetOwner, nil if none (or removed).
func (e *Entry) Owner() Owner {
	sh := e.shardLocked()
	if sh == nil {
		return nil
	}
	o := e.owner
	sh.mu.Unlock()
	return o
}

// shardLocked returns the entry's shard, locked, or nil if the entry is
// not in a registry.
func (e *Entry) shardLocked() *shard {
	for {
		sh := e.shard.Load()
		if sh == nil {
			return nil
		}
		sh.mu.Lock()
		if e.shard.Load() == sh {
			return sh
		}
		sh.mu.Unlock()
	}
}

const numShards = 64

type shard struct {
	mu   sync.Mutex
	head *Entry
	n    int
	_    [40]byte // keep shards' locks off each other's cache lines
}

// Registry holds the connections of one entrypoint. The zero value is
// ready to use.
type Registry struct {
	shards [numShards]shard
	next   atomic.Uint32 // round-robin shard choice
	count  atomic.Int64
	closed atomic.Bool

	mu   sync.Mutex
	done chan struct{} // made by Close, closed once empty
}

// New returns an empty registry.
func New() *Registry { return &Registry{} }

// Add registers e; false once Close has been called (the caller closes
// the connection). An entry is in at most one registry, once.
func (r *Registry) Add(e *Entry) bool {
	// Count first, then check closed: Close stores closed, then reads the
	// count, so either it sees this entry or this sees closed.
	r.count.Add(1)
	if r.closed.Load() {
		r.dec()
		return false
	}
	sh := &r.shards[r.next.Add(1)%numShards]
	sh.mu.Lock()
	if e.shard.Load() != nil {
		sh.mu.Unlock()
		r.dec()
		panic("connreg: entry added twice")
	}
	e.shard.Store(sh)
	e.prev, e.next = nil, sh.head
	if sh.head != nil {
		sh.head.prev = e
	}
	sh.head = e
	sh.n++
	sh.mu.Unlock()
	return true
}

// Remove forgets e; removing twice, or an entry never added, does nothing.
func (r *Registry) Remove(e *Entry) {
	sh := e.shardLocked()
	if sh == nil {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		sh.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next, e.owner = nil, nil, nil
	e.shard.Store(nil)
	sh.n--
	sh.mu.Unlock()
	r.dec()
}

func (r *Registry) dec() {
	if r.count.Add(-1) == 0 && r.closed.Load() {
		r.signalEmpty()
	}
}

func (r *Registry) signalEmpty() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil && r.count.Load() == 0 {
		select {
		case <-r.done:
		default:
			close(r.done)
		}
	}
}

// Len is the number of connections registered.
func (r *Registry) Len() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// Range calls f for every entry until f returns false. f runs without
// any registry lock held (it may Remove, SetOwner, close connections);
// an entry added or removed during Range may or may not be seen.
func (r *Registry) Range(f func(*Entry) bool) {
	var buf []*Entry
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		buf = buf[:0]
		for e := sh.head; e != nil; e = e.next {
			buf = append(buf, e)
		}
		sh.mu.Unlock()
		for j, e := range buf {
			buf[j] = nil
			if !f(e) {
				return
			}
		}
	}
}

// Counts is a snapshot of a registry, by state and by protocol.
type Counts struct {
	Total      int
	ByState    [numStates]int
	ByProtocol [numProtocols]int
	// ByProtocolState[p][s]: connections of protocol p in state s.
	ByProtocolState [numProtocols][numStates]int
}

// Counts counts the entries now (each shard locked in turn, no
// allocation).
func (r *Registry) Counts() Counts {
	var c Counts
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for e := sh.head; e != nil; e = e.next {
			c.Total++
			s, p := e.State(), e.Protocol()
			if s < numStates {
				c.ByState[s]++
			}
			if p < numProtocols {
				c.ByProtocol[p]++
				if s < numStates {
					c.ByProtocolState[p][s]++
				}
			}
		}
		sh.mu.Unlock()
	}
	return c
}

// Close refuses new entries from now on and returns a channel closed once
// the registry is empty. Calling it again returns the same channel.
func (r *Registry) Close() <-chan struct{} {
	r.mu.Lock()
	if r.done == nil {
		r.done = make(chan struct{})
	}
	done := r.done
	r.mu.Unlock()
	r.closed.Store(true)
	if r.count.Load() == 0 {
		r.signalEmpty()
	}
	return done
}

// Closed reports whether Close has been called.
func (r *Registry) Closed() bool { return r.closed.Load() }

// CloseAll ends every connection registered now: Owner.Abort where the
// serving server set an owner, else closing the connection. Entries are
// removed by their servers as they return, not here.
func (r *Registry) CloseAll() {
	r.Range(func(e *Entry) bool {
		if o := e.Owner(); o != nil {
			o.Abort()
		} else if e.conn != nil {
			_ = e.conn.Close()
		}
		return true
	})
}

// DrainAll marks every connection registered now as draining (see
// Entry.SetDraining).
func (r *Registry) DrainAll() {
	r.Range(func(e *Entry) bool {
		e.SetDraining()
		return true
	})
}
