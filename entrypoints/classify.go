package entrypoints

import (
	ctls "crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// The classifier places each accepted connection on a protocol server.
// PROXY protocol is read by the listener wrapper (proxyprotocol.go); then
// a first read (peek.go) tells TLS from clear text and a ClientHello is
// parsed for server name and ALPN; then the rules below are tried in
// order, the first that takes the connection wins.

// peeked is what the classifier learnt from a connection's first bytes.
type peeked struct {
	cur   *Routing
	conn  *prefixConn // replays what was read
	info  tcpmux.Conn // client address; TLS: server name, ALPN
	first []byte      // the bytes read so far
	tlcp  bool        // a TLCP ClientHello (GB/T 38636, record version 0x0101)
}

// classifyRule recognises connections for one server. take returns the
// server and the connection it must read (a TLS rule completes the
// handshake), nil when the rule does not apply, or an error that closes
// the connection.
type classifyRule struct {
	name string
	take func(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error)
}

// classifyRules, in order. TLCP (GB/T 38636) is told from TLS by its
// record version before "tls" sees it; a TCP router takes either.
var classifyRules = []classifyRule{
	{"tcp-router", takeTCPRouter},
	{"h2c-prior-knowledge", takeH2C},
	{"http1", takeHTTP1},
	{"tlcp", takeTLCP},
	{"tls", takeTLS},
}

// takeTCPRouter: a TCP router matches (server name, ALPN, client
// address, MQTT CONNECT); TLS is terminated here unless passed through.
// A router terminating TLS that routes on the MQTT CONNECT reads it after
// the handshake (mqtt.go).
func takeTCPRouter(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error) {
	var r *tcpmux.Route
	pending := false
	if p.info.TLS {
		r, pending = p.cur.TCP.MatchTLS(&p.info)
	} else {
		r = p.cur.TCP.Match(&p.info)
	}
	if r == nil {
		return nil, classified{}, nil
	}
	if r.TLS && !r.Passthrough {
		var tc net.Conn
		var err error
		if p.tlcp {
			tc, err = ep.handshakeTLCP(p.conn, p.cur.TLS.TLCPFor(r.Config))
		} else {
			tc, err = ep.handshake(p.conn, r.Config)
		}
		if err != nil {
			return nil, classified{}, fmt.Errorf("router %s: %w", r.Name, err)
		}
		if pending || r.NeedsConnect() {
			pc, r, err := ep.readTLSConnect(tc, &p.info, r, pending)
			if err != nil {
				return nil, classified{}, err
			}
			return ep.tcp, classified{conn: pc, route: r}, nil
		}
		_ = tc.SetDeadline(time.Time{})
		return ep.tcp, classified{conn: tc, route: r}, nil
	}
	return ep.tcp, classified{conn: p.conn, route: r}, nil
}

// takeH2C: a clear connection opening with the HTTP/2 preface (h2c with
// prior knowledge); a prefix is enough, the server checks the rest.
func takeH2C(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error) {
	if p.info.TLS || len(p.first) < 3 || string(p.first[:3]) != "PRI" {
		return nil, classified{}, nil
	}
	return ep.h2, classified{conn: p.conn}, nil
}

// takeHTTP1: everything else in clear text is HTTP/1.x.
func takeHTTP1(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error) {
	if p.info.TLS {
		return nil, classified{}, nil
	}
	return h1Server{ep.h1}, classified{conn: p.conn}, nil
}

// takeTLCP terminates TLCP with the SM2 dual certificate for the server
// name when its TLS options enable TLCP; HTTP/1.x is served on it (TLCP
// has no ALPN).
func takeTLCP(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error) {
	if !p.tlcp {
		return nil, classified{}, nil
	}
	tc, err := ep.handshakeTLCP(p.conn, p.cur.TLS.TLCPFor(p.cur.TLS.Select(p.info.SNI)))
	if err != nil {
		return nil, classified{}, err
	}
	_ = tc.SetDeadline(time.Time{})
	return h1Server{ep.h1}, classified{conn: tc}, nil
}

// tlcpRefusal is a fatal handshake_failure alert in a TLCP record: the
// answer to a TLCP client where TLCP is not enabled.
var tlcpRefusal = []byte{21, 1, 1, 0, 2, 2, 40}

// handshakeTLCP runs a server TLCP handshake bounded like a TLS one; the
// deadline stays armed for the caller to lift.
func (ep *HTTPEntryPoint) handshakeTLCP(c net.Conn, cfg *tlcp.Config) (*tlcp.Conn, error) {
	if cfg == nil {
		_ = c.SetWriteDeadline(deadline(ep.peekTimeout))
		_, _ = c.Write(tlcpRefusal)
		return nil, errors.New("tlcp: not enabled in the TLS options for this server name")
	}
	tc := tlcp.Server(c, cfg)
	_ = tc.SetDeadline(deadline(ep.peekTimeout))
	if err := tc.Handshake(); err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("tlcp handshake: %w", err)
	}
	return tc, nil
}

// takeTLS terminates TLS with the certificate for the server name; ALPN
// picks HTTP/2 or HTTP/1.x.
func takeTLS(ep *HTTPEntryPoint, p *peeked) (connServer, classified, error) {
	cfg := p.cur.TLS.Select(p.info.SNI)
	if cfg == nil {
		cfg = fallbackTLS()
	}
	tc, err := ep.handshake(p.conn, cfg)
	if err != nil {
		return nil, classified{}, err
	}
	_ = tc.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		return ep.h2, classified{conn: tc}, nil
	}
	return h1Server{ep.h1}, classified{conn: tc}, nil
}

// handshake runs a server TLS handshake bounded like a first request;
// the deadline stays armed (an MQTT CONNECT is read within it), the
// caller lifts it.
func (ep *HTTPEntryPoint) handshake(c net.Conn, cfg *ctls.Config) (*ctls.Conn, error) {
	tc := ctls.Server(c, cfg)
	_ = tc.SetDeadline(deadline(ep.peekTimeout))
	if err := tc.Handshake(); err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// errNotClassified: no rule took the connection (cannot happen with the
// rules above: "http1" and "tls" take everything).
var errNotClassified = errors.New("no protocol server for this connection")

// serveConn registers one accepted connection, classifies it and hands it
// to its server. Classifying has a frame of its own, gone by the time the
// server runs: a connection's goroutine may wait for hours inside the
// server (a stream, a tunnel), and the runtime keeps its stack at four
// times the depth in use.
func (ep *HTTPEntryPoint) serveConn(c net.Conn) {
	if srv, cc := ep.classify(c); srv != nil {
		srv.serve(cc)
	}
}

// classify registers c and picks its server: a first read tells TLS from
// clear text; a TLS ClientHello is parsed (not consumed) for its server
// name and ALPN; the rules pick the server. nil: c was closed.
//
//go:noinline
func (ep *HTTPEntryPoint) classify(c net.Conn) (connServer, classified) {
	if ep.closed.Load() {
		_ = c.Close() // accepted as the entrypoint shut down
		return nil, classified{}
	}
	if l := ep.ipLimit; l != nil {
		ip := addrIP(c.RemoteAddr())
		if !l.acquire(ip) {
			slog.Debug("connection refused: too many from this address", "entrypoint", ep.Name, "remote", ip.String(), "maxConnsPerIP", l.max)
			_ = c.Close()
			return nil, classified{}
		}
		c = &limitedConn{Conn: c, l: l, ip: ip}
	}
	e := connreg.NewEntry(c, connreg.ProtoUnknown, connreg.StateNew)
	if !ep.reg.Add(e) {
		_ = c.Close() // shutting down
		return nil, classified{}
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
			return ep.tcp, classified{conn: &prefixConn{Conn: c}, entry: e, route: r}
		}
	}

	p, err := ep.peek(c, cur)
	if err != nil {
		slog.Debug("connection closed before routing", "entrypoint", ep.Name, "error", err)
		_ = c.Close()
		ep.reg.Remove(e)
		return nil, classified{}
	}
	for _, rule := range classifyRules {
		srv, cc, err := rule.take(ep, p)
		if err != nil {
			slog.Debug("connection closed while classifying", "entrypoint", ep.Name, "rule", rule.name, "remote", c.RemoteAddr().String(), "error", err)
			_ = c.Close()
			ep.reg.Remove(e)
			return nil, classified{}
		}
		if srv != nil {
			cc.entry = e
			return srv, cc
		}
	}
	slog.Debug("connection closed", "entrypoint", ep.Name, "error", errNotClassified)
	_ = c.Close()
	ep.reg.Remove(e)
	return nil, classified{}
}

// peek waits for the client's first bytes and reads them; a TLS
// ClientHello is read whole and parsed.
func (ep *HTTPEntryPoint) peek(c net.Conn, cur *Routing) (*peeked, error) {
	_ = c.SetReadDeadline(deadline(ep.peekTimeout))
	// Take the peek buffer only once the client has sent something, so an
	// idle connection (a browser's speculative one) holds no buffer.
	if err := waitReadable(c); err != nil {
		return nil, err
	}
	bp := peekPool.Get().(*[]byte)
	buf := (*bp)[:peekSize]
	n, err := c.Read(buf)
	*bp = buf[:n]
	if n == 0 {
		peekPool.Put(bp)
		if err == nil {
			err = errors.New("no data")
		}
		return nil, err
	}
	p := &peeked{cur: cur, info: tcpmux.Conn{IP: addrIP(c.RemoteAddr())}}
	if buf[0] == 0x16 { // TLS handshake record
		// Not a ClientHello after all (or cut short): the HTTP side
		// answers what it can.
		if h, ok := readHello(c, bp); ok {
			p.info.TLS = true
			p.info.SNI = normalizeSNI(h.sni)
			p.info.ALPN = h.alpn
		}
		// TLCP shares TLS's ClientHello layout, so SNI came from above.
		if p.info.TLS {
			p.tlcp, _ = tlcp.Sniff(*bp)
		}
	}
	if !p.info.TLS && cur.TCP.PlainMQTT() && mqtt.LooksLikeConnect(*bp) {
		// MQTT routers: the whole CONNECT, within the same deadline.
		cn, err := readConnect(c, bp)
		if err != nil {
			ep.refuseMQTT(&prefixConn{Conn: c, buf: bp, data: *bp}, "", err)
			return nil, fmt.Errorf("mqtt CONNECT refused: %w", err)
		}
		p.info.MQTT = cn
	}
	_ = c.SetReadDeadline(time.Time{})
	p.conn = &prefixConn{Conn: c, buf: bp, data: *bp, mqtt: p.info.MQTT}
	p.first = *bp
	return p, nil
}
