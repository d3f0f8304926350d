// Package tcphandler holds the interface of everything that serves a TCP
// connection: TCP services (services/tcpsvc), TCP middlewares and routers
// (routers/tcpmux, routers/builder), and the entrypoint handing them
// connections. It sits below all of them so that dependencies point down.
package tcphandler

import "net"

// Handler serves a connection and closes it when done.
type Handler interface {
	ServeTCP(c net.Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(net.Conn)

// ServeTCP calls f(c).
func (f HandlerFunc) ServeTCP(c net.Conn) { f(c) }
