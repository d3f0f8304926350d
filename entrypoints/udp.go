package entrypoints

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// UDPPicker picks the backend address of a new client session.
type UDPPicker interface {
	NextAddr() string
}

type pickerBox struct{ p UDPPicker }

// UDPEntryPoint forwards datagrams: each client address is a session stuck
// to one backend until it has been idle for udp.timeout.
type UDPEntryPoint struct {
	Name   string
	Config *static.EntryPoint

	current atomic.Pointer[pickerBox]
	pc      net.PacketConn
	timeout time.Duration

	mu       sync.Mutex
	sessions map[string]*udpSession
	wg       sync.WaitGroup
	closed   atomic.Bool
	stop     chan struct{} // closed by Shutdown
}

type udpSession struct {
	backend *net.UDPConn
	last    atomic.Int64 // unix nanos of the last datagram either way
}

// NewUDP prepares a UDP entrypoint.
func NewUDP(name string, cfg *static.EntryPoint) *UDPEntryPoint {
	ep := &UDPEntryPoint{Name: name, Config: cfg, sessions: map[string]*udpSession{}, stop: make(chan struct{})}
	ep.current.Store(&pickerBox{})
	ep.timeout = 3 * time.Second
	if cfg.UDP != nil && cfg.UDP.Timeout > 0 {
		ep.timeout = time.Duration(cfg.UDP.Timeout)
	}
	return ep
}

// SetPicker swaps the service; existing sessions keep their backend.
func (ep *UDPEntryPoint) SetPicker(p UDPPicker) { ep.current.Store(&pickerBox{p: p}) }

// Start listens and forwards in the background.
func (ep *UDPEntryPoint) Start(ctx context.Context) error {
	pc, err := ListenPacket(ctx, ep.Name, ep.Config)
	if err != nil {
		return err
	}
	ep.pc = pc
	ep.wg.Add(1)
	go ep.readLoop()
	slog.Info("entrypoint started", "entrypoint", ep.Name, "address", pc.LocalAddr().String()+"/udp")
	return nil
}

// Addr is the bound address.
func (ep *UDPEntryPoint) Addr() net.Addr {
	if ep.pc == nil {
		return nil
	}
	return ep.pc.LocalAddr()
}

func (ep *UDPEntryPoint) readLoop() {
	defer ep.wg.Done()
	select {
	case <-acceptGate(): // held in a new process until its first configuration (handover.go)
	case <-ep.stop:
		return
	}
	buf := make([]byte, 64<<10)
	for {
		n, from, err := ep.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		key := from.String()
		ep.mu.Lock()
		s := ep.sessions[key]
		ep.mu.Unlock()
		if s == nil {
			if s = ep.newSession(key, from); s == nil {
				continue
			}
		}
		s.last.Store(time.Now().UnixNano())
		if _, err := s.backend.Write(buf[:n]); err != nil {
			slog.Debug("udp: write to backend", "entrypoint", ep.Name, "error", err)
		}
	}
}

func (ep *UDPEntryPoint) newSession(key string, client net.Addr) *udpSession {
	p := ep.current.Load().p
	if p == nil {
		return nil
	}
	addr := p.NextAddr()
	if addr == "" {
		return nil
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		slog.Debug("udp: resolve backend", "entrypoint", ep.Name, "address", addr, "error", err)
		return nil
	}
	bc, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		slog.Debug("udp: dial backend", "entrypoint", ep.Name, "address", addr, "error", err)
		return nil
	}
	s := &udpSession{backend: bc}
	s.last.Store(time.Now().UnixNano())
	ep.mu.Lock()
	ep.sessions[key] = s
	ep.mu.Unlock()
	ep.wg.Add(1)
	go ep.replies(key, client, s)
	return s
}

// replies copies the backend's datagrams back to the client until the
// session has been idle for the timeout.
func (ep *UDPEntryPoint) replies(key string, client net.Addr, s *udpSession) {
	defer ep.wg.Done()
	defer func() {
		ep.mu.Lock()
		if ep.sessions[key] == s {
			delete(ep.sessions, key)
		}
		ep.mu.Unlock()
		_ = s.backend.Close()
	}()
	rc, err := s.backend.SyscallConn()
	if err != nil {
		return
	}
	for {
		_ = s.backend.SetReadDeadline(time.Unix(0, s.last.Load()).Add(ep.timeout))
		// Read straight into a pooled buffer once a datagram is there, so
		// an idle session holds no 64 KiB buffer.
		var bp *[]byte
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			bp = udpBufPool.Get().(*[]byte)
			n, _, rerr = unix.Recvfrom(int(fd), *bp, unix.MSG_DONTWAIT)
			if rerr == unix.EAGAIN || rerr == unix.EINTR {
				udpBufPool.Put(bp)
				bp = nil
				return false
			}
			return true
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			if bp != nil {
				udpBufPool.Put(bp)
			}
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() && !ep.closed.Load() {
				if time.Since(time.Unix(0, s.last.Load())) < ep.timeout {
					continue // traffic arrived meanwhile
				}
			}
			if errors.Is(err, unix.ECONNREFUSED) && !ep.closed.Load() {
				continue // backend port closed for now; keep the session
			}
			return
		}
		s.last.Store(time.Now().UnixNano())
		_, werr := ep.pc.WriteTo((*bp)[:n], client)
		udpBufPool.Put(bp)
		if werr != nil {
			return
		}
	}
}

var udpBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// Shutdown stops reading and closes every session.
func (ep *UDPEntryPoint) Shutdown(context.Context) error {
	if ep.pc == nil {
		return nil
	}
	if !ep.closed.Swap(true) {
		close(ep.stop)
	}
	_ = ep.pc.Close()
	ep.mu.Lock()
	for _, s := range ep.sessions {
		_ = s.backend.SetReadDeadline(time.Now())
	}
	ep.mu.Unlock()
	ep.wg.Wait()
	return nil
}
