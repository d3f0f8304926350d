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
	return &proxyproto.Listener{
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
	}, nil
}
