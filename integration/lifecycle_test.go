package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

// signalingWhoami is a whoami backend that reports each request's arrival.
func signalingWhoami(t *testing.T, name string) (string, <-chan string) {
	arrived := make(chan string, 16)
	h := whoami.New(name)
	url := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- r.URL.RequestURI():
		default:
		}
		h.ServeHTTP(w, r)
	}))
	return url, arrived
}

const catchAllDynamic = `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% url "target" %>"
`

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	const (
		acceptGrace = 1500 * time.Millisecond
		slow        = 3500 * time.Millisecond
	)
	backend, arrived := signalingWhoami(t, "graceful")
	e := newEnv(t)
	e.SetURL("target", backend)
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        requestAcceptGraceTimeout: 1500ms
        graceTimeOut: 10s
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
ping:
  entryPoint: web
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))

	type result struct {
		rep Reply
		err error
		at  time.Time
	}
	slowDone := make(chan result, 1)
	go func() {
		tr := &http.Transport{Proxy: nil}
		hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		resp, err := hc.Get(e.URL("web") + fmt.Sprintf("/slow?wait=%s", slow))
		if err != nil {
			slowDone <- result{err: err, at: time.Now()}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		slowDone <- result{rep: Reply{Status: resp.StatusCode, Body: string(b)}, err: err, at: time.Now()}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("slow request never reached the backend")
	}
	sigAt := time.Now()
	e.Proc.Signal(syscall.SIGTERM)

	// During requestAcceptGraceTimeout: new connections are served, and
	// /ping says the instance is terminating.
	time.Sleep(300 * time.Millisecond)
	fresh := func(path string) (Reply, error) {
		tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		resp, err := hc.Get(e.URL("web") + path)
		if err != nil {
			return Reply{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return Reply{Status: resp.StatusCode, Body: string(b)}, nil
	}
	if r, err := fresh("/during-grace"); err != nil || r.Status != 200 || r.backend() != "graceful" {
		t.Errorf("new connection %v after SIGTERM (within requestAcceptGraceTimeout): %+v, %v; want 200 from graceful", time.Since(sigAt).Round(time.Millisecond), r.Status, err)
	}
	if r, err := fresh("/ping"); err != nil || r.Status != http.StatusServiceUnavailable {
		t.Errorf("/ping while terminating: %d, %v; want 503", r.Status, err)
	}

	// After requestAcceptGraceTimeout: new connections are refused while
	// the slow request is still in flight.
	refusedAt := time.Time{}
	for time.Since(sigAt) < acceptGrace+1500*time.Millisecond {
		c, err := net.DialTimeout("tcp", e.Addr("web"), 200*time.Millisecond)
		if err != nil {
			refusedAt = time.Now()
			break
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	switch {
	case refusedAt.IsZero():
		t.Errorf("still accepting connections %v after SIGTERM (requestAcceptGraceTimeout %v)", time.Since(sigAt).Round(time.Millisecond), acceptGrace)
	case refusedAt.Sub(sigAt) < acceptGrace-100*time.Millisecond:
		t.Errorf("connections refused %v after SIGTERM, before requestAcceptGraceTimeout %v", refusedAt.Sub(sigAt), acceptGrace)
	default:
		t.Logf("connections refused %v after SIGTERM", refusedAt.Sub(sigAt).Round(time.Millisecond))
	}
	if e.Proc.Exited() {
		t.Errorf("process exited with a request in flight")
	}

	res := <-slowDone
	if res.err != nil || res.rep.Status != 200 || res.rep.backend() != "graceful" {
		t.Errorf("in-flight request during shutdown: %d from %q, err %v; want 200 from graceful", res.rep.Status, res.rep.backend(), res.err)
	}
	if code := e.Proc.Wait(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after graceful shutdown, want 0", code)
	}
	exitAfter := time.Since(sigAt)
	if exitAfter > slow+3*time.Second {
		t.Errorf("exited %v after SIGTERM; the last request ended at %v", exitAfter, res.at.Sub(sigAt))
	}
}

// TestGraceTimeoutCutsSlowRequests: a request longer than graceTimeOut does
// not hold the process.
func TestGraceTimeoutCutsSlowRequests(t *testing.T) {
	t.Parallel()
	backend, arrived := signalingWhoami(t, "cut")
	e := newEnv(t)
	e.SetURL("target", backend)
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        graceTimeOut: 1s
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
	e.WaitListening(e.Addr("web"))
	go func() { _, _ = tryDo(request{url: e.URL("web") + "/?wait=20s"}) }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the backend")
	}
	at := time.Now()
	e.Proc.Signal(syscall.SIGTERM)
	code := e.Proc.Wait(10 * time.Second)
	took := time.Since(at)
	if took > 4*time.Second {
		t.Errorf("exit took %v with graceTimeOut 1s", took)
	}
	t.Logf("exit code %d after %v", code, took.Round(time.Millisecond))
}

func TestPingAndHealthcheckWhileTerminating(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("target", startWhoami(t, "ping"))
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
    transport:
      lifeCycle:
        requestAcceptGraceTimeout: 2s
        graceTimeOut: 1s
api:
  insecure: true
ping: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	if r := do(t, request{url: e.URL("traefik") + "/ping"}); r.Status != 200 || r.Body != "OK" {
		t.Errorf("/ping before shutdown: %d %q, want 200 OK", r.Status, r.Body)
	}
	if code, out := runCmd(t, e.Dir, nil, 10*time.Second, "healthcheck", "--configFile="+e.StatPath); code != 0 {
		t.Errorf("healthcheck while healthy: exit %d\n%s", code, out)
	}
	e.Proc.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	r, err := tryDo(request{url: e.URL("traefik") + "/ping"})
	if err != nil || r.Status != http.StatusServiceUnavailable {
		t.Errorf("/ping during requestAcceptGraceTimeout: %d, %v; want 503", r.Status, err)
	}
	if code, out := runCmd(t, e.Dir, nil, 10*time.Second, "healthcheck", "--configFile="+e.StatPath); code == 0 {
		t.Errorf("healthcheck while terminating: exit 0, want non-zero\n%s", out)
	}
	if code := e.Proc.Wait(15 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	// Once stopped, the healthcheck fails too.
	if code, _ := runCmd(t, e.Dir, nil, 10*time.Second, "healthcheck", "--configFile="+e.StatPath); code == 0 {
		t.Errorf("healthcheck with the instance stopped: exit 0, want non-zero")
	}
}

// waitFileContains polls path until it contains sub.
func waitFileContains(t *testing.T, path, sub string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), sub) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not contain %q after %v; it has:\n%s", path, sub, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAccessLogCommonFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	backend := startWhoami(t, "logged")
	e.SetURL("target", backend)
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
accessLog:
  filePath: "<% dir %>/access.log"
  format: common
  fields:
    headers:
      defaultMode: keep
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	do(t, request{url: e.URL("web") + "/logged/clf?x=1", header: map[string]string{"User-Agent": "integration-agent/1.0", "Referer": "http://ref.example/"}})
	path := filepath.Join(e.Dir, "access.log")
	content := waitFileContains(t, path, "/logged/clf", 5*time.Second)
	var line string
	for _, l := range strings.Split(content, "\n") {
		if strings.Contains(l, "/logged/clf") {
			line = l
		}
	}
	re := regexp.MustCompile(`^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET /logged/clf\?x=1 HTTP/1\.1" 200 \d+ "http://ref\.example/" "integration-agent/1\.0" \d+ "app@file" "` +
		regexp.QuoteMeta(backend) + `" \d+ms$`)
	if !re.MatchString(line) {
		t.Errorf("CLF line\n  %q\ndoes not match\n  %s", line, re)
	}
	e.Proc.Stop()
}

func TestAccessLogJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	backend := startWhoami(t, "logged-json")
	e.SetURL("target", backend)
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
accessLog:
  filePath: "<% dir %>/access.json"
  format: json
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	do(t, request{url: e.URL("web") + "/logged/json?y=2", host: "json.example.com", body: "abc", method: "POST"})
	do(t, request{url: e.URL("web") + "/logged/missing?status=404"})
	path := filepath.Join(e.Dir, "access.json")
	content := waitFileContains(t, path, "/logged/missing", 5*time.Second)
	var entry, missing map[string]any
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("access log line is not JSON: %v: %q", err, sc.Text())
			continue
		}
		switch m["RequestPath"] {
		case "/logged/json?y=2":
			entry = m
		case "/logged/missing?status=404":
			missing = m
		}
	}
	if entry == nil {
		t.Fatalf("no JSON entry with RequestPath /logged/json?y=2 in:\n%s", content)
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(backend, "http://"))
	want := map[string]any{
		"ClientHost":         "127.0.0.1",
		"RequestMethod":      "POST",
		"RequestProtocol":    "HTTP/1.1",
		"RequestHost":        "json.example.com",
		"RequestContentSize": float64(3),
		"DownstreamStatus":   float64(200),
		"OriginStatus":       float64(200),
		"RouterName":         "app@file",
		"ServiceName":        "app@file",
		"ServiceURL":         backend,
		"ServiceAddr":        net.JoinHostPort(host, port),
		"entryPointName":     "web",
	}
	for k, v := range want {
		if got, ok := entry[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("JSON access log %s = %v, want %v", k, got, v)
		}
	}
	for _, k := range []string{"StartUTC", "Duration", "RequestCount", "DownstreamContentSize", "OriginDuration"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("JSON access log has no %s field: %v", k, entry)
		}
	}
	if d, ok := entry["Duration"].(float64); !ok || d <= 0 {
		t.Errorf("JSON access log Duration = %v, want nanoseconds > 0", entry["Duration"])
	}
	if missing == nil || fmt.Sprint(missing["DownstreamStatus"]) != "404" {
		t.Errorf("JSON access log for the 404 reply: %v, want DownstreamStatus 404", missing)
	}
	e.Proc.Stop()
}

func TestSIGUSR1ReopensLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("target", startWhoami(t, "rotate"))
	e.WriteDynamic("yml", catchAllDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: INFO
  filePath: "<% dir %>/switchyard.log"
accessLog:
  filePath: "<% dir %>/access.log"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
    watch: true
`)
	e.Start()
	e.WaitRouters("app@file")
	access := filepath.Join(e.Dir, "access.log")
	logFile := filepath.Join(e.Dir, "switchyard.log")

	do(t, request{url: e.URL("web") + "/before-rotation"})
	waitFileContains(t, access, "/before-rotation", 5*time.Second)
	e.waitFor(5*time.Second, "switchyard.log written", func() bool {
		fi, err := os.Stat(logFile)
		return err == nil && fi.Size() > 0
	})
	if err := os.Rename(access, access+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(logFile, logFile+".1"); err != nil {
		t.Fatal(err)
	}
	e.Proc.Signal(syscall.SIGUSR1)
	// The new file appears once reopened.
	e.waitFor(5*time.Second, "access.log recreated after SIGUSR1", func() bool {
		_, err := os.Stat(access)
		return err == nil
	})
	do(t, request{url: e.URL("web") + "/after-rotation"})
	newContent := waitFileContains(t, access, "/after-rotation", 5*time.Second)
	if strings.Contains(newContent, "/before-rotation") {
		t.Errorf("the reopened access.log has lines from before the rotation:\n%s", newContent)
	}
	old, _ := os.ReadFile(access + ".1")
	if !strings.Contains(string(old), "/before-rotation") || strings.Contains(string(old), "/after-rotation") {
		t.Errorf("rotated access.log.1 content wrong:\n%s", old)
	}
	// The application log is reopened too: make it log something.
	e.WriteDynamic("yml", strings.Replace(catchAllDynamic, "app:\n      rule", "app2:\n      rule", 1))
	e.WaitRouters("app2@file")
	e.waitFor(5*time.Second, "switchyard.log recreated and written after SIGUSR1", func() bool {
		b, err := os.ReadFile(logFile)
		return err == nil && len(b) > 0
	})
	if e.Proc.Exited() {
		t.Fatalf("SIGUSR1 ended the process")
	}
	e.Proc.Stop()
}

// TestQuickStart runs switchyard with no configuration at all: it serves
// the embedded quick start on :8080 with in-process demo backends.
func TestQuickStart(t *testing.T) {
	// Not parallel: it needs the fixed ports 8080, 9001 and 9002.
	for _, addr := range []string{":8080", ":9001", ":9002", "127.0.0.1:8080", "127.0.0.1:9001", "127.0.0.1:9002"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("port %s busy: %v", addr, err)
		}
		ln.Close()
	}
	for _, p := range []string{"/etc/switchyard/switchyard.yml", "/etc/switchyard/switchyard.yaml", "/etc/switchyard/switchyard.toml"} {
		if _, err := os.Stat(p); err == nil {
			t.Skipf("%s exists and would be used instead of the quick start", p)
		}
	}
	dir := t.TempDir()
	p := startProc(t, dir, nil, "")
	e := &Env{t: t, Dir: dir, Proc: p}
	var r Reply
	e.waitFor(15*time.Second, "quick start answering on localhost:8080", func() bool {
		rep, err := tryDo(request{url: "http://localhost:8080/"})
		if err != nil || rep.Status != 200 {
			return false
		}
		r = rep
		return true
	})
	if !strings.HasPrefix(backendName(r.Body), "demo-") {
		t.Errorf("GET localhost:8080/: reply from %q, want a demo backend:\n%s", backendName(r.Body), r.Body)
	}
	if got := r.Header.Get("X-Served-By"); got != "switchyard" {
		t.Errorf("X-Served-By = %q, want switchyard", got)
	}
	seen := map[string]bool{}
	for range 10 {
		seen[backendName(do(t, request{url: "http://localhost:8080/"}).Body)] = true
	}
	if len(seen) < 2 {
		t.Errorf("10 requests reached only %v; want both demo backends", seen)
	}
	rd, err := fetchRawdata("http://localhost:8080")
	if err != nil {
		t.Errorf("quick start /api/rawdata: %v", err)
	} else if len(rd.Routers) == 0 {
		t.Errorf("quick start /api/rawdata lists no routers")
	}
	if d := do(t, request{url: "http://localhost:8080/dashboard/"}); d.Status != 200 || !strings.Contains(strings.ToLower(d.Body), "<html") {
		t.Errorf("quick start /dashboard/: %d, want 200 HTML (body %q)", d.Status, truncate(d.Body, 200))
	}
	p.Stop()
}
