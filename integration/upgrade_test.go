package integration

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/quic-go/quic-go/http3"
)

// upgradeEnv is one switchyard started from a copy of the binary (so the
// test may replace the file) with a pid file, the API and a web
// entrypoint proxying to a backend; plus a UDP entrypoint, whose socket
// must be handed over too (the new process could not bind it otherwise).
type upgradeEnv struct {
	*Env
	bin, pidFile string
}

const upgradeStatic = `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        graceTimeOut: 3s
  traefik:
    address: "<% addr "traefik" %>"
  dgram:
    address: "<% addr "dgram" %>/udp"
api:
  insecure: true
pidFile: <% dir %>/switchyard.pid
log:
  level: INFO
providers:
  file:
    filename: <% dyn %>
`

func startUpgradeEnv(t *testing.T) *upgradeEnv {
	t.Helper()
	requireBinary(t)
	e := &upgradeEnv{Env: newEnv(t)}
	e.bin = filepath.Join(e.Dir, "bin", "switchyard")
	if err := os.MkdirAll(filepath.Dir(e.bin), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, binSwitchyard, e.bin, 0o755)
	e.pidFile = filepath.Join(e.Dir, "switchyard.pid")
	udpBackend := startUDPEcho(t, "echo")
	e.SetURL("udp", udpBackend)
	e.WriteDynamic("yml", `
http:
  routers:
    all:
      rule: PathPrefix(`+"`/`"+`)
      entryPoints: [web]
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: <% backend "app" %>
udp:
  routers:
    echo:
      entryPoints: [dgram]
      service: echo
  services:
    echo:
      loadBalancer:
        servers:
          - address: <% url "udp" %>
`)
	e.WriteStatic("yml", upgradeStatic)
	e.Proc = startProc(t, e.Dir, nil, e.bin, "--configFile="+e.StatPath)
	// Whatever generation runs last is not the harness's child: kill it
	// at the end (before the harness waits for the output pipes).
	t.Cleanup(func() {
		if pid, err := readPID(e.pidFile); err == nil && pid != e.Proc.cmd.Process.Pid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	e.WaitRouters("all@file")
	e.waitFor(10*time.Second, "pid file", func() bool { _, err := readPID(e.pidFile); return err == nil })
	return e
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Write a new file and rename it over: a running binary's file is
	// replaced, never written into (ETXTBSY).
	if err := os.WriteFile(to+".new", b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

type versionInfo struct {
	StartDate  time.Time `json:"startDate"`
	Generation int       `json:"generation"`
}

func (e *upgradeEnv) version(t *testing.T) versionInfo {
	t.Helper()
	// A new connection: a kept-alive one may still reach an old process.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(e.URL("traefik") + "/api/version")
	if err != nil {
		t.Fatalf("/api/version: %v", err)
	}
	defer resp.Body.Close()
	var v versionInfo
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("/api/version: %v", err)
	}
	return v
}

// poll waits up to d for cond; unlike Env.waitFor it does not mind the
// first process exiting (it does, after an upgrade).
func poll(t *testing.T, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", msg, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func postUpgrade(base string) (int, string, error) {
	resp, err := (&http.Client{Timeout: 90 * time.Second}).Post(base+"/api/upgrade", "", nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func runUpgradeCmd(t *testing.T, e *upgradeEnv, args ...string) (int, string) {
	t.Helper()
	return runCmd(t, e.Dir, nil, 90*time.Second, append([]string{"upgrade"}, args...)...)
}

func udpRoundTrip(addr, msg string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for range 20 { // UDP: retry a lost datagram
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil && string(buf[:n]) == "echo:"+msg {
			return nil
		}
	}
	return fmt.Errorf("no echo of %q through %s", msg, addr)
}

// TestUpgradeUnderLoad: 50 keep-alive clients, 8 clients opening a fresh
// connection per request and a bare connect() hammer run through two
// consecutive upgrades (SIGUSR2, then `switchyard upgrade --pidFile`):
// no error, no refused connection; generations 1 → 2 → 3 with a new
// start date each; the old processes exit within graceTimeOut.
func TestUpgradeUnderLoad(t *testing.T) {
	e := startUpgradeEnv(t)
	web := e.URL("web")
	v1 := e.version(t)
	if v1.Generation != 1 {
		t.Fatalf("generation at start = %d, want 1", v1.Generation)
	}
	pid1, _ := readPID(e.pidFile)
	if pid1 != e.Proc.cmd.Process.Pid {
		t.Fatalf("pid file says %d, process is %d", pid1, e.Proc.cmd.Process.Pid)
	}

	var (
		stop             atomic.Bool
		ok, failed, dial atomic.Int64
		errMu            sync.Mutex
		errs             []string
		wg               sync.WaitGroup
	)
	record := func(err error) {
		failed.Add(1)
		errMu.Lock()
		if len(errs) < 10 {
			errs = append(errs, err.Error())
		}
		errMu.Unlock()
	}
	get := func(c *http.Client, kind string) {
		resp, err := c.Get(web + "/")
		if err != nil {
			record(fmt.Errorf("%s %s: %w", time.Now().Format("15:04:05.000"), kind, err))
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			record(fmt.Errorf("status %d, body: %v", resp.StatusCode, err))
			return
		}
		ok.Add(1)
	}
	for i := range 58 {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: i >= 50}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.CloseIdleConnections()
			kind := "keep-alive"
			if i >= 50 {
				kind = "fresh"
			}
			for !stop.Load() {
				get(c, kind)
			}
		}()
	}
	wg.Add(1)
	go func() { // connect() only: a refused connection is an error
		defer wg.Done()
		for !stop.Load() {
			c, err := net.DialTimeout("tcp", e.Addr("web"), 5*time.Second)
			if err != nil {
				record(fmt.Errorf("connect: %w", err))
				continue
			}
			dial.Add(1)
			c.Close()
		}
	}()
	waitRequests := func(n int64) {
		t.Helper()
		start := ok.Load()
		poll(t, 20*time.Second, "requests flowing", func() bool { return ok.Load() >= start+n || failed.Load() > 0 })
	}
	waitRequests(200)

	// Upgrade 1: the signal.
	if err := syscall.Kill(pid1, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	var pid2 int
	poll(t, 60*time.Second, "pid file names the new process", func() bool {
		pid2, _ = readPID(e.pidFile)
		return pid2 != 0 && pid2 != pid1
	})
	waitRequests(200)

	// Upgrade 2: the command, while the first old process may still drain.
	code, out := runUpgradeCmd(t, e, "--pidFile="+e.pidFile)
	if code != 0 || !strings.Contains(out, "handed over to pid") {
		t.Fatalf("switchyard upgrade: exit %d\n%s", code, out)
	}
	pid3, _ := readPID(e.pidFile)
	if pid3 == pid2 || !alive(pid3) {
		t.Fatalf("after the second upgrade the pid file says %d (was %d)", pid3, pid2)
	}
	waitRequests(200)
	stop.Store(true)
	wg.Wait()

	if n := failed.Load(); n > 0 {
		t.Errorf("%d failed requests or connects out of %d (first: %q)", n, ok.Load()+n, errs)
	}
	t.Logf("%d requests and %d bare connects across two upgrades, %d errors", ok.Load(), dial.Load(), failed.Load())

	v3 := e.version(t)
	if v3.Generation != 3 || !v3.StartDate.After(v1.StartDate) {
		t.Errorf("/api/version after two upgrades = %+v, want generation 3 and a start date after %v", v3, v1.StartDate)
	}
	if err := udpRoundTrip(e.Addr("dgram"), "after two upgrades"); err != nil {
		t.Error(err)
	}
	// graceTimeOut is 3s: both old processes are gone soon after.
	// (Proc.Exited would wait for the output pipe, which the newest
	// process holds too.)
	poll(t, 15*time.Second, "old processes exited", func() bool { return !alive(pid1) && !alive(pid2) })
	out = e.Proc.Output()
	for _, want := range []string{"binary upgrade: the new process is ready", "binary upgrade: ready; the previous process stops accepting"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestUpgradeFailSafe: a new binary that exits at once, and the same
// binary with a broken configuration, leave the old process serving
// (API 500 and `switchyard upgrade` exit 1, with the reason); an upgrade
// during an upgrade is refused (409, exit 1, a log line for the signal);
// generation and start date show in /api/version.
func TestUpgradeFailSafe(t *testing.T) {
	e := startUpgradeEnv(t)
	api := e.URL("traefik")
	pid1 := e.Proc.cmd.Process.Pid
	v1 := e.version(t)
	serving := func(when string) {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		resp, err := c.Get(e.URL("web") + "/")
		if err != nil {
			t.Fatalf("%s: old process not serving: %v", when, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", when, resp.StatusCode)
		}
		if pid, _ := readPID(e.pidFile); pid != pid1 {
			t.Fatalf("%s: pid file says %d, want %d", when, pid, pid1)
		}
		if v := e.version(t); v != v1 {
			t.Fatalf("%s: /api/version %+v, want %+v", when, v, v1)
		}
	}

	// A binary that exits at once.
	real := e.bin + ".real"
	copyFile(t, binSwitchyard, real, 0o755)
	writeScript := func(body string) {
		t.Helper()
		if err := os.WriteFile(e.bin+".new", []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(e.bin+".new", e.bin); err != nil {
			t.Fatal(err)
		}
	}
	writeScript("echo 'broken binary' >&2; exit 3")
	status, body, err := postUpgrade(api)
	if err != nil || status != http.StatusInternalServerError || !strings.Contains(body, "exited before it was ready") || !strings.Contains(body, "exit status 3") {
		t.Fatalf("POST /api/upgrade with a broken binary: %d %q %v", status, body, err)
	}
	serving("after a broken binary (API)")
	code, out := runUpgradeCmd(t, e, "--pidFile="+e.pidFile)
	if code == 0 || !strings.Contains(out, "exit status 3") || !strings.Contains(out, "keeps serving") {
		t.Fatalf("switchyard upgrade with a broken binary: exit %d\n%s", code, out)
	}
	serving("after a broken binary (CLI)")

	// The real binary, but the configuration it reads is invalid.
	copyFile(t, real, e.bin, 0o755)
	good, err := os.ReadFile(e.StatPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.StatPath, append(bytes.Clone(good), []byte("noSuchOption: true\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runUpgradeCmd(t, e, "--url="+api)
	if code == 0 || !strings.Contains(out, "500") || !strings.Contains(out, "exited before it was ready") {
		t.Fatalf("switchyard upgrade with a bad configuration: exit %d\n%s", code, out)
	}
	if !strings.Contains(e.Proc.Output(), "noSuchOption") {
		t.Errorf("the new process's log does not name the bad key")
	}
	serving("after a bad configuration")
	if err := os.WriteFile(e.StatPath, good, 0o644); err != nil {
		t.Fatal(err)
	}

	// A new binary slow to start: a second upgrade meanwhile is refused.
	writeScript("sleep 2; exec " + real + ` "$@"`)
	first := make(chan string, 1)
	go func() {
		status, body, err := postUpgrade(api)
		first <- fmt.Sprint(status, " ", body, " ", err)
	}()
	poll(t, 10*time.Second, "upgrade under way", func() bool {
		b, _ := os.ReadFile(e.pidFile + ".upgrade")
		return strings.HasPrefix(string(b), "running")
	})
	status, body, err = postUpgrade(api)
	if err != nil || status != http.StatusConflict || !strings.Contains(body, "already under way") {
		t.Errorf("POST /api/upgrade during an upgrade: %d %q %v", status, body, err)
	}
	code, out = runUpgradeCmd(t, e, "--pidFile="+e.pidFile)
	if code == 0 || !strings.Contains(out, "already under way") {
		t.Errorf("switchyard upgrade during an upgrade: exit %d\n%s", code, out)
	}
	e.Proc.Signal(syscall.SIGUSR2)
	poll(t, 5*time.Second, "refusal logged", func() bool {
		return strings.Contains(e.Proc.Output(), "SIGUSR2: upgrade refused: an upgrade is already under way")
	})
	res := <-first
	if !strings.HasPrefix(res, "200 ") || !strings.Contains(res, `"generation":2`) {
		t.Fatalf("the slow upgrade: %s", res)
	}
	v2 := e.version(t)
	if v2.Generation != 2 || !v2.StartDate.After(v1.StartDate) {
		t.Errorf("/api/version after the upgrade = %+v (before %+v)", v2, v1)
	}
	// The old process, handed over, refuses too; it exits after draining.
	if pid, _ := readPID(e.pidFile); pid == pid1 || !alive(pid) {
		t.Errorf("pid file after the upgrade: %d", pid)
	}
	poll(t, 15*time.Second, "old process exited", func() bool { return !alive(pid1) })
}

// TestUpgradeHTTP3: the UDP socket of HTTP/3 is handed over like the TCP
// listener (the new process could not bind it otherwise): after an
// upgrade, once the old process is gone, a new QUIC connection is served
// by the new process on the same port.
func TestUpgradeHTTP3(t *testing.T) {
	requireBinary(t)
	e := &upgradeEnv{Env: newEnv(t)}
	e.bin = filepath.Join(e.Dir, "switchyard-copy")
	copyFile(t, binSwitchyard, e.bin, 0o755)
	e.pidFile = filepath.Join(e.Dir, "switchyard.pid")
	ca := newCA(t, "h3 CA")
	c, k := ca.issue(t, "h3.test", []string{"h3.test"}, false)
	writePair(t, e.Dir, "h3", c, k)
	e.SetURL("back", e.Backend("h3back"))
	e.WriteDynamic("yml", dynH3)
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
    http3: {}
    transport:
      lifeCycle:
        graceTimeOut: 2s
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
pidFile: <% dir %>/switchyard.pid
providers:
  file:
    filename: "<% dyn %>"
`)
	e.Proc = startProc(t, e.Dir, nil, e.bin, "--configFile="+e.StatPath)
	t.Cleanup(func() {
		if pid, err := readPID(e.pidFile); err == nil && pid != e.Proc.cmd.Process.Pid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	e.WaitRouters("app@file")
	pid1 := e.Proc.cmd.Process.Pid

	get := func() error {
		h3 := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
		defer h3.Close()
		cl := h3Client{&http.Client{Transport: h3, Timeout: 5 * time.Second}, "h3.test"}
		resp, err := cl.Get("https://" + e.Addr("websecure") + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 3 || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %d", resp.Proto, resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil {
		t.Fatalf("HTTP/3 before the upgrade: %v", err)
	}
	status, body, err := postUpgrade(e.URL("traefik"))
	if err != nil || status != http.StatusOK {
		t.Fatalf("POST /api/upgrade: %d %s %v", status, body, err)
	}
	poll(t, 15*time.Second, "old process exited", func() bool { return !alive(pid1) })
	if err := get(); err != nil {
		t.Fatalf("HTTP/3 after the upgrade: %v", err)
	}
	if v := e.version(t); v.Generation != 2 {
		t.Errorf("generation %d, want 2", v.Generation)
	}
}
