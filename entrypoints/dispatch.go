package entrypoints

import (
	ctls "crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
)

// acceptLoop accepts until the listener closes; each connection is routed
// on its own goroutine so a slow client never blocks the others.
func (ep *HTTPEntryPoint) acceptLoop() {
	var (
		backoff    time.Duration
		lastLog    time.Time
		suppressed int
	)
	<-acceptGate() // held in a new process until its first configuration (handover.go)
	for {
		c, err := ep.ln.Accept()
		if err != nil {
			if ep.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE, ENFILE and friends: the pending connection stays
			// in the backlog, so retrying at once would spin. Back off
			// (5 ms doubling to 1 s, as net/http) and log once per
			// interval with how many errors were not logged.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if now := time.Now(); now.Sub(lastLog) >= acceptLogEvery {
				slog.Warn("accept error", "entrypoint", ep.Name, "error", err, "retry_in", backoff.String(), "suppressed", suppressed)
				lastLog, suppressed = now, 0
			} else {
				suppressed++
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go ep.serveConn(c)
	}
}

// acceptLogEvery spaces the accept-error log lines while a condition such
// as fd exhaustion lasts.
const acceptLogEvery = 10 * time.Second

// serveConn routes one connection: a first read tells TLS from clear
// text; a TLS ClientHello is parsed (not consumed) for its server name and
// ALPN; TCP routers are tried first, the HTTP side takes the rest.
func (ep *HTTPEntryPoint) serveConn(c net.Conn) {
	if ep.closed.Load() {
		_ = c.Close() // accepted as the entrypoint shut down
		return
	}
	if l := ep.ipLimit; l != nil {
		ip := addrIP(c.RemoteAddr())
		if !l.acquire(ip) {
			slog.Debug("connection refused: too many from this address", "entrypoint", ep.Name, "remote", ip.String(), "maxConnsPerIP", l.max)
			_ = c.Close()
			return
		}
		c = &limitedConn{Conn: c, l: l, ip: ip}
	}
	cur := ep.current.Load()
	tcp := cur.TCP

	// A TCP-only entrypoint whose routers cannot need the first bytes
	// (server-first protocols) is routed without waiting for the client.
	if cur.TCPOnly && tcp.HasPlain() && !tcp.HasTLS() && !tcp.PlainMQTT() {
		info := tcpmux.Conn{IP: addrIP(c.RemoteAddr())}
		if r := tcp.Match(&info); r != nil {
			// Wrapped (nothing buffered) so that its relay can be
			// found for an upgrade hand-off.
			pc := &prefixConn{Conn: c}
			pc.router = r.Name
			ep.serveTCP(r.Handler, pc)
			return
		}
	}

	_ = c.SetReadDeadline(deadline(ep.peekTimeout))
	// Take the peek buffer only once the client has sent something, so an
	// idle connection (a browser's speculative one) holds no buffer.
	if err := waitReadable(c); err != nil {
		slog.Debug("connection closed before routing", "entrypoint", ep.Name, "error", err)
		_ = c.Close()
		return
	}
	bp := peekPool.Get().(*[]byte)
	buf := (*bp)[:peekSize]
	n, err := c.Read(buf)
	*bp = buf[:n]
	if n == 0 {
		peekPool.Put(bp)
		if err != nil {
			slog.Debug("connection closed before routing", "entrypoint", ep.Name, "error", err)
		}
		_ = c.Close()
		return
	}
	isTLS := buf[0] == 0x16 // handshake record
	info := tcpmux.Conn{IP: addrIP(c.RemoteAddr()), TLS: isTLS}
	if isTLS {
		h, ok := readHello(c, bp)
		if !ok {
			// Not a ClientHello after all (or cut short): let the HTTP
			// side answer what it can.
			isTLS = false
			info.TLS = false
		} else {
			info.SNI = normalizeSNI(h.sni)
			info.ALPN = h.alpn
		}
	}
	if !isTLS && tcp.PlainMQTT() && mqtt.LooksLikeConnect(*bp) {
		// MQTT routers: the whole CONNECT, within the same deadline.
		cn, err := readConnect(c, bp)
		if err != nil {
			pc := &prefixConn{Conn: c, buf: bp, data: *bp}
			ep.refuseMQTT(pc, "", err)
			return
		}
		info.MQTT = cn
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &prefixConn{Conn: c, buf: bp, data: *bp, mqtt: info.MQTT}

	var r *tcpmux.Route
	pending := false
	if isTLS {
		r, pending = tcp.MatchTLS(&info)
	} else {
		r = tcp.Match(&info)
	}
	if r != nil {
		if r.TLS && !r.Passthrough {
			tc := ctls.Server(pc, r.Config)
			_ = tc.SetDeadline(deadline(ep.peekTimeout))
			if err := tc.Handshake(); err != nil {
				slog.Debug("tls handshake", "entrypoint", ep.Name, "router", r.Name, "error", err)
				_ = tc.Close()
				return
			}
			if pending || r.NeedsConnect() {
				ep.serveTLSMQTT(tc, &info, r, pending)
				return
			}
			_ = tc.SetDeadline(time.Time{})
			ep.serveTCP(r.Handler, tc)
			return
		}
		pc.router = r.Name
		ep.serveTCP(r.Handler, pc)
		return
	}

	if !isTLS {
		// HTTP/2 with prior knowledge goes to net/http; HTTP/1.x to our
		// engine, on this goroutine.
		if isH2Preface(*bp) {
			ep.toHTTP2(pc)
			return
		}
		ep.h1.ServeConn(pc)
		return
	}
	cfg := cur.TLS.Select(info.SNI)
	if cfg == nil {
		cfg = fallbackTLS()
	}
	tc := ctls.Server(pc, cfg)
	_ = tc.SetDeadline(deadline(ep.peekTimeout))
	if err := tc.Handshake(); err != nil {
		slog.Debug("http: TLS handshake error", "entrypoint", ep.Name, "remote", c.RemoteAddr().String(), "error", err)
		_ = tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		ep.toHTTP2(tc)
		return
	}
	ep.h1.ServeConn(tc)
}

// toHTTP2 serves an HTTP/2 connection (h2 after ALPN, h2c with prior
// knowledge) on this goroutine to its end.
func (ep *HTTPEntryPoint) toHTTP2(c net.Conn) {
	raw := c
	if tc, ok := c.(*ctls.Conn); ok {
		raw = tc.NetConn()
	}
	ep.h2.serve(c, raw, nil, nil)
}

// isH2Preface: the client opened with HTTP/2's connection preface (h2c
// with prior knowledge); a prefix is enough, net/http checks the rest.
func isH2Preface(b []byte) bool {
	return len(b) >= 3 && string(b[:3]) == "PRI"
}

func (ep *HTTPEntryPoint) serveTCP(h tcpmux.Handler, c net.Conn) {
	if !ep.tcpConns.add(c) {
		_ = c.Close() // shutting down
		return
	}
	defer ep.tcpConns.remove(c)
	h.ServeTCP(c)
}

func addrIP(a net.Addr) netip.Addr {
	switch t := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func normalizeSNI(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// waitReadable blocks until c has data (or an error, or the read
// deadline) without consuming it: one MSG_PEEK of one byte, then the
// poller. Connections without a raw file descriptor return at once.
func waitReadable(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	// Park until readable; end of stream counts as readable (the read
	// that follows reports it).
	return rc.Read(func(fd uintptr) bool { return sockpeek.PeekFD(fd) != sockpeek.Empty })
}
