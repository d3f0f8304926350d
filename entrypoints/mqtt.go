package entrypoints

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
)

// readConnect completes an MQTT CONNECT whose first bytes are in *bp,
// reading from c until the whole packet is there, and parses it. The
// bytes stay in *bp (and anything the client sent after the CONNECT) to
// be replayed to the backend. Bounded by mqtt.MaxConnectSize and by c's
// read deadline (the entrypoint's readTimeout).
func readConnect(c net.Conn, bp *[]byte) (*mqtt.Connect, error) {
	for {
		buf := *bp
		n, err := mqtt.Frame(buf)
		if err != nil {
			return nil, err
		}
		if n > 0 && len(buf) >= n {
			return mqtt.Parse(buf[:n])
		}
		if len(buf) == cap(buf) {
			// Grow once to the packet's size when known (rare: a
			// CONNECT over the 4 KiB peek buffer).
			want := max(n, 2*cap(buf))
			nb := make([]byte, len(buf), want)
			copy(nb, buf)
			buf = nb
		}
		k, err := c.Read(buf[len(buf):cap(buf)])
		*bp = buf[:len(buf)+k]
		if err != nil && k == 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// refuseMQTT ends a connection whose CONNECT is refused, with the CONNACK
// its version expects when there is one, and logs why.
func (ep *HTTPEntryPoint) refuseMQTT(c net.Conn, router string, err error) {
	level, reason := byte(0), mqtt.ReasonMalformed
	var e *mqtt.Error
	if errors.As(err, &e) {
		level, reason = e.Level, e.Reason
	}
	slog.Debug("mqtt: connection refused", "entrypoint", ep.Name, "remote", c.RemoteAddr().String(),
		"router", router, "version", mqtt.VersionName(level), "connack", mqtt.Connack(level, reason) != nil, "reason", err.Error())
	mqtt.Refuse(c, level, reason)
}

// readTLSConnect continues a TLS connection terminated for route r (its
// handshake done, the deadline still running) whose CONNECT is needed:
// read it, then, if the choice depended on it (pending), pick the route
// again among those terminating with the same TLS options. It returns
// the connection replaying the CONNECT and the route; an error means the
// connection was refused (and closed).
func (ep *HTTPEntryPoint) readTLSConnect(tc net.Conn, info *tcpmux.Conn, r *tcpmux.Route, pending bool) (*prefixConn, *tcpmux.Route, error) {
	bp := peekPool.Get().(*[]byte)
	buf := (*bp)[:peekSize]
	n, err := tc.Read(buf)
	*bp = buf[:n]
	pc := &prefixConn{Conn: tc, buf: bp, data: *bp}
	if n == 0 {
		_ = pc.Close()
		return nil, nil, fmt.Errorf("mqtt: connection closed before CONNECT (router %s): %w", r.Name, err)
	}
	if mqtt.LooksLikeConnect(*bp) {
		cn, err := readConnect(tc, bp)
		if err != nil {
			pc.data = *bp
			ep.refuseMQTT(pc, r.Name, err)
			return nil, nil, fmt.Errorf("mqtt CONNECT refused (router %s): %w", r.Name, err)
		}
		info.MQTT = cn
	}
	pc.data, pc.mqtt = *bp, info.MQTT
	if pending {
		cfg := r.Config
		if r = ep.current.Load().TCP.MatchTerminated(info, cfg); r == nil {
			_ = pc.Close()
			return nil, nil, fmt.Errorf("mqtt: no TCP router for this connection after TLS (sni %q, CONNECT read: %v)", info.SNI, info.MQTT != nil)
		}
	}
	_ = tc.SetDeadline(time.Time{})
	return pc, r, nil
}
