package integration

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// HTTP/3 hardening through the real binary: the anti-amplification limit
// before address validation, Retry-based address validation
// (http3.validateAddress), garbage datagrams dropped cheaply while a real
// client is served.

// newH3HardEnv: entrypoint "open" (maxConcurrentStreams 5, idleTimeout
// 2s, maxHeaderBytes 16 KiB) and "retry"
// (http3.validateAddress), both serving Host h3.test. The certificate
// carries 300 names so that the server's handshake flight (~10 KB) is well
// over three times a client's first flight.
func newH3HardEnv(t *testing.T) (*Env, *testCA) {
	t.Helper()
	e := newEnv(t)
	ca := newCA(t, "h3 hardening CA")
	names := []string{"h3.test"}
	for i := range 300 {
		names = append(names, fmt.Sprintf("name-%03d.padding.h3.test", i))
	}
	c, k := ca.issue(t, "h3.test", names, false)
	writePair(t, e.Dir, "h3", c, k)
	e.SetURL("back", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  open:
    address: "<% addr "open" %>"
    http3: {}
    http2:
      maxConcurrentStreams: 5
    http:
      maxHeaderBytes: 16384
    transport:
      respondingTimeouts:
        idleTimeout: 2s
  retry:
    address: "<% addr "retry" %>"
    http3:
      validateAddress: true
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      entryPoints: [open, retry]
      rule: "Host(`+"`h3.test`"+`)"
      service: back
      tls: {}
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
tls:
  certificates:
    - certFile: "<% dir %>/h3.crt"
      keyFile: "<% dir %>/h3.key"
`)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("open"))
	e.WaitListening(e.Addr("retry"))
	return e, ca
}

// h3Get does one HTTP/3 request with a fresh client.
func h3Get(t testing.TB, ca *testCA, addr string) error {
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
	defer tr.Close()
	resp, err := h3Client{&http.Client{Transport: tr, Timeout: 10 * time.Second}, "h3.test"}.Get("https://" + addr + "/")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 3 || string(body) != "ok" {
		return fmt.Errorf("status %d proto %d body %q", resp.StatusCode, resp.ProtoMajor, body)
	}
	return nil
}

// mutePC passes the client's datagrams until the server first answers,
// then swallows everything the client sends: a client that never proves
// its address (or a spoofed one). It counts the bytes both ways and
// records the first byte of every datagram from the server.
type mutePC struct {
	net.PacketConn
	sent, recv atomic.Int64
	answered   atomic.Bool
	mu         sync.Mutex
	first      []byte
	sizes      []int
	at         []time.Time
}

func (c *mutePC) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.answered.Load() {
		return len(p), nil
	}
	c.sent.Add(int64(len(p)))
	return c.PacketConn.WriteTo(p, addr)
}

func (c *mutePC) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if n > 0 {
		c.recv.Add(int64(n))
		c.answered.Store(true)
		c.mu.Lock()
		c.first = append(c.first, p[0])
		c.sizes = append(c.sizes, n)
		c.at = append(c.at, time.Now())
		c.mu.Unlock()
	}
	return n, addr, err
}

// muteHandshake starts a QUIC handshake to addr that goes silent after the
// server's first datagram and returns what went each way after wait.
func muteHandshake(t *testing.T, ca *testCA, addr string, wait time.Duration) *mutePC {
	t.Helper()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc := &mutePC{PacketConn: udp}
	tr := &quic.Transport{Conn: pc}
	defer tr.Close()
	defer udp.Close()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// X25519 alone keeps the ClientHello in one Initial datagram (a
	// post-quantum key share takes two), so the server can answer it.
	_, err = tr.Dial(ctx, ua, &tls.Config{
		RootCAs: ca.pool(), ServerName: "h3.test", NextProtos: []string{http3.NextProtoH3},
		CurvePreferences: []tls.CurveID{tls.X25519},
	}, &quic.Config{})
	if err == nil {
		t.Fatal("handshake completed without the client's second flight")
	}
	return pc
}

// TestHTTP3Amplification: before the client's address is validated the
// server never sends more than three times what it received (RFC 9000
// §8.1), however many times it retransmits; with http3.validateAddress
// it sends a single Retry and no handshake data at all. Real clients
// connect to both.
func TestHTTP3Amplification(t *testing.T) {
	e, ca := newH3HardEnv(t)
	for _, ep := range []string{"open", "retry"} {
		if err := h3Get(t, ca, e.Addr(ep)); err != nil {
			t.Fatalf("%s: real client: %v", ep, err)
		}
	}

	pc := muteHandshake(t, ca, e.Addr("open"), 4*time.Second)
	sent, recv := pc.sent.Load(), pc.recv.Load()
	t.Logf("no validation: client sent %d bytes, server answered %d bytes in %d datagrams (%.2fx)", sent, recv, len(pc.first), float64(recv)/float64(sent))
	for i := range pc.first {
		t.Logf("  datagram %d: first byte %#x, %d bytes, at +%v", i, pc.first[i], pc.sizes[i], pc.at[i].Sub(pc.at[0]).Round(time.Millisecond))
	}
	if sent == 0 || recv == 0 {
		t.Fatalf("sent %d, received %d", sent, recv)
	}
	// The handshake data stays within 3x. quic-go then sends one
	// CONNECTION_CLOSE (~120 bytes) when it gives up on the connection
	// (here at idleTimeout, 2 s) without counting it against the limit.
	var handshake int64
	for i, n := range pc.sizes {
		if i > 0 && pc.at[i].Sub(pc.at[0]) > time.Second && n <= 200 {
			t.Logf("  datagram %d: the close, %d bytes", i, n)
			continue
		}
		handshake += int64(n)
	}
	if handshake > 3*sent || recv > 3*sent+200 {
		t.Fatalf("amplification: %d bytes of handshake (%d in all) answered to %d (limit 3x)", handshake, recv, sent)
	}

	pc = muteHandshake(t, ca, e.Addr("retry"), 3*time.Second)
	sent, recv = pc.sent.Load(), pc.recv.Load()
	t.Logf("validateAddress: client sent %d bytes, server answered %d bytes in %d datagrams", sent, recv, len(pc.first))
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, b := range pc.first {
		// QUIC v1 long header, type Retry: 0b1111xxxx.
		if b&0xf0 != 0xf0 {
			t.Fatalf("validateAddress: server sent a packet of first byte %#x before the address was validated (want Retry only)", b)
		}
	}
	if len(pc.first) == 0 || recv >= sent {
		t.Fatalf("validateAddress: %d datagrams, %d bytes before validation to %d received, want a Retry per Initial", len(pc.first), recv, sent)
	}
}

// TestHTTP3GarbageDatagrams: 100,000 random datagrams at the HTTP/3 port
// are dropped cheaply — the process lives, spends little CPU on them,
// answers no more bytes than it got, and a real client keeps being served
// meanwhile.
func TestHTTP3GarbageDatagrams(t *testing.T) {
	e, ca := newH3HardEnv(t)
	pid := e.Proc.cmd.Process.Pid
	addr := e.Addr("open")
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := h3Get(t, ca, addr); err != nil {
		t.Fatal(err)
	}

	// A real client, one request every 50 ms on one connection.
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
	defer tr.Close()
	hc := h3Client{&http.Client{Transport: tr, Timeout: 10 * time.Second}, "h3.test"}
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			resp, err := hc.Get("https://" + addr + "/")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			} else {
				ok.Add(1)
			}
		}
	}()

	const total = 100_000
	const senders = 4
	var sentBytes, gotBytes atomic.Int64
	cpu0 := cpuTicks(t, pid)
	start := time.Now()
	var sw sync.WaitGroup
	for s := range senders {
		sw.Add(1)
		go func() {
			defer sw.Done()
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			go func() { // count whatever comes back
				buf := make([]byte, 2048)
				for {
					n, _, err := c.ReadFrom(buf)
					if err != nil {
						return
					}
					gotBytes.Add(int64(n))
				}
			}()
			buf := make([]byte, 1500)
			for i := range total / senders {
				// Sizes from 1 to 1400 bytes; every other one a
				// plausible long header (first bit set).
				n := 1 + (i*7919+s*31)%1400
				_, _ = rand.Read(buf[:n])
				if i%2 == 0 {
					buf[0] |= 0xc0
				}
				if _, err := c.WriteToUDP(buf[:n], ua); err == nil {
					sentBytes.Add(int64(n))
				}
				if i%256 == 0 {
					time.Sleep(time.Millisecond) // let the loopback queue drain
				}
			}
			time.Sleep(200 * time.Millisecond)
		}()
	}
	sw.Wait()
	elapsed := time.Since(start)
	cpu := cpuTicks(t, pid) - cpu0
	close(stop)
	wg.Wait()

	if e.Proc.Exited() {
		t.Fatal("switchyard exited under garbage datagrams")
	}
	t.Logf("%d datagrams (%d KiB) in %v: switchyard CPU %d ms (%.1f µs a datagram), answered %d bytes; real client %d ok, %d failed",
		total, sentBytes.Load()>>10, elapsed.Round(time.Millisecond), cpu*10, float64(cpu*10_000)/total, gotBytes.Load(), ok.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("real client: %d failures, first: %v", failed.Load(), firstErr.Load())
	}
	if ok.Load() == 0 {
		t.Error("real client: no request answered")
	}
	if gotBytes.Load() > sentBytes.Load() {
		t.Errorf("answered %d bytes to %d bytes of garbage", gotBytes.Load(), sentBytes.Load())
	}
	// Loose: well under 50 µs of CPU per garbage datagram.
	if cpu*10_000 > 50*total {
		t.Errorf("CPU %d ms for %d datagrams", cpu*10, total)
	}
	if err := h3Get(t, ca, addr); err != nil {
		t.Fatalf("after the garbage: %v", err)
	}
}

// TestHTTP3Limits: a QUIC connection may open http2.maxConcurrentStreams
// request streams at once, an idle one is closed at
// respondingTimeouts.idleTimeout, and headers beyond http.maxHeaderBytes
// are refused.
func TestHTTP3Limits(t *testing.T) {
	e, ca := newH3HardEnv(t)
	{
		tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		req, _ := http.NewRequest("GET", "https://"+e.Addr("open")+"/", nil)
		req.Host = "h3.test"
		req.Header.Set("X-Big", strings.Repeat("b", 32<<10))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("32 KiB header over HTTP/3 with maxHeaderBytes 16 KiB: %d", resp.StatusCode)
			}
			t.Logf("32 KiB header over HTTP/3: %d", resp.StatusCode)
		} else {
			t.Logf("32 KiB header over HTTP/3: %v", err)
		}
		tr.Close()
		if err := h3Get(t, ca, e.Addr("open")); err != nil {
			t.Fatalf("after the big header: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, e.Addr("open"), &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test", NextProtos: []string{http3.NextProtoH3}}, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	for i := range 5 {
		if _, err := conn.OpenStream(); err != nil {
			t.Fatalf("stream %d: %v", i+1, err)
		}
	}
	if _, err := conn.OpenStream(); err == nil {
		t.Fatal("a 6th concurrent stream was allowed (maxConcurrentStreams 5)")
	} else {
		t.Logf("6th stream: %v", err)
	}

	conn2, err := quic.DialAddr(ctx, e.Addr("open"), &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test", NextProtos: []string{http3.NextProtoH3}}, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-conn2.Context().Done():
		took := time.Since(start)
		t.Logf("idle QUIC connection closed after %v: %v", took.Round(time.Millisecond), context.Cause(conn2.Context()))
		if took < time.Second {
			t.Fatalf("closed after %v, before idleTimeout (2s)", took)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("idle QUIC connection still open after 15 s (idleTimeout 2s)")
	}
}
