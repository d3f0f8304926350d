// Package integration holds the black-box tests: they build the real
// switchyard binary once, start it with real config files against real
// (in-process) backends, and talk to it with real clients.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

var (
	binSwitchyard string // path of the built binary
	binWhoami     string
	repoRoot      string
	verbose       = flag.Bool("integration.verbose", false, "print the output of every switchyard process, not only of failed tests")
)

func TestMain(m *testing.M) {
	flag.Parse()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	repoRoot = filepath.Dir(wd)
	binDir, err = os.MkdirTemp("", "switchyard-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	code := m.Run()
	runAfterAll()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// afterAll holds the teardown of servers shared by many tests (the
// Kubernetes API server): run once, after the last test.
var (
	afterAllMu sync.Mutex
	afterAll   []func()
)

func atExit(f func()) {
	afterAllMu.Lock()
	afterAll = append(afterAll, f)
	afterAllMu.Unlock()
}

func runAfterAll() {
	afterAllMu.Lock()
	defer afterAllMu.Unlock()
	for i := len(afterAll) - 1; i >= 0; i-- {
		afterAll[i]()
	}
}

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

// requireBinary builds switchyard and whoami on first use (so tests that do
// not run the binary work while it does not compile) and fails the test if
// the build failed.
func requireBinary(t testing.TB) {
	t.Helper()
	buildOnce.Do(func() {
		binSwitchyard = filepath.Join(binDir, "switchyard")
		binWhoami = filepath.Join(binDir, "whoami")
		for _, b := range [][2]string{{binSwitchyard, "./cmd/switchyard"}, {binWhoami, "./cmd/whoami"}} {
			cmd := exec.Command("go", "build", "-o", b[0], b[1])
			cmd.Dir = repoRoot
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// ---------------------------------------------------------------------------
// ports

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// freePort returns a loopback port nobody listens on, never the same twice in
// one run. Ports come from below the kernel's ephemeral range, so an outgoing
// connection (proxy to backend, client to proxy) cannot take a port between
// the moment it is picked and the moment switchyard binds it.
func freePort(t testing.TB) int {
	t.Helper()
	lo, hi := portWindow()
	for range 500 {
		p := lo + rand.IntN(hi-lo)
		portsMu.Lock()
		used := portsUsed[p]
		portsUsed[p] = true
		portsMu.Unlock()
		if used {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("free port: no unused port found")
	return 0
}

// portWindow is [10000, start of the ephemeral range), or a fixed window
// when the range cannot be read.
func portWindow() (int, int) {
	lo, hi := 10000, 30000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var start, end int
		if n, _ := fmt.Sscan(string(b), &start, &end); n == 2 && start > lo+1000 {
			hi = start
		}
	}
	return lo, hi
}

// closedURL is an http URL on a port where nothing listens.
func closedURL(t testing.TB) string {
	return fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
}

// ---------------------------------------------------------------------------
// backends

// startHandler serves h on a fresh loopback listener until the test ends and
// returns its base URL.
func startHandler(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("backend listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startWhoami starts an in-process whoami backend named name.
func startWhoami(t testing.TB, name string) string {
	t.Helper()
	return startHandler(t, whoami.New(name))
}

// ---------------------------------------------------------------------------
// process

// syncBuffer is a bytes.Buffer safe for the process's writers and our reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Proc is one running switchyard (or other) process.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	out    *syncBuffer // stdout and stderr interleaved
	stderr *syncBuffer // stderr only
	done   chan struct{}
	err    error // Wait's result, valid after done
}

// procEnv is the environment of started processes: ours without variables
// that would change switchyard's configuration or send traffic to a proxy.
func procEnv(home string, extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		uk := strings.ToUpper(k)
		if strings.HasPrefix(uk, "SWITCHYARD_") || strings.HasPrefix(uk, "TRAEFIK_") ||
			uk == "HTTP_PROXY" || uk == "HTTPS_PROXY" || uk == "ALL_PROXY" || uk == "NO_PROXY" || uk == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home)
	return append(env, extra...)
}

// startProc starts bin with args in dir. The process is killed when the test
// ends if it still runs; its output is logged when the test failed.
func startProc(t testing.TB, dir string, extraEnv []string, bin string, args ...string) *Proc {
	t.Helper()
	requireBinary(t)
	if bin == "" {
		bin = binSwitchyard
	}
	p := &Proc{t: t, out: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = procEnv(dir, extraEnv)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = io.MultiWriter(p.out, p.stderr)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() || *verbose {
			t.Logf("---- output of %s %s ----\n%s---- end of output ----", filepath.Base(bin), strings.Join(args, " "), p.Output())
		}
	})
	return p
}

// Output is everything the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Stderr is what the process printed on stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to d for the process to end and returns its exit code
// (-1 and a test error on timeout: the process is then killed).
func (p *Proc) Wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Errorf("process still running after %v; killing it", d)
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1
	}
	return exitCode(p.err)
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Errorf("signal %v: %v", sig, err)
	}
}

// Stop sends SIGTERM and requires a clean exit (code 0) within 15 s.
func (p *Proc) Stop() {
	p.t.Helper()
	if p.Exited() {
		p.t.Errorf("process had already exited (%v) before Stop", p.err)
		return
	}
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(15 * time.Second); code != 0 {
		p.t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

// runCmd runs the binary to completion (for check, version, bad configs that
// must exit) and returns its exit code and combined output.
func runCmd(t testing.TB, dir string, extraEnv []string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	requireBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binSwitchyard, args...)
	cmd.Dir = dir
	cmd.Env = procEnv(dir, extraEnv)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("switchyard %s: still running after %v (killed)\n%s", strings.Join(args, " "), timeout, out)
		return -1, string(out)
	}
	return exitCode(err), string(out)
}

// ---------------------------------------------------------------------------
// Env: one test's files, ports, backends and switchyard process

// Env holds what one test set up. Static and dynamic files are Go templates
// with delimiters <% %> and these functions:
//
//	addr "web"     127.0.0.1:PORT of the named entrypoint (port allocated on first use)
//	port "web"     PORT alone
//	backend "a"    base URL of an in-process whoami backend named a (started on first use)
//	closed         URL of a port where nothing listens
//	dyn            path of the dynamic file
//	dir            the test's temp dir
//	url "name"     a URL registered with SetURL (custom backends)
type Env struct {
	t        testing.TB
	Dir      string
	mu       sync.Mutex
	ports    map[string]int
	backends map[string]string
	urls     map[string]string
	DynPath  string
	StatPath string
	Proc     *Proc
	// APIEP is the entrypoint serving the API for WaitAPI ("traefik" by default).
	APIEP string
}

func newEnv(t testing.TB) *Env {
	t.Helper()
	return &Env{
		t: t, Dir: t.TempDir(),
		ports: map[string]int{}, backends: map[string]string{}, urls: map[string]string{},
	}
}

// Port returns the port allocated for the entrypoint name.
func (e *Env) Port(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.ports[name]
	if !ok {
		p = freePort(e.t)
		e.ports[name] = p
	}
	return p
}

// Addr is 127.0.0.1:Port(name).
func (e *Env) Addr(name string) string { return fmt.Sprintf("127.0.0.1:%d", e.Port(name)) }

// URL is http://Addr(name).
func (e *Env) URL(name string) string { return "http://" + e.Addr(name) }

// Backend returns the URL of the whoami backend named name, starting it.
func (e *Env) Backend(name string) string {
	e.mu.Lock()
	u, ok := e.backends[name]
	e.mu.Unlock()
	if ok {
		return u
	}
	u = startWhoami(e.t, name)
	e.mu.Lock()
	e.backends[name] = u
	e.mu.Unlock()
	return u
}

// SetURL registers a URL for the `url` template function.
func (e *Env) SetURL(name, u string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.urls[name] = u
}

func (e *Env) render(name, text string) string {
	e.t.Helper()
	funcs := template.FuncMap{
		"addr":    e.Addr,
		"port":    e.Port,
		"backend": e.Backend,
		"closed":  func() string { return closedURL(e.t) },
		"dyn":     func() string { return e.DynPath },
		"dir":     func() string { return e.Dir },
		"url": func(n string) string {
			e.mu.Lock()
			defer e.mu.Unlock()
			u, ok := e.urls[n]
			if !ok {
				e.t.Fatalf("template: url %q not registered", n)
			}
			return u
		},
	}
	tpl, err := template.New(name).Delims("<%", "%>").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		e.t.Fatalf("template %s: %v", name, err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, nil); err != nil {
		e.t.Fatalf("template %s: %v", name, err)
	}
	return b.String()
}

// WriteDynamic renders text and writes it as the dynamic file (ext "yml" or
// "toml"); the file is replaced atomically (write temp, rename). It returns
// the rendered text.
func (e *Env) WriteDynamic(ext, text string) string {
	e.t.Helper()
	if e.DynPath == "" {
		e.DynPath = filepath.Join(e.Dir, "dynamic."+ext)
	}
	out := e.render("dynamic", text)
	writeAtomic(e.t, e.DynPath, []byte(out))
	return out
}

// WriteStatic renders text and writes it as the static file (ext "yml" or "toml").
func (e *Env) WriteStatic(ext, text string) string {
	e.t.Helper()
	e.StatPath = filepath.Join(e.Dir, "static."+ext)
	if err := os.WriteFile(e.StatPath, []byte(e.render("static", text)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return e.StatPath
}

func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Start runs switchyard with args (default: --configFile=<static file>).
func (e *Env) Start(args ...string) *Proc {
	e.t.Helper()
	return e.StartWithEnv(nil, args...)
}

// StartWithEnv is Start with extra environment variables.
func (e *Env) StartWithEnv(env []string, args ...string) *Proc {
	e.t.Helper()
	if len(args) == 0 {
		args = []string{"--configFile=" + e.StatPath}
	}
	return e.StartRaw(env, args...)
}

// StartRaw runs switchyard with exactly args (none at all is allowed).
func (e *Env) StartRaw(env []string, args ...string) *Proc {
	e.t.Helper()
	e.Proc = startProc(e.t, e.Dir, env, "", args...)
	return e.Proc
}

// ---------------------------------------------------------------------------
// API polling

// Rawdata is the part of /api/rawdata the tests read.
type Rawdata struct {
	Routers     map[string]RouterInfo     `json:"routers"`
	Services    map[string]ServiceInfo    `json:"services"`
	Middlewares map[string]MiddlewareInfo `json:"middlewares"`
}

// RouterInfo is a router as the API shows it.
type RouterInfo struct {
	EntryPoints []string `json:"entryPoints"`
	Middlewares []string `json:"middlewares"`
	Service     string   `json:"service"`
	Rule        string   `json:"rule"`
	Priority    int64    `json:"priority"`
	Status      string   `json:"status"`
	Error       []string `json:"error"`
	Using       []string `json:"using"`
	Name        string   `json:"name"`
	Provider    string   `json:"provider"`
}

// ServiceInfo is a service as the API shows it.
type ServiceInfo struct {
	Status       string            `json:"status"`
	Error        []string          `json:"error"`
	UsedBy       []string          `json:"usedBy"`
	ServerStatus map[string]string `json:"serverStatus"`
	Name         string            `json:"name"`
	Provider     string            `json:"provider"`
	Type         string            `json:"type"`
}

// MiddlewareInfo is a middleware as the API shows it.
type MiddlewareInfo struct {
	Status   string   `json:"status"`
	Error    []string `json:"error"`
	UsedBy   []string `json:"usedBy"`
	Name     string   `json:"name"`
	Provider string   `json:"provider"`
	Type     string   `json:"type"`
}

// client is an HTTP client that never uses a proxy and never follows redirects.
var client = &http.Client{
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
	Timeout: 30 * time.Second,
}

// Rawdata fetches /api/rawdata from the API at base (e.g. e.URL("traefik")).
func fetchRawdata(base string) (*Rawdata, error) {
	resp, err := client.Get(base + "/api/rawdata")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/rawdata: %d %s", resp.StatusCode, body)
	}
	var rd Rawdata
	if err := json.Unmarshal(body, &rd); err != nil {
		return nil, fmt.Errorf("GET /api/rawdata: %w", err)
	}
	return &rd, nil
}

// waitFor polls cond every 10 ms until it is true or timeout passes; then the
// test fails with msg. It also fails at once when the process exited.
func (e *Env) waitFor(timeout time.Duration, msg string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if e.Proc != nil && e.Proc.Exited() {
			e.t.Fatalf("%s: switchyard exited (%v)", msg, e.Proc.err)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not true after %v", msg, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitAPI waits until /api/rawdata on the traefik entrypoint answers and
// cond holds for it.
func (e *Env) WaitAPI(timeout time.Duration, msg string, cond func(*Rawdata) bool) *Rawdata {
	e.t.Helper()
	var last *Rawdata
	var lastErr error
	defer func() {
		if e.t.Failed() && lastErr != nil {
			e.t.Logf("last API error: %v", lastErr)
		}
	}()
	e.waitFor(timeout, msg, func() bool {
		ep := e.APIEP
		if ep == "" {
			ep = "traefik"
		}
		rd, err := fetchRawdata(e.URL(ep))
		if err != nil {
			lastErr = err
			return false
		}
		last = rd
		return cond(rd)
	})
	return last
}

// WaitRouters waits until every named router (qualified, e.g. "web@file") is
// in /api/rawdata.
func (e *Env) WaitRouters(names ...string) *Rawdata {
	e.t.Helper()
	return e.WaitAPI(10*time.Second, fmt.Sprintf("routers %v in /api/rawdata", names), func(rd *Rawdata) bool {
		for _, n := range names {
			if _, ok := rd.Routers[n]; !ok {
				return false
			}
		}
		return true
	})
}

// WaitListening waits until something accepts connections on addr.
func (e *Env) WaitListening(addr string) {
	e.t.Helper()
	e.waitFor(10*time.Second, "listening on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// dynamicRouterNames lists http.routers of a dynamic file's text (YAML or
// TOML), qualified with @file, so tests can wait for exactly them.
func dynamicRouterNames(ext, text string) ([]string, error) {
	var doc struct {
		HTTP struct {
			Routers map[string]any `yaml:"routers" toml:"routers"`
		} `yaml:"http" toml:"http"`
	}
	var err error
	if ext == "toml" {
		_, err = toml.Decode(text, &doc)
	} else {
		err = yaml.Unmarshal([]byte(text), &doc)
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range doc.HTTP.Routers {
		names = append(names, n+"@file")
	}
	return names, nil
}

// ---------------------------------------------------------------------------
// requests

// Reply is a finished response with its body read.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// request describes one request for do().
type request struct {
	method string
	url    string
	host   string
	header map[string]string
	body   string
}

func do(t testing.TB, r request) Reply {
	t.Helper()
	rep, err := tryDo(r)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", r.method, r.url, r.host, err)
	}
	return rep
}

func tryDo(r request) (Reply, error) {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(method, r.url, body)
	if err != nil {
		return Reply{}, err
	}
	if r.host != "" {
		req.Host = r.host
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, nil
}

// backendName extracts the whoami name from a text or JSON echo ("" if none).
func backendName(body string) string {
	if strings.HasPrefix(body, "Name: ") {
		line, _, _ := strings.Cut(body[len("Name: "):], "\n")
		return line
	}
	var e struct {
		Name string `json:"name"`
	}
	if json.Unmarshal([]byte(body), &e) == nil {
		return e.Name
	}
	return ""
}

// isRoot reports whether tests run as root (file permissions do not apply).
func isRoot() bool { return runtime.GOOS != "windows" && os.Geteuid() == 0 }
