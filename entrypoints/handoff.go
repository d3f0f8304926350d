package entrypoints

import (
	"context"
	ctls "crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/internal/handoff"
	"github.com/switchyard-proxy/switchyard/internal/relay"
)

// Live connection hand-off on a binary upgrade. The old process's mover
// (MoveConns) stops each movable connection at a clean point and sends its
// sockets with the bytes in flight; the new process adopts them
// (AdoptRecord) and carries on. What moves and what drains is in
// docs/operations.md, "Which connections move".

// held is the relay serving a TCP router's (or an adopted) connection.
type held struct {
	r       *relay.Relay
	kind    string // handoff.KindTCP or KindTunnel
	router  string
	service string
}

// holder is the part of prefixConn the hand-off uses.
type holder struct {
	relay  atomic.Pointer[held]
	router string // the TCP router that took the connection, for logs
}

// HoldRelay records the relay serving the connection (relay.Holder).
func (c *prefixConn) HoldRelay(r *relay.Relay, service string) {
	if _, ok := c.Conn.(*ctls.Conn); ok {
		return // TLS terminated here (an MQTT router's replayed CONNECT): it drains
	}
	c.relay.Store(&held{r: r, kind: handoff.KindTCP, router: c.router, service: service})
}

// Drained: once the peeked prefix is replayed, reads go to the socket
// (relay.Drainer).
func (c *prefixConn) Drained() (net.Conn, bool) { return c.Conn, c.buf == nil }

// Drained: the limit wrapper buffers nothing (relay.Drainer).
func (c *limitedConn) Drained() (net.Conn, bool) { return c.Conn, true }

// Detach gives a TCP router's connection up for an upgrade hand-off
// (connreg.Detacher): its relay stops at a clean point.
func (c *prefixConn) Detach(ctx context.Context) (*connreg.Detached, error) {
	h := c.relay.Load()
	if h == nil {
		return nil, connreg.ErrNotMovable // still connecting to its backend, or TLS terminated here
	}
	d, err := connreg.DetachRelay(ctx, h.r, connreg.ProtoTCP, connreg.StateTCP)
	if err != nil {
		return nil, err
	}
	d.Router, d.Service = h.router, h.service
	if h.kind == handoff.KindTunnel {
		d.Protocol, d.State = connreg.ProtoHTTP1, connreg.StateTunnel // adopted from a previous process
	}
	return d, nil
}

// MoveStats counts what a mover did.
type MoveStats struct {
	TCP, Tunnels, IdleHTTP1 int           // moved
	Stayed                  int           // could not move (TLS, h2, a request in flight, an error): drain here
	Took                    time.Duration // from the first stop to the last record sent
}

// MoveConns sends the entrypoint's movable connections to the new process:
// every connection in its registry whose server can detach it (TCP
// routers' and adopted pairs, WebSocket tunnels, parked keep-alive
// connections without TLS). Call it once the entrypoint stopped accepting
// and before Shutdown closes idle connections. What does not move stays
// served here, marked draining.
//
// It is a pipeline: many connections are stopped at once (each stop waits
// for its relay's goroutines: scheduling latency on a busy machine, not
// work), and the stopped ones go out in batches, many records per
// sendmsg. A connection is paused from its stop until its batch is sent.
// Each stop is bounded (moveStopTimeout, and ctx): a relay that does not
// stop in time carries on here.
func (ep *HTTPEntryPoint) MoveConns(ctx context.Context, send handoff.SendBatch) MoveStats {
	began := time.Now()
	type cand struct {
		e *connreg.Entry
		d connreg.Detacher
	}
	var cands []cand
	var st MoveStats
	ep.reg.Range(func(e *connreg.Entry) bool {
		if d, ok := e.Owner().(connreg.Detacher); ok {
			cands = append(cands, cand{e, d})
		} else {
			e.SetDraining()
			st.Stayed++
		}
		return true
	})
	type stopped struct {
		e   *connreg.Entry
		d   *connreg.Detached
		rec handoff.Record
	}
	ready := make(chan stopped, moveBatch)
	var stayed atomic.Int64
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(moveWorkers, len(cands)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cands) {
					return
				}
				c := cands[i]
				if ctx.Err() != nil {
					c.e.SetDraining()
					stayed.Add(1)
					continue
				}
				sctx, cancel := context.WithTimeout(ctx, moveStopTimeout)
				d, err := c.d.Detach(sctx)
				cancel()
				if err != nil {
					if !errors.Is(err, connreg.ErrNotMovable) {
						slog.Debug("upgrade: connection stays", "entrypoint", ep.Name, "error", err)
					}
					c.e.SetDraining()
					stayed.Add(1)
					continue
				}
				rec, err := ep.record(d)
				if err != nil {
					d.Release(false)
					c.e.SetDraining()
					stayed.Add(1)
					continue
				}
				ready <- stopped{c.e, d, rec}
			}
		})
	}
	go func() {
		wg.Wait()
		close(ready)
	}()
	// One sender: whatever is stopped goes in the next batch.
	batch := make([]stopped, 0, moveBatch)
	recs := make([]handoff.Record, 0, moveBatch)
	for s := range ready {
		batch = append(batch[:0], s)
	fill:
		for len(batch) < moveBatch {
			select {
			case s, ok := <-ready:
				if !ok {
					break fill
				}
				batch = append(batch, s)
			default:
				break fill
			}
		}
		recs = recs[:0]
		for _, s := range batch {
			recs = append(recs, s.rec)
		}
		sent, err := send(recs)
		if err != nil {
			slog.Warn("upgrade: sending connections to the new process", "entrypoint", ep.Name, "sent", sent, "of", len(recs), "error", err)
		}
		for i, s := range batch {
			moved := i < sent
			handoff.CloseFiles(s.rec.Files...)
			// Moved: the server forgets the connection and closes its
			// copies (a close, not a shutdown: the peers see nothing).
			// Otherwise it carries on here and drains.
			s.d.Release(moved)
			switch {
			case !moved:
				s.e.SetDraining()
				st.Stayed++
			case s.d.State == connreg.StateTunnel:
				st.Tunnels++
			case s.d.State == connreg.StateIdle:
				st.IdleHTTP1++
			default:
				st.TCP++
			}
			batch[i] = stopped{}
		}
	}
	st.Stayed += int(stayed.Load())
	st.Took = time.Since(began)
	if len(cands) > 0 || st.Stayed > 0 {
		slog.Info("upgrade: connections handed to the new process", "entrypoint", ep.Name,
			"tcp", st.TCP, "tunnels", st.Tunnels, "idleHTTP1", st.IdleHTTP1, "draining", st.Stayed, "took", st.Took.Round(time.Millisecond).String())
	}
	return st
}

// Bounds of a move: connections stopped at once, records per batch (the
// sender packs them into as few messages as descriptors allow), and how
// long one connection's stop may take before it stays here.
const (
	moveWorkers     = 512
	moveBatch       = 256
	moveStopTimeout = 5 * time.Second
)

// record is what the new process needs of a detached connection: its
// kind, metadata and duplicated sockets (closed by the caller).
func (ep *HTTPEntryPoint) record(d *connreg.Detached) (handoff.Record, error) {
	kind := handoff.KindTCP
	switch {
	case d.Backend == nil:
		kind = handoff.KindIdleHTTP1
	case d.State == connreg.StateTunnel:
		kind = handoff.KindTunnel
	}
	fa, err := handoff.Dup(d.Client)
	if err != nil {
		return handoff.Record{}, err
	}
	files := []*os.File{fa}
	m := handoff.Meta{
		EntryPoint: ep.Name, Router: d.Router, Service: d.Service,
		Client:  remoteString(d.Client.RemoteAddr()),
		Pending: d.Pending, Closed: d.Closed, DelayLeft: d.DelayLeft,
		Delay: d.Delay, Idle: d.Idle,
	}
	if d.Backend != nil {
		fb, err := handoff.Dup(d.Backend)
		if err != nil {
			handoff.CloseFiles(fa)
			return handoff.Record{}, err
		}
		files = append(files, fb)
		m.Backend = remoteString(d.Backend.RemoteAddr())
	}
	return handoff.Record{Kind: kind, Meta: m.Marshal(), Files: files}, nil
}

func remoteString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Kinds lists the record kinds AdoptRecord takes.
var Kinds = []string{handoff.KindTCP, handoff.KindTunnel, handoff.KindIdleHTTP1}

// AdoptRecord takes one moved connection in the new process: it finds the
// entrypoint named in the metadata and carries on serving there. It owns
// files (closes them on error).
func AdoptRecord(eps map[string]*HTTPEntryPoint, kind string, meta []byte, files []*os.File) error {
	var m handoff.Meta
	if err := m.Unmarshal(meta); err != nil {
		handoff.CloseFiles(files...)
		return err
	}
	ep := eps[m.EntryPoint]
	if ep == nil || ep.h1 == nil {
		handoff.CloseFiles(files...)
		return fmt.Errorf("handoff: entrypoint %q is not served here", m.EntryPoint)
	}
	return ep.adopt(kind, &m, files)
}

func (ep *HTTPEntryPoint) adopt(kind string, m *handoff.Meta, files []*os.File) error {
	want := 2
	if kind == handoff.KindIdleHTTP1 {
		want = 1
	}
	if len(files) != want {
		handoff.CloseFiles(files...)
		return fmt.Errorf("handoff: %s record with %d sockets, want %d", kind, len(files), want)
	}
	conns := make([]net.Conn, 0, want)
	for _, f := range files {
		c, err := handoff.Adopt(f)
		if err != nil {
			for _, c := range conns {
				_ = c.Close()
			}
			return err
		}
		conns = append(conns, c)
	}
	if err := sockOptsOf(ep.Config).applyTo(conns[0]); err != nil {
		slog.Debug("handoff: client socket options", "entrypoint", ep.Name, "error", err)
	}
	client := ep.adoptedClient(conns[0], m.Client)
	switch kind {
	case handoff.KindIdleHTTP1:
		go ep.h1.ServeConn(client)
		return nil
	case handoff.KindTCP, handoff.KindTunnel:
	default:
		for _, c := range conns {
			_ = c.Close()
		}
		return fmt.Errorf("handoff: unknown kind %q", kind)
	}
	backend := conns[1]
	pc := &prefixConn{Conn: client}
	pc.router = m.Router
	proto, state := connreg.ProtoTCP, connreg.StateTCP
	if kind == handoff.KindTunnel {
		proto, state = connreg.ProtoHTTP1, connreg.StateTunnel
	}
	e, ok := ep.tcpConns.add(pc, proto, state)
	if !ok {
		_ = pc.Close()
		_ = backend.Close()
		return errors.New("handoff: entrypoint shutting down")
	}
	idle := m.Idle
	if kind == handoff.KindTunnel {
		// A tunnel keeps the bound of this process's configuration.
		idle = ep.h1.TunnelIdleTimeout
	}
	r := relay.Resume(pc, backend, relay.State{Pending: m.Pending, Closed: m.Closed, DelayLeft: m.DelayLeft}, m.Delay, idle)
	pc.relay.Store(&held{r: r, kind: kind, router: m.Router, service: m.Service})
	go func() {
		defer ep.reg.Remove(e)
		r.Run()
		_ = pc.Close()
		_ = backend.Close()
	}()
	return nil
}

// adoptedClient wraps an adopted client socket: the address the old
// process saw (PROXY protocol applied) stays the remote address, and the
// per-address limit counts it.
func (ep *HTTPEntryPoint) adoptedClient(c net.Conn, client string) net.Conn {
	if ap, err := netip.ParseAddrPort(client); err == nil && client != c.RemoteAddr().String() {
		c = &addrConn{Conn: c, remote: net.TCPAddrFromAddrPort(ap)}
	}
	if l := ep.ipLimit; l != nil {
		ip := addrIP(c.RemoteAddr())
		l.force(ip)
		c = &limitedConn{Conn: c, l: l, ip: ip}
	}
	return c
}

// addrConn reports the client address a PROXY protocol header gave.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr      { return c.remote }
func (c *addrConn) NetConn() net.Conn         { return c.Conn }
func (c *addrConn) Drained() (net.Conn, bool) { return c.Conn, true }
func (c *addrConn) CloseWrite() error         { return closeWrite(c.Conn) }
