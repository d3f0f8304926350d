package entrypoints

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// withProxyProtocol reads PROXY protocol (v1 and v2) headers: from
// trusted peers (or any peer with insecure) the header's addresses
// replace the connection's; from others a header is ignored, as Traefik.
func withProxyProtocol(ln net.Listener, cfg *static.ProxyConfig) (net.Listener, error) {
	var trusted []netip.Prefix
	for _, s := range cfg.TrustedIPs {
		p, err := rules.ParseIPOrCIDR(s)
		if err != nil {
			return ln, fmt.Errorf("trustedIPs: %w", err)
		}
		trusted = append(trusted, p)
	}
	insecure := cfg.Insecure
	return ppListener{&proxyproto.Listener{
		Listener:          ln,
		ReadHeaderTimeout: 10 * time.Second,
		ReadBufferSize:    ppBufferSize,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if insecure {
				return proxyproto.USE, nil
			}
			ip := addrIP(o.Upstream)
			for _, p := range trusted {
				if p.Contains(ip) {
					return proxyproto.USE, nil
				}
			}
			return proxyproto.IGNORE, nil
		},
	}}, nil
}

// ppListener hands out connections whose RemoteAddr is never nil.
type ppListener struct{ *proxyproto.Listener }

func (l ppListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if pc, ok := c.(*proxyproto.Conn); ok && err == nil {
		return &ppConn{Conn: pc}, nil
	}
	return c, err
}

// ppBufferSize is the buffer go-proxyproto reads the header with; what
// follows the header in it is returned by the next reads.
const ppBufferSize = 256

// ppConn: go-proxyproto reports a nil RemoteAddr for a v2 PROXY header
// with an unspecified transport (family and protocol bytes 0x20, say);
// everything that logs or forwards the address would crash on it (found
// by FuzzProxyProtocol). Such a header carries no address: keep the
// peer's, as the PROXY protocol spec allows.
type ppConn struct {
	*proxyproto.Conn
	drained atomic.Bool // nothing is left in go-proxyproto's header buffer
}

func (c *ppConn) RemoteAddr() net.Addr {
	if a := c.Conn.RemoteAddr(); a != nil {
		return a
	}
	return c.Raw().RemoteAddr()
}

// Read notes when go-proxyproto's buffer is empty for good: a read of at
// least its size takes all it holds (and once empty it is dropped).
func (c *ppConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if len(b) >= ppBufferSize && (err == nil || n > 0) {
		c.drained.Store(true)
	}
	return n, err
}

// Drained lets a relay read the socket itself once the header and the
// bytes read with it are consumed (relay.Drainer): an idle TCP router's
// connection or tunnel then holds no relay buffer while it waits.
func (c *ppConn) Drained() (net.Conn, bool) { return c.Raw(), c.drained.Load() }
