package tcpmux

import (
	"net/netip"
	"testing"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/routers/rules"
)

var fuzzConns = func() []Conn {
	var out []Conn
	for _, ip := range []string{"10.1.2.3", "192.0.2.1", "::1", "2001:db8::5"} {
		for _, sni := range []string{"", "a.example", "b.a.example", "xn--bcher-kva.example"} {
			for _, alpn := range [][]string{nil, {"h2"}, {"http/1.1", "acme-tls/1"}} {
				out = append(out, Conn{IP: netip.MustParseAddr(ip), TLS: sni != "" || alpn != nil, SNI: sni, ALPN: alpn})
			}
		}
	}
	for _, c := range []*mqtt.Connect{
		{Level: mqtt.Level311, ClientID: "sensor-1"},
		{Level: mqtt.Level5, ClientID: "phone-9", Username: "alice", HasUsername: true},
		{Level: mqtt.Level31, ClientID: ""},
	} {
		out = append(out, Conn{IP: netip.MustParseAddr("10.1.2.3"), MQTT: c},
			Conn{IP: netip.MustParseAddr("::1"), TLS: true, SNI: "a.example", MQTT: c})
	}
	return out
}()

// FuzzTCPRule: any TCP rule. Asserts: no panic; a rule that compiles
// prints (rules.Tree.String) as a rule that compiles to the same matcher
// on a grid of connections; its negation matches exactly the other
// connections; and a rule accepted for a router without TLS never looks
// at the server name or ALPN (it cannot: they exist only in TLS); a rule's
// value before the CONNECT is known (match3) never contradicts its value
// once it is.
func FuzzTCPRule(f *testing.F) {
	for _, s := range []string{
		"HostSNI(`*`)",
		"HostSNI(`a.example`)",
		"HostSNI(`A.Example`, `b.a.example`)",
		"HostSNIRegexp(`^.+\\.a\\.example$`)",
		"HostSNI(`a.example`) && ALPN(`h2`)",
		"ClientIP(`10.0.0.0/8`) || ClientIP(`::1`)",
		"!ClientIP(`192.0.2.0/24`) && HostSNI(`*`)",
		"(HostSNI(`a.example`) || HostSNI(`b.a.example`)) && !ALPN(`acme-tls/1`)",
		"HostSNI(`*`) && HostSNI(`a.example`)",
		"ClientIP(`2001:db8::/32`, `10.1.2.3`)",
		"HostSNI(``)",
		"ALPN()",
		"ClientIP(`300.1.1.1`)",
		"HostSNIRegexp(`(`)",
		"Host(`a`)",
		"MQTTClientID(`^sensor-`)",
		"HostSNI(`a.example`) && MQTTUsername(`^al`) || !MQTTProtocolVersion(`3.1.1`)",
		"ClientIP(`10.0.0.0/8`) && (MQTTProtocolVersion(`5`) || MQTTClientID(`^$`))",
		"MQTTProtocolVersion(`4`)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		m, err := Compile(rule)
		if err != nil {
			return
		}
		tree, err := rules.Parse(rule)
		if err != nil {
			t.Fatalf("%q compiles but does not parse: %v", rule, err)
		}
		printed := tree.String()
		m2, err := Compile(printed)
		if err != nil {
			t.Fatalf("%q compiles, its printed form %q does not: %v", rule, printed, err)
		}
		neg, err := Compile("!(" + printed + ")")
		if err != nil {
			t.Fatalf("negation of %q does not compile: %v", printed, err)
		}
		_, plainErr := Check(rule, false)
		for i := range fuzzConns {
			c := &fuzzConns[i]
			got := m.Match(c)
			if m2.Match(c) != got {
				t.Fatalf("%q and its printed form %q disagree on %+v", rule, printed, *c)
			}
			if neg.Match(c) == got {
				t.Fatalf("%q and its negation agree on %+v", rule, *c)
			}
			before := *c
			before.MQTT = nil
			switch m.root.match3(&before) {
			case yes:
				if !got {
					t.Fatalf("%q: match3 yes, Match false on %+v", rule, *c)
				}
			case no:
				if got {
					t.Fatalf("%q: match3 no, Match true on %+v", rule, *c)
				}
			}
			if plainErr == nil {
				bare := Conn{IP: c.IP, MQTT: c.MQTT}
				if m.Match(&bare) != got {
					t.Fatalf("%q is accepted without TLS but depends on SNI/ALPN: %+v", rule, *c)
				}
			}
		}
	})
}
