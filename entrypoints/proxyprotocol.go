package entrypoints

import (
	"fmt"
	"net"
	"net/netip"
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
		return ppConn{pc}, nil
	}
	return c, err
}

// ppConn: go-proxyproto reports a nil RemoteAddr for a v2 PROXY header
// with an unspecified transport (family and protocol bytes 0x20, say);
// everything that logs or forwards the address would crash on it (found
// by FuzzProxyProtocol). Such a header carries no address: keep the
// peer's, as the PROXY protocol spec allows.
type ppConn struct{ *proxyproto.Conn }

func (c ppConn) RemoteAddr() net.Addr {
	if a := c.Conn.RemoteAddr(); a != nil {
		return a
	}
	return c.Raw().RemoteAddr()
}
