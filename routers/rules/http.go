package rules

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"
)

// HTTP matcher names, canonical spelling.
const (
	MatchHost         = "Host"
	MatchHostRegexp   = "HostRegexp"
	MatchPath         = "Path"
	MatchPathPrefix   = "PathPrefix"
	MatchPathRegexp   = "PathRegexp"
	MatchMethod       = "Method"
	MatchHeader       = "Header"
	MatchHeaderRegexp = "HeaderRegexp"
	MatchQuery        = "Query"
	MatchQueryRegexp  = "QueryRegexp"
	MatchClientIP     = "ClientIP"
)

// HTTPMatchers lists the HTTP matcher names, canonical spelling.
var HTTPMatchers = []string{
	MatchHost, MatchHostRegexp, MatchPath, MatchPathPrefix, MatchPathRegexp, MatchMethod,
	MatchHeader, MatchHeaderRegexp, MatchQuery, MatchQueryRegexp, MatchClientIP,
}

var httpArity = map[string]arity{
	MatchHost:         {1, 1},
	MatchHostRegexp:   {1, 1},
	MatchPath:         {1, 1},
	MatchPathPrefix:   {1, 1},
	MatchPathRegexp:   {1, 1},
	MatchMethod:       {1, 1},
	MatchHeader:       {2, 2},
	MatchHeaderRegexp: {2, 2},
	MatchQuery:        {1, 2},
	MatchQueryRegexp:  {1, 2},
	MatchClientIP:     {1, 1},
}

// Matcher reports whether a request matches a rule.
type Matcher interface {
	Match(r *http.Request) bool
}

var _ Matcher = (*HTTPMatcher)(nil)

// Request is the view of a request the HTTP matchers read. The muxer fills
// it once per request (NewRequest) and hands it to every candidate rule.
type Request struct {
	HTTP *http.Request
	// Host is the request host in lower case without the port, as Traefik
	// canonizes it; HostRegexp sees exactly this.
	Host string
	// Path is the routing path: the escaped path with the percent-encodings
	// of unreserved characters decoded (see RoutingPath).
	Path string
}

// NewRequest computes the matcher view of r. It does not allocate unless
// the host has upper-case letters or the path has percent-encodings.
func NewRequest(r *http.Request) Request {
	return Request{HTTP: r, Host: CanonicalHost(r.Host), Path: RoutingPath(r)}
}

// HostKey is the host without one trailing dot: the form Host() compares
// and the muxer indexes.
func (in *Request) HostKey() string { return TrimDot(in.Host) }

// HTTPMatcher is a compiled HTTP rule. It is immutable and safe for
// concurrent use; matching does not allocate (regexps aside).
type HTTPMatcher struct {
	tree *Tree
	root *cnode
}

// ParseHTTP parses and compiles an HTTP rule (v3 syntax).
func ParseHTTP(rule string) (*HTTPMatcher, error) {
	t, err := Parse(rule)
	if err != nil {
		return nil, err
	}
	return CompileHTTP(t)
}

// ParseHTTPSyntax is ParseHTTP for a router's ruleSyntax ("" or "v3").
func ParseHTTPSyntax(rule, syntax string) (*HTTPMatcher, error) {
	t, err := ParseSyntax(rule, syntax)
	if err != nil {
		return nil, err
	}
	return CompileHTTP(t)
}

// CompileHTTP checks the matchers of t and compiles them.
func CompileHTTP(t *Tree) (*HTTPMatcher, error) {
	if t == nil || t.Root == nil {
		return nil, errorf(0, "empty rule")
	}
	root, err := compileHTTP(t.Root)
	if err != nil {
		return nil, err
	}
	return &HTTPMatcher{tree: t, root: root}, nil
}

// Tree returns the syntax tree the matcher was compiled from.
func (m *HTTPMatcher) Tree() *Tree { return m.tree }

// Match reports whether r matches. The muxer uses MatchRequest instead, to
// compute the request view once for all rules.
func (m *HTTPMatcher) Match(r *http.Request) bool {
	in := NewRequest(r)
	return m.root.match(&in)
}

// MatchRequest reports whether the request view matches; in.HTTP must be
// set.
func (m *HTTPMatcher) MatchRequest(in *Request) bool { return m.root.match(in) }

type op uint8

const (
	opAnd op = iota
	opOr
	opNot
	opHost
	opHostWildcard
	opHostRegexp
	opPath
	opPathPrefix
	opPathRegexp
	opMethod
	opHeader
	opHeaderRegexp
	opQuery
	opQueryRegexp
	opClientIP
)

// cnode is one compiled node. A switch over small structs keeps matching
// free of closures and of allocations.
type cnode struct {
	op   op
	a, b *cnode
	s, v string // host, path, method, header/query key; v: expected value
	re   *regexp.Regexp
	nets []netip.Prefix
}

func (n *cnode) match(in *Request) bool {
	switch n.op {
	case opAnd:
		return n.a.match(in) && n.b.match(in)
	case opOr:
		return n.a.match(in) || n.b.match(in)
	case opNot:
		return !n.a.match(in)
	case opHost:
		return in.Host != "" && in.HostKey() == n.s
	case opHostWildcard:
		return matchWildcard(in.HostKey(), n.s)
	case opHostRegexp, opPathRegexp:
		if n.op == opHostRegexp {
			return n.re.MatchString(in.Host)
		}
		return n.re.MatchString(in.Path)
	case opPath:
		return in.Path == n.s
	case opPathPrefix:
		return strings.HasPrefix(in.Path, n.s)
	case opMethod:
		return in.HTTP.Method == n.s
	case opHeader:
		for _, v := range in.HTTP.Header[n.s] {
			if v == n.v {
				return true
			}
		}
		return false
	case opHeaderRegexp:
		for _, v := range in.HTTP.Header[n.s] {
			if n.re.MatchString(v) {
				return true
			}
		}
		return false
	case opQuery:
		return queryHas(in.HTTP.URL.RawQuery, n.s, n.v)
	case opQueryRegexp:
		return queryMatch(in.HTTP.URL.RawQuery, n.s, n.re)
	case opClientIP:
		addr, ok := remoteIP(in.HTTP.RemoteAddr)
		if !ok {
			return false
		}
		for _, p := range n.nets {
			if p.Contains(addr) {
				return true
			}
		}
		return false
	}
	return false
}

// matchWildcard reports whether host is one label followed by suffix
// (suffix starts with the dot): "*.example.com" covers "a.example.com" but
// neither "example.com" nor "a.b.example.com".
func matchWildcard(host, suffix string) bool {
	if len(host) <= len(suffix) || !strings.HasSuffix(host, suffix) {
		return false
	}
	return strings.IndexByte(host[:len(host)-len(suffix)], '.') < 0
}

func compileHTTP(n *Node) (*cnode, error) {
	switch n.Kind {
	case KindAnd, KindOr:
		a, err := compileHTTP(n.Left)
		if err != nil {
			return nil, err
		}
		b, err := compileHTTP(n.Right)
		if err != nil {
			return nil, err
		}
		if n.Kind == KindAnd {
			return &cnode{op: opAnd, a: a, b: b}, nil
		}
		return &cnode{op: opOr, a: a, b: b}, nil
	case KindNot:
		a, err := compileHTTP(n.Left)
		if err != nil {
			return nil, err
		}
		if a.op == opNot { // !!x is x
			return a.a, nil
		}
		return &cnode{op: opNot, a: a}, nil
	case KindMatcher:
		return compileHTTPMatcher(n)
	}
	return nil, errorf(n.Pos, "invalid rule node")
}

func compileHTTPMatcher(n *Node) (*cnode, error) {
	name, ok := Resolve(n.Name, HTTPMatchers...)
	if !ok {
		return nil, errorf(n.Pos, "unknown matcher %q", n.Name)
	}
	if err := checkArgs(n, name, httpArity[name]); err != nil {
		return nil, err
	}
	arg := n.Args[0]
	switch name {
	case MatchHost:
		if !isASCII(arg) {
			return nil, errorf(n.Pos, "Host: invalid value %q, non-ASCII characters are not allowed (use punycode)", arg)
		}
		h := TrimDot(strings.ToLower(arg))
		if suffix, ok := wildcardSuffix(h); ok {
			return &cnode{op: opHostWildcard, s: suffix}, nil
		}
		return &cnode{op: opHost, s: h}, nil
	case MatchHostRegexp:
		if !isASCII(arg) {
			return nil, errorf(n.Pos, "HostRegexp: invalid value %q, non-ASCII characters are not allowed (use punycode)", arg)
		}
		re, err := compileRegexp(n, name, arg)
		return &cnode{op: opHostRegexp, re: re}, err
	case MatchPath, MatchPathPrefix:
		if !strings.HasPrefix(arg, "/") {
			return nil, errorf(n.Pos, "%s: path %q must start with '/'", name, arg)
		}
		if name == MatchPath {
			return &cnode{op: opPath, s: arg}, nil
		}
		return &cnode{op: opPathPrefix, s: arg}, nil
	case MatchPathRegexp:
		re, err := compileRegexp(n, name, arg)
		return &cnode{op: opPathRegexp, re: re}, err
	case MatchMethod:
		return &cnode{op: opMethod, s: strings.ToUpper(arg)}, nil
	case MatchHeader:
		return &cnode{op: opHeader, s: http.CanonicalHeaderKey(arg), v: n.Args[1]}, nil
	case MatchHeaderRegexp:
		re, err := compileRegexp(n, name, n.Args[1])
		return &cnode{op: opHeaderRegexp, s: http.CanonicalHeaderKey(arg), re: re}, err
	case MatchQuery, MatchQueryRegexp:
		if len(n.Args) == 1 { // Query(`k`) matches a present, empty parameter
			return &cnode{op: opQuery, s: arg}, nil
		}
		if name == MatchQuery {
			return &cnode{op: opQuery, s: arg, v: n.Args[1]}, nil
		}
		re, err := compileRegexp(n, name, n.Args[1])
		return &cnode{op: opQueryRegexp, s: arg, re: re}, err
	case MatchClientIP:
		nets := make([]netip.Prefix, 0, len(n.Args))
		for _, a := range n.Args {
			p, err := ParseIPOrCIDR(a)
			if err != nil {
				return nil, errorf(n.Pos, "ClientIP: %v", err)
			}
			nets = append(nets, p)
		}
		return &cnode{op: opClientIP, nets: nets}, nil
	}
	return nil, errorf(n.Pos, "unknown matcher %q", n.Name)
}

func compileRegexp(n *Node, name, expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, errorf(n.Pos, "%s: invalid regexp %q: %v", name, expr, err)
	}
	return re, nil
}

// wildcardSuffix returns ".example.com" for "*.example.com"; any other use
// of '*' is taken literally, as older Traefik versions did.
func wildcardSuffix(h string) (string, bool) {
	if len(h) > 2 && h[0] == '*' && h[1] == '.' && !strings.ContainsRune(h[2:], '*') && h[2] != '.' {
		return h[1:], true
	}
	return "", false
}

// ParseIPOrCIDR parses an IP ("10.0.0.1", "::1") as a single-address
// prefix, or a CIDR ("10.0.0.0/8"); IPv4-mapped IPv6 forms are unmapped so
// they match IPv4 clients.
func ParseIPOrCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid IP %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// remoteIP extracts the client IP from RemoteAddr ("ip:port", "[ip]:port"
// or a bare IP); never X-Forwarded-For.
func remoteIP(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap(), ap.Addr().Zone() == ""
	}
	a, err := netip.ParseAddr(remote)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TrimDot removes one trailing dot, so "example.com." equals "example.com".
func TrimDot(h string) string {
	if n := len(h); n > 0 && h[n-1] == '.' {
		return h[:n-1]
	}
	return h
}

// CanonicalHost returns the host of a Host header value in lower case,
// without surrounding spaces and without the port, as Traefik canonizes
// it. A value it cannot split ("::1", "[::1]") is kept whole.
func CanonicalHost(hostport string) string {
	h := strings.TrimSpace(splitHost(hostport))
	for i := 0; i < len(h); i++ {
		if c := h[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

// splitHost mirrors net.SplitHostPort's accept/reject decisions without
// allocating an error: on failure the whole value is the host.
func splitHost(s string) string {
	if strings.IndexByte(s, ':') < 0 {
		return s
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return s
		}
		host, port := s[1:end], s[end+2:]
		if strings.ContainsAny(host, "[]") || strings.ContainsAny(port, "[]") {
			return s
		}
		return host
	}
	i := strings.LastIndexByte(s, ':')
	host, port := s[:i], s[i+1:]
	if strings.IndexByte(host, ':') >= 0 || strings.ContainsAny(host, "[]") || strings.ContainsAny(port, "[]") {
		return s
	}
	return host
}

// reserved reports whether an escaped byte keeps its percent-encoding in
// the routing path: RFC 3986 gen-delims and sub-delims, and '%' itself,
// because decoding them would change the meaning of the path.
func reserved(c byte) bool {
	switch c {
	case ':', '/', '?', '#', '[', ']', '@', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', '%':
		return true
	}
	return false
}

// RoutingPath returns the path rules match against, as Traefik v3 does:
// the escaped path with percent-encodings decoded except those of reserved
// characters. So Path(`/foo bar`) matches "/foo%20bar" while "/a%2Fb" stays
// distinct from "/a/b". Kept encodings are upper-cased ("%2f" → "%2F";
// Traefik decodes a lower-case "%2f" to "/"). It allocates only when the
// path holds a '%'.
func RoutingPath(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	p := r.URL.EscapedPath()
	first := strings.IndexByte(p, '%')
	if first < 0 {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteString(p[:first])
	for i := first; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) {
			b.WriteByte(c)
			continue
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		d := hi<<4 | lo
		switch {
		case !ok1 || !ok2: // EscapedPath never yields this; keep it verbatim
			b.WriteString(p[i : i+3])
		case reserved(d): // normalised to upper-case hex: %2f and %2F are one path
			b.WriteByte('%')
			b.WriteByte(upperhex[hi])
			b.WriteByte(upperhex[lo])
		default:
			b.WriteByte(d)
		}
		i += 2
	}
	return b.String()
}

const upperhex = "0123456789ABCDEF"

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
