package integration

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// raiseNofile lifts the descriptor limit to the hard one; the binary
// started afterwards inherits it.
func raiseNofile(t testing.TB, need uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatal(err)
		}
	}
	if rl.Cur < need {
		t.Skipf("descriptor limit %d, this test needs %d", rl.Cur, need)
	}
}

// childOf returns a child process of pid (the new process of an upgrade),
// 0 if none yet.
func childOf(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				return n
			}
		}
	}
	return 0
}

// gone: pid has exited (reaped, or a zombie waiting for its parent).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// sockets counts the sockets pid holds.
func sockets(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

func pollUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func seqAt(seed, i int64) byte { return byte(seed*131 + i*7 + i>>11) }

// stream is one long-lived connection carrying the counter sequence: the
// writer sends it in small bursts with pauses, the reader checks that the
// echo is the same sequence, byte for byte.
type stream struct {
	id          int64
	w           io.Writer
	r           io.Reader
	wrote, read atomic.Int64
	err         atomic.Pointer[error]
	closing     *atomic.Bool
}

func (s *stream) fail(err error) { s.err.CompareAndSwap(nil, &err) }

func (s *stream) writeLoop(stop <-chan struct{}, done func()) {
	defer done()
	rng := rand.New(rand.NewPCG(uint64(s.id), 7))
	buf := make([]byte, 256)
	var off int64
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(100+rng.IntN(400)) * time.Millisecond):
		}
		n := 1 + rng.IntN(len(buf))
		for i := range n {
			buf[i] = seqAt(s.id, off+int64(i))
		}
		if _, err := s.w.Write(buf[:n]); err != nil {
			s.fail(fmt.Errorf("conn %d: write after %d bytes: %w", s.id, off, err))
			return
		}
		off += int64(n)
		s.wrote.Store(off)
	}
}

func (s *stream) readLoop(done func()) {
	defer done()
	buf := make([]byte, 4096)
	var off int64
	for {
		n, err := s.r.Read(buf)
		for i := range n {
			if buf[i] != seqAt(s.id, off) {
				s.fail(fmt.Errorf("conn %d: byte %d is %d, want %d (lost or reordered)", s.id, off, buf[i], seqAt(s.id, off)))
				return
			}
			off++
		}
		s.read.Store(off)
		if err != nil {
			if err != io.EOF && !s.closing.Load() {
				s.fail(fmt.Errorf("conn %d: read after %d bytes: %w", s.id, off, err))
			}
			return
		}
	}
}

// TestUpgradeMovesLiveConnections is proof (a) of issue 15: 2,000 TCP
// echo connections through a TCP router and 500 WebSockets through an
// HTTP router stream both ways while the binary is upgraded twice
// (SIGUSR2); every byte comes back in order, each old process exits, and
// the connections end up in the newest process.
func TestUpgradeMovesLiveConnections(t *testing.T) {
	const nTCP, nWS = 2000, 500
	raiseNofile(t, 4*(nTCP+nWS)+2000)
	e := newEnv(t)

	// TCP echo backend: echoes until the client's FIN, then sends its own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				_ = c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	e.SetURL("echo", ln.Addr().String())
	// WebSocket echo backend (binary frames).
	e.SetURL("ws", startHandler(t, websocket.Handler(func(c *websocket.Conn) {
		c.PayloadType = websocket.BinaryFrame
		_, _ = io.Copy(c, c)
	})))

	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  tcp:
    address: "<% addr "tcp" %>"
    transport:
      lifeCycle:
        graceTimeOut: 10s
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        graceTimeOut: 10s
  traefik:
    address: "<% addr "traefik" %>"
    transport:
      lifeCycle:
        graceTimeOut: 2s
api:
  insecure: true
pidFile: "<% dir %>/switchyard.pid"
log:
  level: INFO
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
tcp:
  routers:
    echo:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: echo
  services:
    echo:
      loadBalancer:
        serversTransport: patient
        servers:
          - address: "<% url "echo" %>"
  serversTransports:
    patient:
      # After the client's FIN, the echo's last bytes may take longer
      # than the 100ms default on a loaded machine.
      terminationDelay: 30s
http:
  routers:
    ws:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/`"+`)"
      service: ws
  services:
    ws:
      loadBalancer:
        servers:
          - url: "<% url "ws" %>"
`)
	proc := e.Start()
	e.WaitRouters("ws@file")
	e.WaitListening(e.Addr("web"))
	// The TCP router answers once its configuration is applied.
	e.waitFor(10*time.Second, "TCP router echoes", func() bool {
		c, err := net.DialTimeout("tcp", e.Addr("tcp"), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		got, err := tcpExchange(c, "probe")
		return err == nil && got == "probe"
	})
	pids := []int{proc.cmd.Process.Pid}
	t.Cleanup(func() {
		// The new processes are not the harness's children: stop them
		// here (which also lets the harness's output pipes close),
		// with any process one of them started.
		for i := 0; i < len(pids); i++ {
			if c := childOf(pids[i]); c != 0 {
				pids = append(pids, c)
			}
		}
		for _, pid := range pids[1:] {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	pidFile := func() int {
		b, _ := os.ReadFile(filepath.Join(e.Dir, "switchyard.pid"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}

	// Open every connection (a few dozen at a time).
	streams := make([]*stream, nTCP+nWS)
	var closers []func()
	var mu sync.Mutex
	sem := make(chan struct{}, 32)
	var dialWG sync.WaitGroup
	var dialErr atomic.Pointer[error]
	var closing atomic.Bool // set once the test closes the connections
	for i := range streams {
		dialWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; dialWG.Done() }()
			s := &stream{id: int64(i), closing: &closing}
			if i < nTCP {
				c, err := net.DialTimeout("tcp", e.Addr("tcp"), 10*time.Second)
				if err != nil {
					dialErr.CompareAndSwap(nil, &err)
					return
				}
				s.w, s.r = c, c
				mu.Lock()
				closers = append(closers, func() { c.Close() })
				mu.Unlock()
			} else {
				cfg, err := websocket.NewConfig("ws://"+e.Addr("web")+"/ws", "http://localhost/")
				var c *websocket.Conn
				if err == nil {
					c, err = websocket.DialConfig(cfg)
				}
				if err != nil {
					dialErr.CompareAndSwap(nil, &err)
					return
				}
				c.PayloadType = websocket.BinaryFrame
				s.w, s.r = c, c
				mu.Lock()
				closers = append(closers, func() { c.Close() })
				mu.Unlock()
			}
			streams[i] = s
		}()
	}
	dialWG.Wait()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	if p := dialErr.Load(); p != nil {
		t.Fatalf("opening connections: %v", *p)
	}

	stop := make(chan struct{})
	var writers, readers sync.WaitGroup
	for _, s := range streams {
		writers.Add(1)
		readers.Add(1)
		go s.writeLoop(stop, writers.Done)
		go s.readLoop(readers.Done)
	}
	progress := func() (int64, int64) {
		var w, r int64
		for _, s := range streams {
			w += s.wrote.Load()
			r += s.read.Load()
		}
		return w, r
	}
	firstErr := func() error {
		for _, s := range streams {
			if p := s.err.Load(); p != nil {
				return *p
			}
		}
		return nil
	}
	time.Sleep(time.Second)

	start := time.Now()
	for gen := range 2 {
		old := pids[len(pids)-1]
		w0, _ := progress()
		if err := syscall.Kill(old, syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		var child int
		pollUntil(t, 30*time.Second, fmt.Sprintf("upgrade %d: new process ready (pid file)", gen+1), func() bool {
			if c := childOf(old); c != 0 && (len(pids) == 0 || pids[len(pids)-1] != c) {
				pids = append(pids, c) // killed at the end whatever happens
			}
			child = pidFile()
			return child != 0 && child != old
		})
		if pids[len(pids)-1] != child {
			pids = append(pids, child)
		}
		pollUntil(t, 30*time.Second, fmt.Sprintf("upgrade %d: old process %d exited", gen+1, old), func() bool { return gone(old) })
		if err := firstErr(); err != nil {
			t.Fatal(err)
		}
		// Bytes keep flowing through the new process.
		pollUntil(t, 10*time.Second, "traffic after the upgrade", func() bool {
			w, r := progress()
			return w > w0 && r > w0
		})
		t.Logf("upgrade %d: pid %d → %d after %v; %d sockets in the new process", gen+1, old, child, time.Since(start).Round(time.Millisecond), sockets(child))
	}
	for _, l := range strings.Split(proc.Output(), "\n") {
		if strings.Contains(l, "handed to the new process") {
			t.Log(l) // the move's duration ("took")
		}
	}
	newest := pids[len(pids)-1]
	// Each moved connection is two sockets of the newest process.
	if n := sockets(newest); n < 2*(nTCP+nWS) {
		t.Errorf("newest process holds %d sockets, want ≥ %d", n, 2*(nTCP+nWS))
	}

	close(stop)
	writers.Wait()
	// TCP: half-close, the FIN goes through the moved pair and the
	// backend's comes back: the reader sees EOF after the last byte.
	for i, s := range streams[:nTCP] {
		if err := s.w.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatalf("conn %d: half-close: %v", i, err)
		}
	}
	defer func() {
		if !t.Failed() {
			return
		}
		stuck := 0
		for i, s := range streams {
			if s.read.Load() != s.wrote.Load() {
				if stuck < 10 {
					t.Logf("conn %d (tcp: %v): wrote %d, read %d", i, i < nTCP, s.wrote.Load(), s.read.Load())
				}
				stuck++
			}
		}
		t.Logf("%d connections short", stuck)
	}()
	pollUntil(t, 20*time.Second, "every byte echoed", func() bool {
		for _, s := range streams {
			if s.err.Load() != nil {
				return true // reported below
			}
			if s.read.Load() != s.wrote.Load() {
				return false
			}
		}
		return true
	})
	if err := firstErr(); err != nil {
		t.Fatal(err)
	}
	closing.Store(true)
	for _, c := range closers {
		c()
	}
	readers.Wait()
	if err := firstErr(); err != nil {
		t.Fatal(err)
	}
	w, r := progress()
	t.Logf("%d connections, %d bytes each way, all echoed in order", len(streams), w)
	if w != r {
		t.Fatalf("wrote %d, read %d", w, r)
	}
	if _, err := http.Get(e.URL("traefik") + "/api/version"); err != nil {
		t.Errorf("API of the newest process: %v", err)
	}
}
