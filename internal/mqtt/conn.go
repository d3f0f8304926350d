package mqtt

import (
	"io"
	"net"
	"time"
)

// Carrier is a connection that knows its client's CONNECT: the
// entrypoint's connection once it has read one for routing.
type Carrier interface {
	MQTTConnect() *Connect
}

// Of returns the CONNECT carried by c or by a connection it wraps
// (NetConn), or nil when none was read.
func Of(c net.Conn) *Connect {
	for i := 0; c != nil && i < 8; i++ {
		if m, ok := c.(Carrier); ok {
			if cn := m.MQTTConnect(); cn != nil {
				return cn
			}
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// Refuse ends c with the CONNACK that refuses a client of this level for
// reason, when its version has one, then closes it. After the CONNACK the
// write side is shut and the client's remaining bytes are discarded for
// up to a second: closing with unread bytes would reset the connection and
// could destroy the CONNACK before the client reads it.
func Refuse(c net.Conn, level byte, reason Reason) {
	if ack := Connack(level, reason); ack != nil {
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(ack); err == nil {
			if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(c, MaxConnectSize))
			}
		}
	}
	_ = c.Close()
}
