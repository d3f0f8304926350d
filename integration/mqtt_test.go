package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

var (
	mosquittoOnce sync.Once
	mosquittoPath string
	mosquittoWhy  string
)

// findMosquitto returns Debian's mosquitto broker, installing the package
// with apt-get when it is missing and we are root (`make mqtt` does too).
func findMosquitto() (string, string) {
	mosquittoOnce.Do(func() {
		look := func() string {
			if p, err := exec.LookPath("mosquitto"); err == nil {
				return p
			}
			if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
				return "/usr/sbin/mosquitto"
			}
			return ""
		}
		if mosquittoPath = look(); mosquittoPath != "" {
			return
		}
		apt, err := exec.LookPath("apt-get")
		if err != nil || os.Geteuid() != 0 {
			mosquittoWhy = "mosquitto not installed and cannot apt-get install it (need apt-get and root)"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		install := func() ([]byte, error) {
			cmd := exec.CommandContext(ctx, apt, "install", "-y", "--no-install-recommends", "mosquitto")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			return cmd.CombinedOutput()
		}
		if _, err := install(); err != nil {
			_ = exec.CommandContext(ctx, apt, "update").Run()
			if out, err := install(); err != nil {
				mosquittoWhy = "apt-get install mosquitto failed: " + err.Error() + ": " + lastLines(string(out), 5)
				return
			}
		}
		if mosquittoPath = look(); mosquittoPath == "" {
			mosquittoWhy = "mosquitto installed but not found"
		}
	})
	return mosquittoPath, mosquittoWhy
}

// startMosquitto runs a mosquitto broker (child process, anonymous, no
// persistence) on a free loopback port and returns its address.
func startMosquitto(t *testing.T, bin, name string) string {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, name+".conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, dir, nil, bin, "-c", conf)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto %s not listening on %s: %v", name, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mqttClient connects a paho client (no retries, no reconnects).
func mqttClient(t *testing.T, broker, id string, setup func(*paho.ClientOptions)) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).SetProtocolVersion(4)
	if setup != nil {
		setup(o)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c, nil
}

// collector subscribes directly on a broker and records topic|payload.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(m paho.Message) {
	c.mu.Lock()
	c.got = append(c.got, m.Topic()+"|"+string(m.Payload()))
	c.mu.Unlock()
}

func (c *collector) has(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.got {
		if g == s {
			return true
		}
	}
	return false
}

func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func publish(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// rawConnect builds a CONNECT by hand (paho speaks 3.1/3.1.1 only):
// level 4 or 5, the given flags, a client ID and an optional user name
// and password.
func rawConnect(level, flags byte, id, user string, pass ...string) []byte {
	s := func(v string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(v))), v...) }
	v := append(s("MQTT"), level, flags, 0, 30)
	if level == 5 {
		v = append(v, 0) // no properties
	}
	v = append(v, s(id)...)
	if flags&0x80 != 0 {
		v = append(v, s(user)...)
	}
	if flags&0x40 != 0 {
		v = append(v, s(pass[0])...)
	}
	out := []byte{0x10}
	for n := len(v); ; { // remaining length, variable byte integer
		c := byte(n % 128)
		if n /= 128; n > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if n == 0 {
			break
		}
	}
	return append(out, v...)
}

// rawPublish5 is an MQTT 5 QoS 0 PUBLISH.
func rawPublish5(topic, payload string) []byte {
	v := append(binary.BigEndian.AppendUint16(nil, uint16(len(topic))), topic...)
	v = append(v, 0) // no properties
	v = append(v, payload...)
	return append([]byte{0x30, byte(len(v))}, v...)
}

// exchange writes b and returns the first n bytes answered, then whether
// the connection was closed right after (EOF within 5 s).
func exchange(t *testing.T, addr string, b []byte, n int) ([]byte, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n)
	k, _ := io.ReadFull(c, got)
	var one [1]byte
	_, err = c.Read(one[:])
	return got[:k], errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

// TestMQTTRouting (proof e): two real mosquitto brokers behind Switchyard;
// real paho clients (3.1 and 3.1.1) and hand-written MQTT 5 packets are
// routed by client ID, user name and protocol version, over clear text and
// over TLS terminated by Switchyard; a second connection of a limited
// client ID is refused with the CONNACK its version expects; a malformed
// CONNECT is closed (MQTT 5: CONNACK 0x81 first).
func TestMQTTRouting(t *testing.T) {
	t.Parallel()
	bin, why := findMosquitto()
	if bin == "" {
		t.Skip("MQTT test skipped: " + why)
	}
	brokerA := startMosquitto(t, bin, "a")
	brokerB := startMosquitto(t, bin, "b")

	e := newEnv(t)
	ca := newCA(t, "mqtt CA")
	cert, key := ca.issue(t, "mqtt.test", []string{"mqtt.test"}, false)
	writePair(t, e.Dir, "mqtt", cert, key)
	e.SetURL("a", brokerA)
	e.SetURL("b", brokerB)
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  mqtt:
    address: "<% addr "mqtt" %>"
  mqtts:
    address: "<% addr "mqtts" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
tcp:
  routers:
    sensors:
      entryPoints: [mqtt]
      rule: "MQTTClientID(`+"`^sensor-`"+`)"
      service: a
      middlewares: [one-per-client]
    admins:
      entryPoints: [mqtt]
      rule: "MQTTUsername(`+"`^admin$`"+`)"
      service: a
    legacy-and-v5:
      entryPoints: [mqtt]
      rule: "MQTTProtocolVersion(`+"`3.1`"+`) || (MQTTProtocolVersion(`+"`5`"+`) && !MQTTClientID(`+"`^phone-`"+`))"
      service: a
      middlewares: [one-per-client]
    rest:
      entryPoints: [mqtt]
      rule: "HostSNI(`+"`*`"+`)"
      service: b
    tls-sensors:
      entryPoints: [mqtts]
      rule: "HostSNI(`+"`mqtt.test`"+`) && MQTTClientID(`+"`^sensor-`"+`)"
      service: a
      tls: {}
    tls-rest:
      entryPoints: [mqtts]
      rule: "HostSNI(`+"`mqtt.test`"+`)"
      service: b
      tls: {}
  middlewares:
    one-per-client:
      mqttInFlightConn:
        amount: 1
  services:
    a:
      loadBalancer:
        servers:
          - address: "<% url "a" %>"
    b:
      loadBalancer:
        servers:
          - address: "<% url "b" %>"
tls:
  certificates:
    - certFile: "<% dir %>/mqtt.crt"
      keyFile: "<% dir %>/mqtt.key"
`)
	e.Start()
	var raw struct {
		TCPRouters map[string]struct {
			Status string   `json:"status"`
			Error  []string `json:"error"`
		} `json:"tcpRouters"`
	}
	e.waitFor(10*time.Second, "tcp routers in the API", func() bool {
		return getJSON(e.URL("traefik")+"/api/rawdata", &raw) == nil && len(raw.TCPRouters) == 6
	})
	for n, r := range raw.TCPRouters {
		if r.Status != "enabled" {
			t.Fatalf("router %s: %s %v", n, r.Status, r.Error)
		}
	}
	e.WaitListening(e.Addr("mqtt"))
	e.WaitListening(e.Addr("mqtts"))
	proxy := "tcp://" + e.Addr("mqtt")

	// Direct subscribers on each broker see where a client landed.
	var onA, onB collector
	for _, s := range []struct {
		addr string
		c    *collector
	}{{brokerA, &onA}, {brokerB, &onB}} {
		sub, err := mqttClient(t, "tcp://"+s.addr, "watch-"+strings.ReplaceAll(s.addr, ":", "-"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := s.c
		if tok := sub.Subscribe("probe/#", 1, func(_ paho.Client, m paho.Message) { c.add(m) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
	}
	waitMsg := func(c *collector, msg string) {
		t.Helper()
		e.waitFor(10*time.Second, "message "+msg, func() bool { return c.has(msg) })
	}

	t.Run("client ID, user name and version route to the right broker", func(t *testing.T) {
		for _, tc := range []struct {
			id, user string
			version  uint
			want     *collector
		}{
			{"sensor-1", "", 4, &onA},
			{"phone-1", "", 4, &onB},
			{"tablet-1", "admin", 4, &onA},
			{"tablet-2", "guest", 4, &onB},
			{"legacy-1", "", 3, &onA}, // MQTT 3.1 (MQIsdp)
		} {
			c, err := mqttClient(t, proxy, tc.id, func(o *paho.ClientOptions) {
				o.SetUsername(tc.user).SetProtocolVersion(tc.version)
			})
			if err != nil {
				t.Fatalf("%s: %v", tc.id, err)
			}
			publish(t, c, "probe/"+tc.id, "hello")
			waitMsg(tc.want, "probe/"+tc.id+"|hello")
		}
		// MQTT 5, hand-written: version 5 goes to A unless a phone.
		for id, want := range map[string]*collector{"v5-1": &onA, "phone-v5": &onB} {
			c, err := net.Dial("tcp", e.Addr("mqtt"))
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(rawConnect(5, 0x02, id, "")); err != nil {
				t.Fatal(err)
			}
			ack := make([]byte, 4)
			if _, err := io.ReadFull(c, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
				t.Fatalf("%s: CONNACK %x %v", id, ack, err)
			}
			if _, err := c.Write(rawPublish5("probe/"+id, "v5")); err != nil {
				t.Fatal(err)
			}
			waitMsg(want, "probe/"+id+"|v5")
			c.Close()
		}
		for _, m := range onA.all() {
			if strings.Contains(m, "phone") || strings.Contains(m, "tablet-2") {
				t.Errorf("broker A got %s", m)
			}
		}
		for _, m := range onB.all() {
			if strings.Contains(m, "sensor") || strings.Contains(m, "legacy") || strings.Contains(m, "v5-1") || strings.Contains(m, "tablet-1") {
				t.Errorf("broker B got %s", m)
			}
		}
	})

	t.Run("subscribe through the proxy", func(t *testing.T) {
		got := make(chan string, 1)
		c, err := mqttClient(t, proxy, "phone-sub", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok := c.Subscribe("cmd/phone-sub", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		direct, err := mqttClient(t, "tcp://"+brokerB, "pusher", nil)
		if err != nil {
			t.Fatal(err)
		}
		publish(t, direct, "cmd/phone-sub", "wake up")
		select {
		case m := <-got:
			if m != "wake up" {
				t.Fatalf("got %q", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message pushed through the proxy")
		}
	})

	t.Run("per-client limit", func(t *testing.T) {
		first, err := mqttClient(t, proxy, "sensor-dup", nil)
		if err != nil {
			t.Fatal(err)
		}
		// A real 3.1.1 client sees return code 3 (server unavailable).
		_, err = mqttClient(t, proxy, "sensor-dup", nil)
		if !errors.Is(err, packets.ErrorRefusedServerUnavailable) {
			t.Fatalf("second sensor-dup: %v, want server unavailable", err)
		}
		// MQTT 5: CONNACK reason 0x97 (quota exceeded), then close.
		keep, err := net.Dial("tcp", e.Addr("mqtt"))
		if err != nil {
			t.Fatal(err)
		}
		defer keep.Close()
		_ = keep.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := keep.Write(rawConnect(5, 0x02, "v5-dup", "")); err != nil {
			t.Fatal(err)
		}
		if ack := make([]byte, 4); func() error { _, err := io.ReadFull(keep, ack); return err }() != nil || ack[3] != 0 {
			t.Fatalf("first v5-dup refused: %x", ack)
		}
		got, closed := exchange(t, e.Addr("mqtt"), rawConnect(5, 0x02, "v5-dup", ""), 5)
		if !bytes.Equal(got, []byte{0x20, 0x03, 0x00, 0x97, 0x00}) || !closed {
			t.Fatalf("second v5-dup: %x closed=%v, want 20030097 00 then close", got, closed)
		}
		// The slot comes back when the first connection ends.
		first.Disconnect(50)
		e.waitFor(10*time.Second, "sensor-dup accepted again", func() bool {
			c, err := mqttClient(t, proxy, "sensor-dup", nil)
			if err == nil {
				c.Disconnect(50)
			}
			return err == nil
		})
	})

	t.Run("malformed CONNECT", func(t *testing.T) {
		// MQTT 5, reserved connect flag set: CONNACK 0x81 then close.
		got, closed := exchange(t, e.Addr("mqtt"), rawConnect(5, 0x03, "bad", ""), 5)
		if !bytes.Equal(got, []byte{0x20, 0x03, 0x00, 0x81, 0x00}) || !closed {
			t.Fatalf("v5 malformed: %x closed=%v", got, closed)
		}
		// 3.1.1: no CONNACK for a malformed packet, just the close.
		got, closed = exchange(t, e.Addr("mqtt"), rawConnect(4, 0x03, "bad", ""), 1)
		if len(got) != 0 || !closed {
			t.Fatalf("3.1.1 malformed: %x closed=%v", got, closed)
		}
		// Unknown protocol level: CONNACK return code 1.
		bad := rawConnect(4, 0x02, "bad", "")
		bad[8] = 9
		got, closed = exchange(t, e.Addr("mqtt"), bad, 4)
		if !bytes.Equal(got, []byte{0x20, 0x02, 0x00, 0x01}) || !closed {
			t.Fatalf("level 9: %x closed=%v", got, closed)
		}
		if out := e.Proc.Output(); !strings.Contains(out, "mqtt: connection refused") || !strings.Contains(out, "reserved connect flag") {
			t.Errorf("no log line for the malformed CONNECT:\n%s", lastLines(out, 10))
		}
	})

	t.Run("large CONNECT in pieces is read whole and replayed", func(t *testing.T) {
		c, err := net.Dial("tcp", e.Addr("mqtt"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		// 20 KB of user name: past the 4 KiB first read, in three writes.
		b := rawConnect(5, 0x82, "sensor-big", strings.Repeat("u", 20000))
		for _, part := range [][]byte{b[:3], b[3:9000], b[9000:]} {
			if _, err := c.Write(part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
		}
		ack := make([]byte, 4)
		if _, err := io.ReadFull(c, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
			t.Fatalf("CONNACK %x %v", ack, err)
		}
		if _, err := c.Write(rawPublish5("probe/sensor-big", "big")); err != nil {
			t.Fatal(err)
		}
		waitMsg(&onA, "probe/sensor-big|big")

		// Over 64 KiB: MQTT 5 gets CONNACK 0x95 (packet too large).
		huge := rawConnect(5, 0xC2, "sensor-huge", strings.Repeat("u", 65000), strings.Repeat("p", 3000))
		hc, err := net.Dial("tcp", e.Addr("mqtt"))
		if err != nil {
			t.Fatal(err)
		}
		defer hc.Close()
		_ = hc.SetDeadline(time.Now().Add(10 * time.Second))
		go func() { _, _ = hc.Write(huge) }()
		got := make([]byte, 5)
		if _, err := io.ReadFull(hc, got); err != nil || !bytes.Equal(got, []byte{0x20, 0x03, 0x00, 0x95, 0x00}) {
			t.Fatalf("too large: %x %v", got, err)
		}
	})

	t.Run("MQTT over TLS terminated by Switchyard", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(ca.PEM))
		for id, want := range map[string]*collector{"sensor-tls": &onA, "phone-tls": &onB} {
			c, err := mqttClient(t, "ssl://"+e.Addr("mqtts"), id, func(o *paho.ClientOptions) {
				o.SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "mqtt.test"})
			})
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			publish(t, c, "probe/"+id, "tls")
			waitMsg(want, "probe/"+id+"|tls")
		}
	})
}
