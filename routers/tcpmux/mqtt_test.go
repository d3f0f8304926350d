package tcpmux

import (
	ctls "crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
)

func TestMQTTMatchers(t *testing.T) {
	ip := netip.MustParseAddr("10.1.2.3")
	sensor := &Conn{IP: ip, MQTT: &mqtt.Connect{Level: mqtt.Level311, ClientID: "sensor-7", Username: "dev", HasUsername: true}}
	phone := &Conn{IP: ip, MQTT: &mqtt.Connect{Level: mqtt.Level5, ClientID: "phone-1"}}
	old := &Conn{IP: ip, MQTT: &mqtt.Connect{Level: mqtt.Level31, ClientID: "x"}}
	notMQTT := &Conn{IP: ip}
	for _, tc := range []struct {
		rule  string
		conn  *Conn
		match bool
	}{
		{"MQTTClientID(`^sensor-`)", sensor, true},
		{"MQTTClientID(`^sensor-`)", phone, false},
		{"MQTTClientID(`.*`)", notMQTT, false},
		{"!MQTTClientID(`^sensor-`)", notMQTT, true},
		{"MQTTUsername(`^dev$`)", sensor, true},
		{"MQTTUsername(`.*`)", phone, false}, // no user name at all
		{"MQTTProtocolVersion(`3.1.1`)", sensor, true},
		{"MQTTProtocolVersion(`5`)", phone, true},
		{"MQTTProtocolVersion(`5.0`)", phone, true},
		{"MQTTProtocolVersion(`3.1`)", old, true},
		{"MQTTProtocolVersion(`3.1`)", sensor, false},
		{"MQTTProtocolVersion(`4`)", sensor, true},
		{"MQTTProtocolVersion(`3`)", old, true},
		{"MQTTProtocolVersion(`3`)", sensor, false},
		{"HostSNI(`*`) && MQTTClientID(`^phone-`) && ClientIP(`10.0.0.0/8`)", phone, true},
		{"mqttclientid(`^phone-`) || MQTTProtocolVersion(`3.1`)", old, true},
	} {
		m, err := Check(tc.rule, false)
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		if !m.MQTT {
			t.Errorf("%s: Matcher.MQTT false", tc.rule)
		}
		if got := m.Match(tc.conn); got != tc.match {
			t.Errorf("%s on %+v: %v, want %v", tc.rule, tc.conn.MQTT, got, tc.match)
		}
	}
	for rule, want := range map[string]string{
		"MQTTClientID(`(`)":            "MQTTClientID",
		"MQTTProtocolVersion(`6`)":     "unknown version",
		"MQTTProtocolVersion(`3.0`)":   "unknown version",
		"MQTTUsername(`a`, `b`)":       "expects 1 argument",
		"MQTTClientID()":               "argument",
		"MQTTProtocolVersion(`3.1.2`)": "want 3.1, 3.1.1 or 5",
	} {
		if _, err := Compile(rule); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", rule, err, want)
		}
	}
	if m, _ := Compile("HostSNI(`*`)"); m.MQTT {
		t.Error("HostSNI(`*`) needs MQTT")
	}
}

func TestMQTTRoutes(t *testing.T) {
	h := HandlerFunc(func(c net.Conn) { _ = c.Close() })
	cfgA, cfgB := &ctls.Config{}, &ctls.Config{}
	mx := New()
	add := func(r Route) {
		t.Helper()
		r.Handler = h
		if err := mx.AddRoute(r); err != nil {
			t.Fatal(err)
		}
	}
	add(Route{Name: "plain-sensor", Rule: "MQTTClientID(`^sensor-`)", Priority: 10})
	add(Route{Name: "plain-rest", Rule: "HostSNI(`*`)", Priority: 1})
	add(Route{Name: "tls-exact", Rule: "HostSNI(`db.test`)", TLS: true, Config: cfgB, Priority: 50})
	add(Route{Name: "tls-sensor", Rule: "HostSNI(`mq.test`) && MQTTClientID(`^sensor-`)", TLS: true, Config: cfgA, Priority: 40})
	add(Route{Name: "tls-other-options", Rule: "HostSNI(`mq.test`)", TLS: true, Config: cfgB, Priority: 30})
	add(Route{Name: "tls-rest", Rule: "HostSNI(`mq.test`)", TLS: true, Config: cfgA, Priority: 20})
	if err := mx.AddRoute(Route{Name: "pt", Rule: "MQTTClientID(`x`)", TLS: true, Passthrough: true, Handler: h}); err == nil {
		t.Fatal("passthrough MQTT route accepted")
	}
	if err := mx.AddRoute(Route{Name: "pt2", Rule: "HostSNI(`*`)", TLS: true, Passthrough: true, MQTT: true, Handler: h}); err == nil {
		t.Fatal("passthrough route with an MQTT middleware accepted")
	}
	mx.Build()
	if !mx.PlainMQTT() || !mx.TLSMQTT() {
		t.Fatal("MQTT flags not set")
	}
	sensor := &mqtt.Connect{Level: mqtt.Level311, ClientID: "sensor-1"}
	phone := &mqtt.Connect{Level: mqtt.Level311, ClientID: "phone-1"}
	if r := mx.Match(&Conn{MQTT: sensor}); r == nil || r.Name != "plain-sensor" {
		t.Fatalf("plain sensor: %v", r)
	}
	if r := mx.Match(&Conn{MQTT: phone}); r == nil || r.Name != "plain-rest" {
		t.Fatalf("plain phone: %v", r)
	}
	if r, pending := mx.MatchTLS(&Conn{TLS: true, SNI: "db.test"}); r == nil || r.Name != "tls-exact" || pending {
		t.Fatalf("db.test: %v %v", r, pending)
	}
	r, pending := mx.MatchTLS(&Conn{TLS: true, SNI: "mq.test"})
	if r == nil || r.Name != "tls-sensor" || !pending || r.Config != cfgA {
		t.Fatalf("mq.test before the handshake: %v %v", r, pending)
	}
	if r := mx.MatchTerminated(&Conn{TLS: true, SNI: "mq.test", MQTT: sensor}, cfgA); r == nil || r.Name != "tls-sensor" {
		t.Fatalf("mq.test sensor: %v", r)
	}
	// tls-other-options has a higher priority but other TLS options.
	if r := mx.MatchTerminated(&Conn{TLS: true, SNI: "mq.test", MQTT: phone}, cfgA); r == nil || r.Name != "tls-rest" {
		t.Fatalf("mq.test phone: %v", r)
	}
	if r, pending := mx.MatchTLS(&Conn{TLS: true, SNI: "other.test"}); r != nil || pending {
		t.Fatalf("other.test: %v %v", r, pending)
	}
}
