package integration

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

// sseBackend streams one event every 100 ms until the client goes;
// gone receives when the proxy ended the request.
func sseBackend(t *testing.T) (url string, gone chan struct{}) {
	gone = make(chan struct{}, 8)
	url = startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { gone <- struct{}{} }()
		w.Header().Set("Content-Type", "text/event-stream")
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tk.C:
			}
		}
	}))
	return url, gone
}

// holdingEcho echoes every byte and never closes on its own; closed
// receives when the proxy closed its side.
func holdingEcho(t *testing.T) (addr string, closed chan struct{}) {
	closed = make(chan struct{}, 8)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				closed <- struct{}{}
			}()
		}
	}()
	return ln.Addr().String(), closed
}

// serverSocketInode finds, in the netns of process pid, the inode of the
// socket connected from remote to local ("" when there is none).
func serverSocketInode(pid int, local, remote netip.AddrPort) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return ""
	}
	want := procTCPAddr(local) + " " + procTCPAddr(remote)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[1]+" "+f[2] == want {
			return f[9]
		}
	}
	return ""
}

// procTCPAddr writes an IPv4 address as /proc/net/tcp does: the address
// in host (little-endian) byte order, the port big-endian, both in hex.
func procTCPAddr(a netip.AddrPort) string {
	ip := a.Addr().As4()
	return strings.ToUpper(hex.EncodeToString([]byte{ip[3], ip[2], ip[1], ip[0]})) + fmt.Sprintf(":%04X", a.Port())
}

// hasSocket reports whether process pid holds a descriptor on the socket.
func hasSocket(pid int, inode string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	want := "socket:[" + inode + "]"
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == want {
			return true
		}
	}
	return false
}

// TestLivenessEvictsHalfDeadConnections (proof (d) of issue 15): clients
// in a network namespace hold an idle keep-alive HTTP/1.1 connection, an
// idle WebSocket, an idle TCP-router connection, an idle HTTP/2
// connection and an SSE stream the backend keeps feeding; then the
// namespace's link goes down (no FIN, no RST: a vanished phone).
// Switchyard must close every one of their sockets (its descriptor gone)
// within the configured bound — keep-alive idle 1s + interval 1s × count 2
// = 3s for the idle ones, tcpUserTimeout 3s for the stream that has
// unacknowledged data — and close the backend sides too. A healthy idle
// WebSocket from outside the namespace lives on: probes that are
// answered never evict.
func TestLivenessEvictsHalfDeadConnections(t *testing.T) {
	if !isRoot() {
		t.Skip("needs root: network namespace and veth pair")
	}
	t.Parallel()
	netw, err := kubetest.NewNet()
	if err != nil {
		t.Skipf("network namespace: %v", err)
	}
	t.Cleanup(netw.Remove)
	clientIP := netw.NewIP(t)
	hostIP := netw.HostIP()

	wsURL, wsClosed := tunnelBackend(t)
	sseURL, sseGone := sseBackend(t)
	echoAddr, echoClosed := holdingEcho(t)

	e := newEnv(t)
	e.SetURL("ws", wsURL)
	e.SetURL("sse", sseURL)
	e.SetURL("plain", e.Backend("plain"))
	e.SetURL("echo", echoAddr)
	e.WriteDynamic("yml", `
http:
  routers:
    ws:
      rule: "PathPrefix(`+"`/ws`"+`)"
      service: ws
    sse:
      rule: "PathPrefix(`+"`/sse`"+`)"
      service: sse
    plain:
      rule: "PathPrefix(`+"`/`"+`)"
      service: plain
  services:
    ws:
      loadBalancer:
        servers: [{url: "<% url "ws" %>"}]
    sse:
      loadBalancer:
        servers: [{url: "<% url "sse" %>"}]
    plain:
      loadBalancer:
        servers: [{url: "<% url "plain" %>"}]
tcp:
  routers:
    echo:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: echo
  services:
    echo:
      loadBalancer:
        servers: [{address: "<% url "echo" %>"}]
`)
	e.WriteStatic("yml", strings.ReplaceAll(`
entryPoints:
  web:
    address: "HOSTIP:<% port "web" %>"
    transport: &liveness
      tcpKeepAlive: {idle: 1s, interval: 1s, count: 2}
      tcpUserTimeout: 3s
      respondingTimeouts: {readTimeout: 60s, idleTimeout: 60s}
  tcp:
    address: "HOSTIP:<% port "tcp" %>"
    transport: *liveness
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`, "HOSTIP", hostIP))
	proc := e.Start()
	e.WaitRouters("ws@file", "sse@file", "plain@file")
	pid := proc.cmd.Process.Pid
	web := net.JoinHostPort(hostIP, fmt.Sprint(e.Port("web")))
	tcpEP := net.JoinHostPort(hostIP, fmt.Sprint(e.Port("tcp")))
	e.WaitListening(web)

	dial := func(addr string) net.Conn {
		t.Helper()
		c, err := netw.Dial("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %s from the namespace (%s): %v", addr, clientIP, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	conns := map[string]net.Conn{}

	// Idle keep-alive HTTP/1.1 after one request.
	h1 := dial(web)
	_ = h1.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(h1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(h1), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("h1 request: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	conns["h1 keep-alive"] = h1

	// Idle WebSocket after one exchange.
	ws := dial(web)
	wsBr := upgradeOn(t, ws)
	if err := echoOnce(ws, wsBr, "ping"); err != nil {
		t.Fatalf("websocket echo: %v", err)
	}
	conns["websocket"] = ws

	// Idle TCP-router connection after one exchange.
	tc := dial(tcpEP)
	if err := echoOnce(tc, bufio.NewReader(tc), "hello"); err != nil {
		t.Fatalf("tcp echo: %v", err)
	}
	conns["tcp router"] = tc

	// Idle HTTP/2 (h2c, prior knowledge) after one request.
	var h2c net.Conn
	h2tr := &http.Transport{Protocols: new(http.Protocols), DialContext: func(context.Context, string, string) (net.Conn, error) {
		h2c = dial(web)
		return h2c, nil
	}}
	h2tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h2tr.CloseIdleConnections)
	resp, err = (&http.Client{Transport: h2tr, Timeout: 10 * time.Second}).Get("http://" + web + "/")
	if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("h2 request: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conns["h2"] = h2c

	// An SSE stream the backend keeps feeding: data stays unacknowledged
	// once the link is cut, so keep-alive never fires; the user timeout
	// bounds it.
	sse := dial(web)
	_ = sse.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(sse, "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
	sseBr := bufio.NewReader(sse)
	resp, err = http.ReadResponse(sseBr, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sse request: %v %v", resp, err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("sse first event: %q %v", line, err)
	}
	conns["sse stream"] = sse

	// The control: a healthy idle WebSocket from the host's namespace.
	healthy, err := net.DialTimeout("tcp", web, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { healthy.Close() })
	healthyBr := upgradeOn(t, healthy)
	if err := echoOnce(healthy, healthyBr, "ok"); err != nil {
		t.Fatal(err)
	}

	inodes := map[string]string{}
	for name, c := range conns {
		local := netip.MustParseAddrPort(c.RemoteAddr().String())
		remote := netip.MustParseAddrPort(c.LocalAddr().String())
		ino := serverSocketInode(pid, local, remote)
		if ino == "" || !hasSocket(pid, ino) {
			t.Fatalf("%s: no switchyard socket from %s to %s", name, remote, local)
		}
		inodes[name] = ino
	}
	healthyIno := serverSocketInode(pid, netip.MustParseAddrPort(healthy.RemoteAddr().String()), netip.MustParseAddrPort(healthy.LocalAddr().String()))

	if err := netw.Cut(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	const bound = 3 * time.Second
	// Slack for the kernel's timer granularity and a loaded machine.
	deadline := cut.Add(bound + 4*time.Second)
	evicted := map[string]time.Duration{}
	for len(evicted) < len(inodes) && time.Now().Before(deadline) {
		for name, ino := range inodes {
			if _, done := evicted[name]; !done && !hasSocket(pid, ino) {
				evicted[name] = time.Since(cut)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name := range inodes {
		d, ok := evicted[name]
		switch {
		case !ok:
			t.Errorf("%s: still open %v after the link went down (bound %v)", name, time.Since(cut).Round(time.Millisecond), bound)
		default:
			t.Logf("%s: closed %v after the link went down (bound %v)", name, d.Round(time.Millisecond), bound)
		}
	}
	for name, ch := range map[string]chan struct{}{"websocket backend": wsClosed, "tcp backend": echoClosed, "sse backend": sseGone} {
		select {
		case <-ch:
		case <-time.After(time.Until(deadline) + time.Second):
			t.Errorf("%s: not closed after its client was evicted", name)
		}
	}
	if !hasSocket(pid, healthyIno) {
		t.Fatal("the healthy idle WebSocket was closed")
	}
	if err := echoOnce(healthy, healthyBr, "still here"); err != nil {
		t.Fatalf("healthy idle WebSocket after the others were evicted: %v", err)
	}
}

// upgradeOn sends a WebSocket upgrade on c and reads the 101.
func upgradeOn(t *testing.T, c net.Conn) *bufio.Reader {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	_ = c.SetDeadline(time.Time{})
	return br
}

// TestRespondingTimeoutsSpareLongConnections: readTimeout and writeTimeout
// bound one request and one response, not a healthy long connection: an
// SSE stream and a WebSocket that exchange data slowly outlive both (1s)
// several times over.
func TestRespondingTimeoutsSpareLongConnections(t *testing.T) {
	t.Parallel()
	wsURL, _ := tunnelBackend(t)
	sseURL, _ := sseBackend(t)
	e := newEnv(t)
	e.SetURL("ws", wsURL)
	e.SetURL("sse", sseURL)
	e.WriteDynamic("yml", `
http:
  routers:
    ws:
      rule: "PathPrefix(`+"`/ws`"+`)"
      service: ws
    sse:
      rule: "PathPrefix(`+"`/sse`"+`)"
      service: sse
  services:
    ws:
      loadBalancer:
        servers: [{url: "<% url "ws" %>"}]
    sse:
      loadBalancer:
        servers: [{url: "<% url "sse" %>"}]
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      respondingTimeouts: {readTimeout: 1s, writeTimeout: 1s, idleTimeout: 2s}
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("ws@file", "sse@file")

	sse, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Close()
	_, _ = io.WriteString(sse, "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = sse.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(sse), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sse: %v %v", resp, err)
	}
	events := bufio.NewReader(resp.Body)
	sseDone := make(chan error, 1)
	go func() {
		// 5 s of events (one every 100 ms): five times each timeout.
		until := time.Now().Add(5 * time.Second)
		for time.Now().Before(until) {
			if _, err := events.ReadString('\n'); err != nil {
				sseDone <- fmt.Errorf("sse stream cut after %v: %w", 5*time.Second-time.Until(until), err)
				return
			}
		}
		sseDone <- nil
	}()

	// The same stream over HTTP/2 (h2c, prior knowledge).
	h2Done := make(chan error, 1)
	go func() {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(e.URL("web") + "/sse")
		if err != nil {
			h2Done <- fmt.Errorf("h2 sse: %w", err)
			return
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 2 {
			h2Done <- fmt.Errorf("h2 sse: served over %s", resp.Proto)
			return
		}
		br := bufio.NewReader(resp.Body)
		until := time.Now().Add(5 * time.Second)
		for time.Now().Before(until) {
			if _, err := br.ReadString('\n'); err != nil {
				h2Done <- fmt.Errorf("h2 sse stream cut after %v: %w", 5*time.Second-time.Until(until), err)
				return
			}
		}
		h2Done <- nil
	}()

	ws, wsBr := openTunnel(t, e.Addr("web"))
	for i := range 10 { // one exchange every 500 ms for 5 s
		if err := echoOnce(ws, wsBr, fmt.Sprintf("msg %d", i)); err != nil {
			t.Fatalf("websocket cut after %d exchanges: %v", i, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, ch := range []chan error{sseDone, h2Done} {
		if err := <-ch; err != nil {
			t.Error(err)
		}
	}
}

// pingBackend answers a WebSocket upgrade, then sends a text frame "tick"
// every 200 ms in two writes (a frame cut in the middle, so that an
// injected Ping must wait for its end) and reads what the client sends;
// pongs counts the Pong frames that reached it, closed when its side
// closed.
func pingBackend(t *testing.T) (url string, pongs *atomic.Int32, closed chan struct{}) {
	pongs = new(atomic.Int32)
	closed = make(chan struct{}, 8)
	url = startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		go func() {
			for {
				op, _, err := readWSFrame(brw.Reader)
				if err != nil {
					_ = c.Close()
					closed <- struct{}{}
					return
				}
				if op == 0xA {
					pongs.Add(1)
				}
			}
		}()
		for {
			if _, err := c.Write([]byte{0x81, 4, 't', 'i'}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte("ck")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}))
	return url, pongs, closed
}

// readWSFrame reads one frame (masked or not).
func readWSFrame(br *bufio.Reader) (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126, 127:
		ext := make([]byte, map[uint64]int{126: 2, 127: 8}[n])
		if _, err := io.ReadFull(br, ext); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | uint64(b)
		}
	}
	var mask [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return h[0] & 0x0f, payload, nil
}

// TestWebSocketPing: with transport.webSocketPing, a WebSocket client
// that answers the proxy's Pings lives on (and its Pongs reach the
// backend), the Pings arrive between whole frames of the backend's
// stream; a client that stays silent is closed after interval + timeout,
// backend side included, although its TCP connection is healthy.
func TestWebSocketPing(t *testing.T) {
	t.Parallel()
	url, pongs, backClosed := pingBackend(t)
	e := newEnv(t)
	e.SetURL("ws", url)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
  services:
    app:
      loadBalancer:
        servers: [{url: "<% url "ws" %>"}]
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      webSocketPing: {interval: 1s, timeout: 1s}
      respondingTimeouts: {idleTimeout: 60s}
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")

	// A client that answers every Ping with a (masked) Pong.
	answering, br := openTunnel(t, e.Addr("web"))
	silent, silentBr := openTunnel(t, e.Addr("web"))
	silentStart := time.Now()
	silentDone := make(chan time.Duration, 1)
	go func() {
		_ = silent.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			if _, _, err := readWSFrame(silentBr); err != nil {
				silentDone <- time.Since(silentStart)
				return
			}
		}
	}()

	pings := 0
	until := time.Now().Add(4 * time.Second)
	_ = answering.SetReadDeadline(time.Now().Add(10 * time.Second))
	for time.Now().Before(until) {
		op, payload, err := readWSFrame(br)
		if err != nil {
			t.Fatalf("answering client: stream broken after %d pings: %v", pings, err)
		}
		switch op {
		case 0x9:
			pings++
			if _, err := answering.Write([]byte{0x8A, 0x80, 0, 0, 0, 0}); err != nil {
				t.Fatal(err)
			}
		case 0x1:
			if string(payload) != "tick" {
				t.Fatalf("text frame %q: a Ping was injected inside a frame", payload)
			}
		default:
			t.Fatalf("unexpected opcode %#x", op)
		}
	}
	if pings < 2 {
		t.Errorf("answering client got %d pings in 4s (interval 1s)", pings)
	}
	if pongs.Load() == 0 {
		t.Error("no Pong reached the backend")
	}
	select {
	case d := <-silentDone:
		if d < 1500*time.Millisecond || d > 6*time.Second {
			t.Errorf("silent client closed after %v, want about interval + timeout (2s)", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("silent client never closed")
	}
	select {
	case <-backClosed:
	case <-time.After(5 * time.Second):
		t.Error("backend side of the silent client's tunnel not closed")
	}
}
