package integration

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

// A real Consul agent (v1.14.8, built once by integration/consul/build.sh)
// for the Consul provider tests.

var (
	consulOnce sync.Once
	consulBin  string
	consulErr  error
)

// requireConsul returns the agent binary, building it on first use; the
// test is skipped with the reason when it cannot be built here.
func requireConsul(t testing.TB) string {
	t.Helper()
	consulOnce.Do(func() {
		consulBin, consulErr = cachedBuild(filepath.Join(repoRoot, "integration", "consul", "build.sh"))
	})
	if consulErr != nil {
		t.Skipf("no Consul agent: %v", consulErr)
	}
	return consulBin
}

// cachedBuild runs one of the build scripts that keep a real server built
// outside the clone and returns the binary's path.
func cachedBuild(script string) (string, error) { return kubetest.CachedBuild(script) }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// consulAgent is a single-server Consul with a data dir, so that KV and
// catalog survive a restart.
type consulAgent struct {
	t       testing.TB
	bin     string
	dir     string
	ports   [4]int // http, serf lan, serf wan, server
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan struct{}
	Client  *api.Client
	HTTPAdr string
	// ExtraHCL is appended to the agent's configuration; HTTPSPort, when
	// set, opens the HTTPS API.
	ExtraHCL  string
	HTTPSPort int
}

func startConsul(t testing.TB) *consulAgent {
	t.Helper()
	return startConsulHCL(t, 0, "")
}

// consulRootToken is the management token of startConsulACL's agent.
const consulRootToken = "7b0c2ae4-1d4e-4a53-9a4c-4f8e4b3c2d10"

// startConsulACL starts an agent that denies anonymous requests; the test
// client uses consulRootToken.
func startConsulACL(t testing.TB) *consulAgent {
	t.Helper()
	return startConsulToken(t, 0, `acl {
  enabled = true
  default_policy = "deny"
  tokens { initial_management = "`+consulRootToken+`" }
}`, consulRootToken)
}

// startConsulHCL starts an agent with extra configuration (e.g. TLS).
func startConsulHCL(t testing.TB, httpsPort int, extraHCL string) *consulAgent {
	t.Helper()
	return startConsulToken(t, httpsPort, extraHCL, "")
}

func startConsulToken(t testing.TB, httpsPort int, extraHCL, token string) *consulAgent {
	t.Helper()
	a := &consulAgent{t: t, bin: requireConsul(t), dir: t.TempDir(), out: &syncBuffer{}, ExtraHCL: extraHCL, HTTPSPort: httpsPort}
	for i := range a.ports {
		a.ports[i] = freePort(t)
	}
	a.HTTPAdr = fmt.Sprintf("127.0.0.1:%d", a.ports[0])
	c, err := api.NewClient(&api.Config{Address: a.HTTPAdr, Scheme: "http", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	a.Client = c
	a.Start()
	t.Cleanup(func() {
		a.Kill()
		if t.Failed() {
			t.Logf("consul output:\n%s", tail(a.out.String(), 4000))
		}
	})
	return a
}

// Start runs the agent and waits until it has a leader and serves KV.
func (a *consulAgent) Start() {
	a.t.Helper()
	https := -1
	if a.HTTPSPort > 0 {
		https = a.HTTPSPort
	}
	hcl := fmt.Sprintf(`ports { http = %d, https = %d, serf_lan = %d, serf_wan = %d, server = %d, dns = -1, grpc = -1, grpc_tls = -1 }
performance { raft_multiplier = 1 }
%s`, a.ports[0], https, a.ports[1], a.ports[2], a.ports[3], a.ExtraHCL)
	a.cmd = exec.Command(a.bin, "agent", "-server", "-bootstrap-expect=1", "-node=n1",
		"-data-dir="+filepath.Join(a.dir, "data"), "-bind=127.0.0.1", "-client=127.0.0.1",
		"-log-level=warn", "-hcl", hcl)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		a.t.Fatalf("start consul: %v", err)
	}
	a.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(a.cmd, a.done)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := a.Client.KV().Put(&api.KVPair{Key: "_ready", Value: []byte("1")}, nil); err == nil {
			if _, err := a.Client.KV().Delete("_ready", nil); err == nil {
				return
			}
		}
		select {
		case <-a.done:
			a.t.Fatalf("consul exited:\n%s", tail(a.out.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("consul not ready after 60s:\n%s", tail(a.out.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the agent abruptly (SIGKILL) and waits for it.
func (a *consulAgent) Kill() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.done
	a.cmd = nil
}

// Put writes keys in transactions of at most 64 operations (Consul's limit),
// in parallel, and fails the test on error.
func (a *consulAgent) Put(kv map[string]string) {
	a.t.Helper()
	var ops api.KVTxnOps
	var batches []api.KVTxnOps
	for k, v := range kv {
		ops = append(ops, &api.KVTxnOp{Verb: api.KVSet, Key: k, Value: []byte(v)})
		if len(ops) == 64 {
			batches = append(batches, ops)
			ops = nil
		}
	}
	if len(ops) > 0 {
		batches = append(batches, ops)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, resp, _, err := a.Client.KV().Txn(b, nil)
			if err == nil && !ok {
				err = fmt.Errorf("txn failed: %v", resp.Errors)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			a.t.Fatalf("consul put: %v", err)
		}
	}
}

// Txn writes and deletes keys in one transaction (one index change).
func (a *consulAgent) Txn(set map[string]string, del ...string) {
	a.t.Helper()
	var ops api.KVTxnOps
	for k, v := range set {
		ops = append(ops, &api.KVTxnOp{Verb: api.KVSet, Key: k, Value: []byte(v)})
	}
	for _, k := range del {
		ops = append(ops, &api.KVTxnOp{Verb: api.KVDeleteTree, Key: k})
	}
	ok, resp, _, err := a.Client.KV().Txn(ops, nil)
	if err != nil || !ok {
		a.t.Fatalf("consul txn: %v %v", err, resp)
	}
}

// cutProxy is a TCP relay in front of the agent that can be cut (every
// connection closed, new ones refused) to simulate a partition.
type cutProxy struct {
	t      testing.TB
	target string
	Addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	p := &cutProxy{t: t, target: target, Addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), conns: map[net.Conn]bool{}}
	p.Restore()
	t.Cleanup(p.Cut)
	return p
}

// Restore listens again on the same address.
func (p *cutProxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
}

func (p *cutProxy) relay(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); u.Close() }()
	_, _ = io.Copy(c, u)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// Cut closes the listener and every relayed connection.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// consulStatic is a static configuration with the API and the given
// providers block (already indented under providers:).
func consulStatic(providersYAML string) string {
	return `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 10ms
` + providersYAML
}

// hostPortOf strips the scheme of a backend URL.
func hostPortOf(u string) (string, int) {
	hp := strings.TrimPrefix(u, "http://")
	h, p, _ := net.SplitHostPort(hp)
	var n int
	fmt.Sscan(p, &n)
	return h, n
}
