// Package forwardedheaders is the entrypoint-level handler that decides which
// X-Forwarded-* headers to trust and sets the ones a reverse proxy adds.
package forwardedheaders

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
)

// Managed headers (canonical form).
const (
	xForwardedFor      = "X-Forwarded-For"
	xForwardedProto    = "X-Forwarded-Proto"
	xForwardedHost     = "X-Forwarded-Host"
	xForwardedPort     = "X-Forwarded-Port"
	xForwardedServer   = "X-Forwarded-Server"
	xRealIP            = "X-Real-Ip"
	forwarded          = "Forwarded"
	connectionHeader   = "Connection"
	upgradeHeader      = "Upgrade"
	maxCanonicalLength = 128
)

// managed lists the headers only a trusted peer may set. Traefik's X- set, plus
// Forwarded.
var managed = map[string]bool{
	xForwardedFor: true, xForwardedProto: true, xForwardedHost: true, xForwardedPort: true,
	xForwardedServer: true, "X-Forwarded-Uri": true, "X-Forwarded-Method": true,
	"X-Forwarded-Prefix": true, "X-Forwarded-Scheme": true, "X-Forwarded-Tls-Client-Cert": true,
	"X-Forwarded-Tls-Client-Cert-Info": true, "X-Scheme": true, xRealIP: true,
}

// handler is built once per entrypoint; ServeHTTP only reads it.
type handler struct {
	insecure bool
	trusted  []netip.Prefix
	allowed  []string // canonical names that may stay listed in Connection
	hostname string
	next     http.Handler
}

// New returns the forwarded-headers handler in front of next. insecure trusts
// every client; otherwise only clients whose address is in trustedIPs (IPs or
// CIDRs) keep their forwarded headers. connection lists the Connection-named
// headers allowed through to the rest of the chain.
func New(insecure bool, trustedIPs []string, connection []string, next http.Handler) (http.Handler, error) {
	h := &handler{insecure: insecure, next: next}
	for _, s := range trustedIPs {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("forwardedHeaders.trustedIPs: %w", err)
		}
		h.trusted = append(h.trusted, p)
	}
	for _, c := range connection {
		h.allowed = append(h.allowed, http.CanonicalHeaderKey(strings.TrimSpace(c)))
	}
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "localhost"
	}
	h.hostname = name
	return h, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	clientIP := clientAddr(r.RemoteAddr)
	if !h.insecure && !h.isTrusted(clientIP) {
		deleteManaged(r.Header)
	}
	h.rewrite(r, clientIP)
	h.filterConnection(r.Header)
	h.next.ServeHTTP(w, r)
}

// clientAddr is the host part of RemoteAddr without an IPv6 zone.
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return ""
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	return host
}

func (h *handler) isTrusted(ip string) bool {
	if len(h.trusted) == 0 || ip == "" {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range h.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// deleteManaged drops the managed headers, including the underscore spellings
// (X_Forwarded_For) that net/http keeps as distinct keys.
func deleteManaged(hdr http.Header) {
	for k := range hdr {
		if isManaged(k) {
			delete(hdr, k)
		}
	}
}

func isManaged(k string) bool {
	if k == forwarded {
		return true
	}
	if k == "" || (k[0] != 'X' && k[0] != 'x') {
		return false
	}
	if managed[k] {
		return true
	}
	if strings.IndexByte(k, '_') < 0 || len(k) > maxCanonicalLength {
		return false
	}
	var buf [maxCanonicalLength]byte
	b := canonicalInto(buf[:0], k, true)
	return managed[string(b)]
}

// canonicalInto appends the canonical form of k ('_' read as '-' when underscores).
func canonicalInto(b []byte, k string, underscores bool) []byte {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if underscores && c == '_' {
			c = '-'
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b
}

// rewrite sets the forwarded headers a proxy adds, keeping trusted ones.
func (h *handler) rewrite(r *http.Request, clientIP string) {
	hdr := r.Header
	// One allocation holds every value we set.
	vals := make([]string, 0, 6)
	set := func(k, v string) {
		vals = append(vals, v)
		hdr[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if clientIP != "" && first(hdr, xRealIP) == "" {
		set(xRealIP, clientIP)
	}
	proto := first(hdr, xForwardedProto)
	if proto == "" {
		switch ws := isWebSocket(hdr); {
		case ws && r.TLS != nil:
			proto = "wss"
		case ws:
			proto = "ws"
		case r.TLS != nil:
			proto = "https"
		default:
			proto = "http"
		}
		set(xForwardedProto, proto)
	}
	if first(hdr, xForwardedPort) == "" {
		set(xForwardedPort, forwardedPort(r, proto))
	}
	if first(hdr, xForwardedHost) == "" && r.Host != "" {
		set(xForwardedHost, r.Host)
	}
	if xff := hdr[xForwardedFor]; len(xff) > 1 {
		set(xForwardedFor, strings.Join(xff, ", "))
	}
	set(xForwardedServer, h.hostname)
}

func first(hdr http.Header, k string) string {
	if v := hdr[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func forwardedPort(r *http.Request, proto string) string {
	if port := hostPort(r.Host); port != "" {
		return port
	}
	if proto == "https" || proto == "wss" || r.TLS != nil {
		return "443"
	}
	return "80"
}

// hostPort is the port of a Host value ("h:p", "[v6]:p"), or "".
// net.SplitHostPort would allocate an error for every Host without a port.
func hostPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return ""
	}
	if host[0] != '[' && strings.IndexByte(host[:i], ':') >= 0 {
		return "" // bare IPv6 address, no port
	}
	return host[i+1:]
}

func isWebSocket(hdr http.Header) bool {
	return containsToken(hdr[connectionHeader], "upgrade") && containsToken(hdr[upgradeHeader], "websocket")
}

func containsToken(vv []string, token string) bool {
	for _, v := range vv {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// filterConnection applies the Connection header: the headers it names are
// hop-by-hop and removed, except managed ones (a client must not be able to
// strip them) and the allowed ones, which stay listed so the proxy drops them
// at the end of the chain. An upgrade request keeps "Upgrade".
func (h *handler) filterConnection(hdr http.Header) {
	conn := hdr[connectionHeader]
	if len(conn) == 0 {
		return
	}
	upType := ""
	if containsToken(conn, upgradeHeader) {
		upType = first(hdr, upgradeHeader)
	}
	var kept []string
	var buf [maxCanonicalLength]byte
	for _, v := range conn {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			t = strings.TrimSpace(t)
			if t == "" || len(t) > maxCanonicalLength {
				continue
			}
			key := canonicalInto(buf[:0], t, false)
			if managed[string(key)] {
				continue
			}
			if i := h.allowedIndex(key); i >= 0 {
				kept = append(kept, h.allowed[i])
				continue
			}
			delete(hdr, string(key))
		}
	}
	if upType != "" {
		kept = append(kept, upgradeHeader)
		hdr[upgradeHeader] = []string{upType}
	}
	if len(kept) == 0 {
		delete(hdr, connectionHeader)
		return
	}
	hdr[connectionHeader] = []string{strings.Join(kept, ",")}
}

func (h *handler) allowedIndex(key []byte) int {
	for i, a := range h.allowed {
		if a == string(key) {
			return i
		}
	}
	return -1
}
