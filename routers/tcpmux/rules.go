package tcpmux

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// Conn is what a TCP rule sees of a connection: the client address and,
// for TLS, the ClientHello's server name and ALPN protocols; MQTT is the
// client's CONNECT when the entrypoint read one (nil otherwise: the MQTT
// matchers then match nothing).
type Conn struct {
	IP   netip.Addr
	TLS  bool
	SNI  string // lower case
	ALPN []string
	MQTT *mqtt.Connect
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
	opMQTTClientID
	opMQTTUsername
	opMQTTVersion
)

type node struct {
	op   op
	a, b *node
	s    string
	re   *regexp.Regexp
	net  netip.Prefix
	lvl  byte
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
	case opMQTTClientID:
		return c.MQTT != nil && n.re.MatchString(c.MQTT.ClientID)
	case opMQTTUsername:
		return c.MQTT != nil && c.MQTT.HasUsername && n.re.MatchString(c.MQTT.Username)
	case opMQTTVersion:
		return c.MQTT != nil && c.MQTT.Level == n.lvl
	}
	return false
}

// tri is a rule's value before the CONNECT is known.
type tri uint8

const (
	no tri = iota
	yes
	maybe
)

// match3 evaluates n with the MQTT matchers unknown (maybe), for TLS
// routes chosen before the handshake that shows the CONNECT.
func (n *node) match3(c *Conn) tri {
	switch n.op {
	case opAnd:
		a := n.a.match3(c)
		if a == no {
			return no
		}
		b := n.b.match3(c)
		if b == no {
			return no
		}
		if a == yes && b == yes {
			return yes
		}
		return maybe
	case opOr:
		a := n.a.match3(c)
		if a == yes {
			return yes
		}
		b := n.b.match3(c)
		if b == yes {
			return yes
		}
		if a == no && b == no {
			return no
		}
		return maybe
	case opNot:
		switch n.a.match3(c) {
		case yes:
			return no
		case no:
			return yes
		}
		return maybe
	case opMQTTClientID, opMQTTUsername, opMQTTVersion:
		return maybe
	}
	if n.match(c) {
		return yes
	}
	return no
}

// Matcher is a compiled TCP rule.
type Matcher struct {
	root *node
	// CatchAll is true for HostSNI(`*`) alone.
	CatchAll bool
	// SNIs lists the exact HostSNI values (for TLS options selection).
	SNIs []string
	// MQTT is true when the rule uses an MQTT matcher: the entrypoint
	// must read the client's CONNECT before routing.
	MQTT bool
}

// Match reports whether c matches the rule.
func (m *Matcher) Match(c *Conn) bool { return m.root.match(c) }

// Compile parses and compiles a TCP rule: HostSNI, HostSNIRegexp,
// ClientIP, ALPN, MQTTClientID, MQTTUsername and MQTTProtocolVersion
// combined with &&, || and !.
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
	name, ok := rules.Resolve(n.Name, "HostSNI", "HostSNIRegexp", "ClientIP", "ALPN", "MQTTClientID", "MQTTUsername", "MQTTProtocolVersion")
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
	case "MQTTClientID", "MQTTUsername":
		re, err := regexp.Compile(arg)
		if err != nil {
			return nil, &rules.Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: %v", name, err)}
		}
		m.MQTT = true
		o := opMQTTClientID
		if name == "MQTTUsername" {
			o = opMQTTUsername
		}
		return &node{op: o, re: re}, nil
	case "MQTTProtocolVersion":
		lvl, ok := mqttLevels[arg]
		if !ok {
			return nil, &rules.Error{Pos: n.Pos, Msg: fmt.Sprintf("MQTTProtocolVersion: unknown version %q (want 3.1, 3.1.1 or 5, or the protocol level 3, 4 or 5)", arg)}
		}
		m.MQTT = true
		return &node{op: opMQTTVersion, lvl: lvl}, nil
	default: // ALPN
		if arg == "acme-tls/1" {
			return nil, &rules.Error{Pos: n.Pos, Msg: "ALPN: acme-tls/1 is reserved"}
		}
		return &node{op: opALPN, s: arg}, nil
	}
}

// mqttLevels maps the versions MQTTProtocolVersion accepts to protocol
// levels: version names ("5.0" is "5") and the levels on the wire (3 is
// 3.1, 4 is 3.1.1).
var mqttLevels = map[string]byte{
	"3.1": mqtt.Level31, "3.1.1": mqtt.Level311, "5": mqtt.Level5, "5.0": mqtt.Level5,
	"3": mqtt.Level31, "4": mqtt.Level311,
}

// needsTLS reports whether a rule can only match TLS connections
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
