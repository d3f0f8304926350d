// Package ipallowlist filters TCP connections by the peer address: the
// ipAllowList and ipDenyList TCP middlewares.
package ipallowlist

import (
	"errors"
	"fmt"
	"net"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/ipmatch"
)

// Filter decides whether a connection may pass.
type Filter struct {
	ranges *ipmatch.Ranges
	deny   bool
}

// New validates cfg; deny makes it a deny list.
func New(cfg *dynamic.TCPIPAllowList, deny bool) (*Filter, error) {
	if cfg == nil || len(cfg.SourceRange) == 0 {
		return nil, errors.New("sourceRange is empty, IPs are not filtered")
	}
	r, err := ipmatch.NewRanges(cfg.SourceRange)
	if err != nil {
		return nil, fmt.Errorf("sourceRange: %w", err)
	}
	if r.Len() == 0 {
		return nil, errors.New("sourceRange is empty, IPs are not filtered")
	}
	return &Filter{ranges: r, deny: deny}, nil
}

// Allow reports whether conn's peer may pass. The caller closes a refused
// connection.
func (f *Filter) Allow(conn net.Conn) bool {
	return f.AllowAddr(conn.RemoteAddr())
}

// AllowAddr is Allow on an address.
func (f *Filter) AllowAddr(addr net.Addr) bool {
	if addr == nil {
		return false
	}
	a, ok := ipmatch.ParseIP(addr.String())
	if !ok {
		return false
	}
	return f.ranges.Contains(a) != f.deny
}
