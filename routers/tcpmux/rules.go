package tcpmux

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// Conn is what a TCP rule sees of a connection: the client address and,
// for TLS, the ClientHello's server name and ALPN protocols.
type Conn struct {
	IP   netip.Addr
	TLS  bool
	SNI  string // lower case
	ALPN []string
}

type op uint8

const (
	opAnd op = iota
	opOr
	opNot
	opSNIAny
	opSNI
	opSNIRegexp
	opClientIP
	opALPN
)

type node struct {
	op   op
	a, b *node
	s    string
	re   *regexp.Regexp
	net  netip.Prefix
}

func (n *node) match(c *Conn) bool {
	switch n.op {
	case opAnd:
		return n.a.match(c) && n.b.match(c)
	case opOr:
		return n.a.match(c) || n.b.match(c)
	case opNot:
		return !n.a.match(c)
	case opSNIAny:
		return true
	case opSNI:
		return c.SNI == n.s
	case opSNIRegexp:
		return c.SNI != "" && n.re.MatchString(c.SNI)
	case opClientIP:
		return c.IP.IsValid() && n.net.Contains(c.IP)
	case opALPN:
		for _, p := range c.ALPN {
			if p == n.s {
				return true
			}
		}
		return false
	}
	return false
}

// Matcher is a compiled TCP rule.
type Matcher struct {
	root *node
	// CatchAll is true for HostSNI(`*`) alone.
	CatchAll bool
	// SNIs lists the exact HostSNI values (for TLS options selection).
	SNIs []string
}

// Match reports whether c matches the rule.
func (m *Matcher) Match(c *Conn) bool { return m.root.match(c) }

// Compile parses and compiles a TCP rule: HostSNI, HostSNIRegexp,
// ClientIP and ALPN combined with &&, || and !.
func Compile(rule string) (*Matcher, error) {
	t, err := rules.Parse(rule)
	if err != nil {
		return nil, err
	}
	m := &Matcher{}
	root, err := m.compile(t.Root)
	if err != nil {
		return nil, err
	}
	m.root = root
	m.CatchAll = root.op == opSNIAny
	return m, nil
}

func (m *Matcher) compile(n *rules.Node) (*node, error) {
	switch n.Kind {
	case rules.KindAnd, rules.KindOr:
		a, err := m.compile(n.Left)
		if err != nil {
			return nil, err
		}
		b, err := m.compile(n.Right)
		if err != nil {
			return nil, err
		}
		o := opAnd
		if n.Kind == rules.KindOr {
			o = opOr
		}
		return &node{op: o, a: a, b: b}, nil
	case rules.KindNot:
		a, err := m.compile(n.Left)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, a: a}, nil
	}
	name, ok := rules.Resolve(n.Name, "HostSNI", "HostSNIRegexp", "ClientIP", "ALPN")
	if !ok {
		return nil, &rules.Error{Pos: n.Pos, Msg: fmt.Sprintf("unknown TCP matcher %q", n.Name)}
	}
	if err := rules.CheckArgs(n, name, 1, 1); err != nil {
		return nil, err
	}
	arg := n.Args[0]
	switch name {
	case "HostSNI":
		if arg == "*" {
			return &node{op: opSNIAny}, nil
		}
		h := strings.ToLower(rules.TrimDot(arg))
		if strings.ContainsAny(h, "*/ :") {
			return nil, &rules.Error{Pos: n.Pos, Msg: fmt.Sprintf("HostSNI: invalid domain %q (use `*` or HostSNIRegexp)", arg)}
		}
		m.SNIs = append(m.SNIs, h)
		return &node{op: opSNI, s: h}, nil
	case "HostSNIRegexp":
		re, err := regexp.Compile(arg)
		if err != nil {
			return nil, &rules.Error{Pos: n.Pos, Msg: fmt.Sprintf("HostSNIRegexp: %v", err)}
		}
		return &node{op: opSNIRegexp, re: re}, nil
	case "ClientIP":
		p, err := rules.ParseIPOrCIDR(arg)
		if err != nil {
			return nil, &rules.Error{Pos: n.Pos, Msg: "ClientIP: " + err.Error()}
		}
		return &node{op: opClientIP, net: p}, nil
	default: // ALPN
		if arg == "acme-tls/1" {
			return nil, &rules.Error{Pos: n.Pos, Msg: "ALPN: acme-tls/1 is reserved"}
		}
		return &node{op: opALPN, s: arg}, nil
	}
}

// usesTLSOnly reports whether a rule can only match TLS connections
// (it needs a server name or ALPN), which a non-TLS router must not use.
func (m *Matcher) needsTLS() bool { return needsTLS(m.root) }

func needsTLS(n *node) bool {
	switch n.op {
	case opSNI, opSNIRegexp, opALPN:
		return true
	case opAnd:
		return needsTLS(n.a) || needsTLS(n.b)
	case opOr:
		return needsTLS(n.a) && needsTLS(n.b)
	}
	return false
}
