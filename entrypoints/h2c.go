package entrypoints

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"net/http"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-proxy/switchyard/entrypoints/http1"
)

// h2cUpgrade serves "Upgrade: h2c" requests (RFC 7540 §3.2) with HTTP/2 on
// the entrypoint's HTTP/2 server (same limits and flood guard as h2 and
// prior-knowledge h2c). Only plain HTTP/1 requests carrying both an Upgrade
// and an HTTP2-Settings header pay for the check.
//
// Unlike x/net's h2c handler, a request with a body is not upgraded (it
// would have to be buffered whole first): it is served over HTTP/1.1, as
// RFC 9110 §7.8 allows.
func (s *h2Server) h2cUpgrade(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.TLS == nil && r.Header["Upgrade"] != nil && r.Header["Http2-Settings"] != nil && s.upgrade(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// upgrade switches the connection to HTTP/2 and serves it to its end;
// false: the request is not an acceptable h2c upgrade, serve it as is.
func (s *h2Server) upgrade(w http.ResponseWriter, r *http.Request) bool {
	if !httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "h2c") ||
		!httpguts.HeaderValuesContainsToken(r.Header["Connection"], "HTTP2-Settings") {
		return false
	}
	vals := r.Header["Http2-Settings"]
	if len(vals) != 1 || r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return false
	}
	settings, err := base64.RawURLEncoding.DecodeString(vals[0])
	if err != nil || len(settings)%6 != 0 {
		return false
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	if _, err := rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"); err != nil {
		_ = conn.Close()
		return true
	}
	if err := rw.Flush(); err != nil {
		_ = conn.Close()
		return true
	}
	c := conn
	if rw.Reader.Buffered() > 0 {
		c = &bufConn{Conn: conn, r: rw.Reader}
	}
	// The request becomes stream 1. Its context ends with the HTTP/2
	// connection (the HTTP/1 request it came from is over), and the
	// upgrade headers are not forwarded.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	req := r.Clone(ctx)
	for _, k := range []string{"Upgrade", "Http2-Settings", "Connection"} {
		delete(req.Header, k)
	}
	req.Body = http.NoBody
	// The connection stays the HTTP/1 engine's (a tunnel, removed from
	// the registry when it closes), now speaking HTTP/2.
	s.serveH2(c, conn, req, settings, http1.EntryOf(conn))
	return true
}

// bufConn reads what the HTTP/1 engine had buffered before the socket.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if n := c.r.Buffered(); n > 0 {
			return c.r.Read(p[:min(len(p), n)])
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}
