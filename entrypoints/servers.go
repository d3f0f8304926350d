package entrypoints

import (
	"context"
	"net"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/entrypoints/http1"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
)

// connServer is a protocol server of an entrypoint: the classifier
// (classify.go) hands it the connections it recognised, each with its
// registry entry. Adding a protocol is one connServer and one rule.
type connServer interface {
	// serve serves cc to its end. It owns cc.entry from here: it sets the
	// protocol and reports state changes, and the entry is removed once
	// the connection is closed — which may be after serve returns (the
	// HTTP/1 engine parks idle connections without a goroutine).
	serve(cc classified)
	stopper
}

// stopper is the shutdown side of a protocol server (HTTP/3, which
// accepts from its own socket, has only this side).
type stopper interface {
	// shutdown takes no new connection and ends its own gracefully
	// (GOAWAY, closing idle ones), until ctx ends; then it closes the rest
	// and returns ctx's error.
	shutdown(ctx context.Context) error
	// closeAll closes every connection now.
	closeAll()
}

// classified is a connection the classifier has placed.
type classified struct {
	conn  net.Conn       // what the server reads: the peeked bytes replayed, TLS terminated
	entry *connreg.Entry // added at accept
	route *tcpmux.Route  // the TCP router that took it (tcpServer)
}

// h1Server serves HTTP/1.x with the engine (entrypoints/http1); the
// engine reports each connection's state into the registry itself.
type h1Server struct{ *http1.Server }

func (s h1Server) serve(cc classified) { s.ServeConnEntry(cc.conn, cc.entry) }

func (s h1Server) shutdown(ctx context.Context) error { return s.Shutdown(ctx) }

func (s h1Server) closeAll() { _ = s.Close() }

// tcpServer serves the connections TCP routers take: the route's handler
// (services/tcpsvc) runs to the end of the connection. It has nothing to
// tell its connections on shutdown: the registry waits for them.
type tcpServer struct{ reg *connreg.Registry }

func (s tcpServer) serve(cc classified) {
	e := cc.entry
	e.SetProtocol(connreg.ProtoTCP)
	e.SetState(connreg.StateTCP)
	if pc, ok := cc.conn.(*prefixConn); ok {
		pc.router = cc.route.Name
		e.SetOwner(pc) // the hand-off finds the relay through it
	}
	defer s.reg.Remove(e)
	cc.route.Handler.ServeTCP(cc.conn)
}

func (tcpServer) shutdown(context.Context) error { return nil }

func (s tcpServer) closeAll() {
	s.reg.Range(func(e *connreg.Entry) bool {
		if e.Protocol() == connreg.ProtoTCP {
			_ = e.Conn().Close()
		}
		return true
	})
}

// Abort closes a TCP router's connection (connreg.Owner).
func (c *prefixConn) Abort() { _ = c.Close() }
