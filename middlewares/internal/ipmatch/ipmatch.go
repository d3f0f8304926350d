// Package ipmatch holds what the IP-based middlewares share: a set of
// source ranges, the ipStrategy that picks the client IP of a request, and
// the sourceCriterion that names the client for limits.
package ipmatch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Ranges is a set of IPs and CIDR ranges, parsed once.
type Ranges struct {
	prefixes []netip.Prefix
}

// NewRanges parses IPs ("10.0.0.1", "::1") and CIDRs ("10.0.0.0/8").
func NewRanges(list []string) (*Ranges, error) {
	r := &Ranges{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("parsing CIDR %q: %w", s, err)
			}
			r.prefixes = append(r.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("parsing IP %q: %w", s, err)
		}
		a = a.Unmap()
		r.prefixes = append(r.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return r, nil
}

// Len is the number of ranges.
func (r *Ranges) Len() int { return len(r.prefixes) }

// Contains reports whether a is in one of the ranges.
func (r *Ranges) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ContainsString parses s (an IP, optionally with a zone or a port) and
// reports whether it is in the ranges; unparsable input is not.
func (r *Ranges) ContainsString(s string) bool {
	a, ok := ParseIP(s)
	return ok && r.Contains(a)
}

// ParseIP parses an IP, accepting "ip:port" and "[ip]:port" forms.
func ParseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// Strategy picks the client IP of a request: the connection's peer by
// default, the depth-th X-Forwarded-For entry from the right with depth, or
// the right-most entry not in excludedIPs.
type Strategy struct {
	depth      int
	excluded   *Ranges
	ipv6Subnet int // 0: none
}

// NewStrategy validates s (nil means the connection's peer).
func NewStrategy(s *dynamic.IPStrategy) (*Strategy, error) {
	st := &Strategy{}
	if s == nil {
		return st, nil
	}
	if s.Depth < 0 {
		return nil, fmt.Errorf("ipStrategy.depth must be positive, got %d", s.Depth)
	}
	st.depth = s.Depth
	if len(s.ExcludedIPs) > 0 {
		ex, err := NewRanges(s.ExcludedIPs)
		if err != nil {
			return nil, fmt.Errorf("ipStrategy.excludedIPs: %w", err)
		}
		st.excluded = ex
	}
	// ipv6Subnet outside [0,128] is ignored, as Traefik does; it applies to
	// the depth and peer-address strategies, not to excludedIPs.
	if s.IPv6Subnet != nil && *s.IPv6Subnet > 0 && *s.IPv6Subnet <= 128 && (st.depth > 0 || st.excluded == nil) {
		st.ipv6Subnet = *s.IPv6Subnet
	}
	return st, nil
}

// ClientIP returns the chosen IP as text ("" when the strategy finds none,
// e.g. fewer X-Forwarded-For entries than depth).
func (s *Strategy) ClientIP(r *http.Request) string {
	var ip string
	switch {
	case s.depth > 0:
		ip = nthFromRight(r.Header.Values("X-Forwarded-For"), s.depth)
	case s.excluded != nil:
		ip = firstNotExcluded(r.Header.Values("X-Forwarded-For"), s.excluded)
	default:
		ip = r.RemoteAddr
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
	}
	if s.ipv6Subnet > 0 && strings.Contains(ip, ":") {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			if p, err := a.Prefix(s.ipv6Subnet); err == nil {
				return p.Addr().String()
			}
		}
	}
	return ip
}

// ClientAddr is ClientIP parsed; false when there is none or it is not an IP.
// The default strategy parses the peer address without going through a string.
func (s *Strategy) ClientAddr(r *http.Request) (netip.Addr, bool) {
	if s.depth == 0 && s.excluded == nil && s.ipv6Subnet == 0 {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			return ap.Addr().Unmap(), true
		}
	}
	return ParseIP(s.ClientIP(r))
}

// forEachFromRight calls f on each comma-separated entry of the headers,
// right-most first, until f returns true.
func forEachFromRight(values []string, f func(string) bool) {
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			j := strings.LastIndexByte(v, ',')
			if f(strings.TrimSpace(v[j+1:])) {
				return
			}
			if j < 0 {
				break
			}
			v = v[:j]
		}
	}
}

func nthFromRight(values []string, n int) string {
	var out string
	k := 0
	forEachFromRight(values, func(s string) bool {
		k++
		if k == n {
			out = s
			return true
		}
		return false
	})
	return out
}

func firstNotExcluded(values []string, ex *Ranges) string {
	var out string
	forEachFromRight(values, func(s string) bool {
		if a, ok := ParseIP(s); ok && ex.Contains(a) {
			return false
		}
		out = s
		return true
	})
	return out
}

// Source names the client of a request for rate and in-flight limits.
type Source struct {
	ip     *Strategy
	header string
	host   bool
}

// NewSource validates c; nil (or all empty) means the client IP.
func NewSource(c *dynamic.SourceCriterion) (*Source, error) {
	if c == nil {
		return &Source{ip: &Strategy{}}, nil
	}
	n := 0
	if c.IPStrategy != nil {
		n++
	}
	if c.RequestHeaderName != "" {
		n++
	}
	if c.RequestHost {
		n++
	}
	if n > 1 {
		return nil, errors.New("sourceCriterion: ipStrategy, requestHeaderName and requestHost are mutually exclusive")
	}
	if n == 0 {
		return &Source{ip: &Strategy{}}, nil
	}
	if c.IPStrategy != nil {
		st, err := NewStrategy(c.IPStrategy)
		if err != nil {
			return nil, fmt.Errorf("sourceCriterion: %w", err)
		}
		return &Source{ip: st}, nil
	}
	return &Source{header: http.CanonicalHeaderKey(c.RequestHeaderName), host: c.RequestHost}, nil
}

// Key returns the source of r. As in Traefik, a criterion that finds
// nothing (no such header, too few X-Forwarded-For entries) gives "": all
// such requests share one source. The error is for future criteria.
func (s *Source) Key(r *http.Request) (string, error) {
	switch {
	case s.ip != nil:
		return s.ip.ClientIP(r), nil
	case s.header != "":
		return r.Header.Get(s.header), nil
	case s.host:
		return r.Host, nil
	}
	return "", nil
}
