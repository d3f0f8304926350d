package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A switchyard binary with net/http/pprof on SWITCHYARD_IT_PPROF, built with
// go build -overlay so the product keeps no such listener: leak tests count
// the process's goroutines before and after.
const itPprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("SWITCHYARD_IT_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

var (
	debugBinOnce sync.Once
	debugBin     string
	debugBinErr  error
)

func requireDebugBinary(t testing.TB) string {
	t.Helper()
	requireBinary(t)
	debugBinOnce.Do(func() {
		dir := filepath.Join(binDir, "debug")
		if debugBinErr = os.MkdirAll(dir, 0o755); debugBinErr != nil {
			return
		}
		src := filepath.Join(dir, "pprof.go")
		ov := filepath.Join(dir, "overlay.json")
		target := filepath.Join(repoRoot, "cmd", "switchyard", "zz_it_pprof.go")
		if debugBinErr = os.WriteFile(src, []byte(itPprofOverlay), 0o644); debugBinErr != nil {
			return
		}
		if debugBinErr = os.WriteFile(ov, []byte(fmt.Sprintf(`{"Replace":{%q:%q}}`, target, src)), 0o644); debugBinErr != nil {
			return
		}
		debugBin = filepath.Join(dir, "switchyard")
		cmd := exec.Command("go", "build", "-overlay", ov, "-o", debugBin, "./cmd/switchyard")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			debugBinErr = fmt.Errorf("go build (pprof overlay): %v\n%s", err, out)
		}
	})
	if debugBinErr != nil {
		t.Fatal(debugBinErr)
	}
	return debugBin
}

// debugProc is a running debug switchyard: its pid and pprof address.
type debugProc struct {
	*Proc
	pprof string
}

// StartDebug runs the debug binary on the env's static file.
func (e *Env) StartDebug() *debugProc {
	e.t.Helper()
	bin := requireDebugBinary(e.t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(e.t))
	e.Proc = startProc(e.t, e.Dir, []string{"SWITCHYARD_IT_PPROF=" + addr}, bin, "--configFile="+e.StatPath)
	d := &debugProc{Proc: e.Proc, pprof: addr}
	e.waitFor(15*time.Second, "pprof listener", func() bool { return d.goroutines() > 0 })
	return d
}

// pprofClient opens a connection per request, so the server keeps no
// connection goroutine or fd between two counts.
var pprofClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// goroutines is the process's goroutine count (0 on error).
func (d *debugProc) goroutines() int {
	c := pprofClient
	res, err := c.Get("http://" + d.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(res.Body).ReadString('\n')
	_, _ = io.Copy(io.Discard, res.Body)
	var n int
	fmt.Sscanf(strings.TrimSpace(line), "goroutine profile: total %d", &n)
	return n
}

// goroutineDump is the full goroutine profile, for failure messages.
func (d *debugProc) goroutineDump() string {
	c := pprofClient
	res, err := c.Get("http://" + d.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// fds is the number of open descriptors of the process (0 when unknown).
func (d *debugProc) fds() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return len(ents)
}

// busyIn counts the goroutines with a frame in a package whose import path
// contains pkg (e.g. "services/proxy.": handlers still forwarding).
func (d *debugProc) busyIn(pkg string) int {
	c := pprofClient
	res, err := c.Get("http://" + d.pprof + "/debug/pprof/goroutine?debug=2")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	n := 0
	for _, g := range strings.Split(string(b), "\n\n") {
		if strings.Contains(g, pkg) {
			n++
		}
	}
	return n
}

// settles waits until goroutines and fds are back within slack of the
// baseline and no goroutine is left in the proxy; it fails the test with a
// goroutine dump otherwise.
func (d *debugProc) settles(t testing.TB, baseG, baseFD, slack int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var g, f, p int
	for {
		g, f, p = d.goroutines(), d.fds(), d.busyIn("switchyard/services/proxy.")+d.busyIn("net/http/httputil.")
		if g <= baseG+slack && f <= baseFD+slack && p == 0 {
			t.Logf("goroutines %d (baseline %d), fds %d (baseline %d)", g, baseG, f, baseFD)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("leak: goroutines %d (baseline %d), fds %d (baseline %d), %d in services/proxy or httputil after %v\n%s",
		g, baseG, f, baseFD, p, within, d.goroutineDump())
}
