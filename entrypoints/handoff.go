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

// MoveStats counts what a mover did.
type MoveStats struct {
	TCP, Tunnels, IdleHTTP1 int // moved
	Stayed                  int // could not move (TLS, or an error): drain here
}

// MoveConns sends the entrypoint's movable connections to the new process:
// TCP routers' and adopted pairs, WebSocket tunnels and idle keep-alive
// connections without TLS. Call it once the entrypoint stopped accepting
// and before Shutdown closes idle connections. What it does not move stays
// served here and drains.
func (ep *HTTPEntryPoint) MoveConns(ctx context.Context, send handoff.Send) MoveStats {
	var st MoveStats
	if ep.h1 == nil {
		return st
	}
	began := time.Now()
	type job struct {
		client net.Conn
		h      *held
	}
	var jobs []job
	for _, c := range ep.tcpConns.snapshot() {
		pc, ok := c.(*prefixConn)
		if !ok {
			st.Stayed++ // TLS terminated here
			continue
		}
		if h := pc.relay.Load(); h != nil {
			jobs = append(jobs, job{pc, h})
		} else {
			st.Stayed++ // still connecting to its backend
		}
	}
	for _, t := range ep.h1.RelayedTunnels() {
		jobs = append(jobs, job{t.Client, &held{r: t.Relay, kind: handoff.KindTunnel, service: t.Service}})
	}
	// Many at once: each stop waits for its relay's goroutines, which on
	// a busy machine is scheduling latency, not work.
	var tcp, tunnels, stayed atomic.Int64
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(moveWorkers, len(jobs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				switch {
				case ctx.Err() != nil || !ep.moveRelay(send, j.client, j.h):
					stayed.Add(1)
				case j.h.kind == handoff.KindTunnel:
					tunnels.Add(1)
				default:
					tcp.Add(1)
				}
			}
		})
	}
	wg.Wait()
	st.TCP, st.Tunnels, st.Stayed = int(tcp.Load()), int(tunnels.Load()), st.Stayed+int(stayed.Load())
	if ctx.Err() == nil {
		st.IdleHTTP1 = ep.h1.MoveIdle(func(nc net.Conn) bool {
			return ep.moveIdle(send, nc)
		})
	}
	slog.Info("upgrade: connections handed to the new process", "entrypoint", ep.Name,
		"tcp", st.TCP, "tunnels", st.Tunnels, "idleHTTP1", st.IdleHTTP1, "draining", st.Stayed, "took", time.Since(began).Round(time.Millisecond).String())
	return st
}

// moveWorkers bounds the connections being stopped and sent at once.
const moveWorkers = 64

// moveRelay detaches one relayed pair and sends it; false leaves it
// running here.
func (ep *HTTPEntryPoint) moveRelay(send handoff.Send, client net.Conn, h *held) bool {
	a, b := h.r.Conns()
	if !handoff.Movable(a) || !handoff.Movable(b) {
		return false // TLS of ours on a side: drains
	}
	state, err := h.r.Detach()
	if err != nil {
		return false // ended meanwhile
	}
	fa, err := handoff.Dup(a)
	if err != nil {
		h.r.Release(false)
		return false
	}
	fb, err := handoff.Dup(b)
	if err != nil {
		handoff.CloseFiles(fa)
		h.r.Release(false)
		return false
	}
	delay, idle := h.r.Bounds()
	m := handoff.Meta{
		EntryPoint: ep.Name, Router: h.router, Service: h.service,
		Client: remoteString(client.RemoteAddr()), Backend: remoteString(b.RemoteAddr()),
		Pending: state.Pending, Closed: state.Closed, DelayLeft: state.DelayLeft,
		Delay: delay, Idle: idle,
	}
	err = send(h.kind, m.Marshal(), fa, fb)
	handoff.CloseFiles(fa, fb)
	if err != nil {
		slog.Debug("upgrade: connection stays", "entrypoint", ep.Name, "kind", h.kind, "error", err)
	}
	// Moved: the relay returns and its owner closes our copies (a close,
	// not a shutdown: the peers see nothing). Otherwise it carries on.
	h.r.Release(err == nil)
	return err == nil
}

func (ep *HTTPEntryPoint) moveIdle(send handoff.Send, nc net.Conn) bool {
	f, err := handoff.Dup(nc)
	if err != nil {
		return false
	}
	defer handoff.CloseFiles(f)
	m := handoff.Meta{EntryPoint: ep.Name, Client: remoteString(nc.RemoteAddr()), DelayLeft: -1}
	return send(handoff.KindIdleHTTP1, m.Marshal(), f) == nil
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
	e, ok := ep.tcpConns.add(pc)
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
