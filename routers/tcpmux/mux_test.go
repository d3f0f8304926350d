package tcpmux

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestCompileMatch(t *testing.T) {
	ip := netip.MustParseAddr("10.1.2.3")
	tlsConn := func(sni string, alpn ...string) *Conn { return &Conn{IP: ip, TLS: true, SNI: sni, ALPN: alpn} }
	for _, tc := range []struct {
		rule  string
		conn  *Conn
		match bool
	}{
		{"HostSNI(`*`)", &Conn{IP: ip}, true},
		{"HostSNI(`*`)", tlsConn("a.test"), true},
		{"HostSNI(`a.test`)", tlsConn("a.test"), true},
		{"HostSNI(`A.Test.`)", tlsConn("a.test"), true},
		{"HostSNI(`a.test`)", tlsConn("b.test"), false},
		{"HostSNI(`a.test`)", tlsConn(""), false},
		{"HostSNIRegexp(`^[a-z]+\\.test$`)", tlsConn("abc.test"), true},
		{"HostSNIRegexp(`^[a-z]+\\.test$`)", tlsConn("a1.test"), false},
		{"ClientIP(`10.0.0.0/8`)", &Conn{IP: ip}, true},
		{"ClientIP(`10.1.2.4`)", &Conn{IP: ip}, false},
		{"ClientIP(`::ffff:10.1.2.3`)", &Conn{IP: ip}, true},
		{"ALPN(`h2`)", tlsConn("x", "http/1.1", "h2"), true},
		{"ALPN(`h2`)", tlsConn("x", "http/1.1"), false},
		{"HostSNI(`a.test`) && ClientIP(`10.0.0.0/8`)", tlsConn("a.test"), true},
		{"HostSNI(`a.test`) && !ClientIP(`10.0.0.0/8`)", tlsConn("a.test"), false},
		{"HostSNI(`a.test`) || HostSNI(`b.test`)", tlsConn("b.test"), true},
		{"hostsni(`a.test`)", tlsConn("a.test"), true},
	} {
		m, err := Compile(tc.rule)
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		if got := m.Match(tc.conn); got != tc.match {
			t.Errorf("%s on %+v: %v, want %v", tc.rule, tc.conn, got, tc.match)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		rule string
		tls  bool
		want string // "" means valid
	}{
		{"Host(`a`)", true, `unknown TCP matcher "Host"`},
		{"HostSNI(`a`, `b`)", true, "HostSNI expects 1 argument"},
		{"HostSNI(``)", true, "argument 1 is empty"},
		{"HostSNI(`*.a.test`)", true, "invalid domain"},
		{"HostSNIRegexp(`(`)", true, "HostSNIRegexp"},
		{"ClientIP(`300.1.1.1`)", true, "invalid IP"},
		{"ALPN(`acme-tls/1`)", true, "reserved"},
		{"HostSNI(`a.test`)", false, "without tls"},
		{"HostSNI(`a`", true, "position"},
		{"ALPN(`h2`) || ClientIP(`1.1.1.1`)", false, ""},
		{"HostSNI(`*`) && ClientIP(`1.1.1.1`)", false, ""},
	} {
		_, err := Check(tc.rule, tc.tls)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.rule, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err %v, want %q", tc.rule, err, tc.want)
		}
	}
}

func TestMuxerPriority(t *testing.T) {
	var got string
	h := func(name string) Handler { return HandlerFunc(func(net.Conn) { got = name }) }
	mx := New()
	for _, r := range []Route{
		{Name: "catch", Rule: "HostSNI(`*`)", TLS: true, Handler: h("catch")},
		{Name: "exact", Rule: "HostSNI(`a.test`)", TLS: true, Handler: h("exact")},
		{Name: "low", Rule: "HostSNI(`b.test`)", Priority: -1, TLS: true, Handler: h("low")},
		{Name: "plain", Rule: "HostSNI(`*`)", Handler: h("plain")},
	} {
		if err := mx.AddRoute(r); err != nil {
			t.Fatal(err)
		}
	}
	mx.Build()
	for _, tc := range []struct {
		c    Conn
		want string
	}{
		{Conn{TLS: true, SNI: "a.test"}, "exact"},
		{Conn{TLS: true, SNI: "b.test"}, "catch"}, // priority -1 loses to len(rule)
		{Conn{TLS: true, SNI: "z.test"}, "catch"},
		{Conn{}, "plain"},
	} {
		got = ""
		r := mx.Match(&tc.c)
		if r == nil {
			t.Fatalf("%+v: no route", tc.c)
		}
		r.Handler.ServeTCP(nil)
		if got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.c, got, tc.want)
		}
	}
	if err := mx.AddRoute(Route{Rule: "HostSNI(`*`)", Handler: h("x")}); err == nil {
		t.Fatal("AddRoute after Build accepted")
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"HostSNI(`*`)", "HostSNI(`a`) && !ALPN(`h2`)", "ClientIP(`::1`) || HostSNIRegexp(`.*`)", "((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		m, err := Compile(rule)
		if err != nil {
			return
		}
		m.Match(&Conn{TLS: true, SNI: "a", ALPN: []string{"h2"}})
		m.Match(&Conn{})
	})
}

func BenchmarkMatchSNI(b *testing.B) {
	mx := New()
	for i := range 100 {
		_ = mx.AddRoute(Route{Name: "r", Rule: "HostSNI(`h" + string(rune('a'+i%26)) + ".test`)", TLS: true, Handler: HandlerFunc(func(net.Conn) {})})
	}
	_ = mx.AddRoute(Route{Name: "z", Rule: "HostSNI(`z.test`)", Priority: -1, TLS: true, Handler: HandlerFunc(func(net.Conn) {})})
	mx.Build()
	c := &Conn{TLS: true, SNI: "z.test"}
	b.ReportAllocs()
	for b.Loop() {
		mx.Match(c)
	}
}

// TestIndexEqualsLinearScan: the SNI index answers what a scan in
// priority order would.
func TestIndexEqualsLinearScan(t *testing.T) {
	rules := []string{
		"HostSNI(`a.test`)", "HostSNI(`a.test`) || HostSNI(`b.test`)", "HostSNI(`*`)",
		"HostSNIRegexp(`^a`)", "HostSNI(`b.test`) && ALPN(`x`)", "ALPN(`x`)", "HostSNI(`c.test`)",
	}
	for seed := range 200 {
		mx := New()
		var all []*Route
		for i, rule := range rules {
			if (seed>>i)&1 == 0 {
				continue
			}
			prio := (seed*7+i*13)%5 - 2
			_ = mx.AddRoute(Route{Name: fmt.Sprintf("r%d", i), Rule: rule, Priority: prio, TLS: true, Handler: HandlerFunc(func(net.Conn) {})})
		}
		mx.Build()
		all = mx.tlsRoutes
		for _, c := range []Conn{
			{TLS: true, SNI: "a.test"}, {TLS: true, SNI: "b.test", ALPN: []string{"x"}}, {TLS: true, SNI: "b.test"},
			{TLS: true, SNI: "c.test"}, {TLS: true, SNI: "zz"}, {TLS: true, ALPN: []string{"x"}},
		} {
			var want *Route
			for _, r := range all {
				if r.m.Match(&c) {
					want = r
					break
				}
			}
			if got := mx.Match(&c); got != want {
				t.Fatalf("seed %d conn %+v: got %v, want %v", seed, c, name(got), name(want))
			}
		}
	}
}

func name(r *Route) string {
	if r == nil {
		return "<nil>"
	}
	return r.Name
}

func BenchmarkMatchSNI10000(b *testing.B) {
	mx := New()
	for i := range 10000 {
		_ = mx.AddRoute(Route{Name: fmt.Sprint(i), Rule: fmt.Sprintf("HostSNI(`h%d.test`)", i), TLS: true, Handler: HandlerFunc(func(net.Conn) {})})
	}
	mx.Build()
	c := &Conn{TLS: true, SNI: "h7777.test"}
	b.ReportAllocs()
	for b.Loop() {
		if mx.Match(c) == nil {
			b.Fatal("no match")
		}
	}
}
