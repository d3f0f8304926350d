package integration

import (
	"context"
	"crypto/tls"
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

	"github.com/go-zookeeper/zk"
	goredis "github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Real Redis, etcd and ZooKeeper servers from Debian for the KV provider
// tests (`make kvstores` installs the packages; a test is skipped, with
// the reason, when its server is missing). Each server keeps its data in a
// directory of the test, so that it survives a Kill and Start: an outage,
// not a wipe.

// kvServer is one store as the shared KV test drives it.
type kvServer interface {
	// Set writes keys (whole keys, e.g. traefik/http/routers/x/rule).
	Set(kv map[string]string)
	// DeleteTree removes every key under prefix.
	DeleteTree(prefix string)
	Kill()
	Start()
	// Endpoint is the address the provider is given.
	Endpoint() string
}

// killProc kills p and waits for it.
func killProc(p *Proc) {
	if p == nil || p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func lookBin(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s; make kvstores)", name, pkg)
	}
	return p
}

// waitUp polls ok until it holds or 30 s pass.
func waitUp(t testing.TB, what string, p *Proc, ok func() error) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		err := ok()
		if err == nil {
			t.Logf("%s up in %v", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s not up: %v\n%s", what, err, tail(p.Output(), 3000))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// ---- Redis ----

type redisServer struct {
	t      testing.TB
	bin    string
	dir    string
	port   int
	extra  []string
	proc   *Proc
	Client *goredis.Client
}

// startRedis runs redis-server with keyspace notifications on (the
// provider needs them) and an append-only file, so data survive a restart.
// extra are more server arguments; opts adjusts the test's own client.
func startRedis(t testing.TB, extra []string, opts func(*goredis.Options)) *redisServer {
	t.Helper()
	s := &redisServer{t: t, bin: lookBin(t, "redis-server", "redis-server"), dir: t.TempDir(), port: freePort(t), extra: extra}
	o := &goredis.Options{Addr: s.Endpoint(), DisableIdentity: true}
	if opts != nil {
		opts(o)
	}
	s.Client = goredis.NewClient(o)
	t.Cleanup(func() { s.Client.Close() })
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

func (s *redisServer) Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *redisServer) Start() {
	s.t.Helper()
	args := append([]string{"--bind", "127.0.0.1", "--port", fmt.Sprint(s.port), "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--notify-keyspace-events", "KA"}, s.extra...)
	s.proc = startProc(s.t, s.dir, nil, s.bin, args...)
	waitUp(s.t, "redis-server", s.proc, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return s.Client.Ping(ctx).Err()
	})
}

func (s *redisServer) Kill() { killProc(s.proc) }

func (s *redisServer) Set(kv map[string]string) {
	s.t.Helper()
	args := make([]any, 0, 2*len(kv))
	for k, v := range kv {
		args = append(args, k, v)
	}
	if err := s.Client.MSet(context.Background(), args...).Err(); err != nil {
		s.t.Fatalf("redis MSET: %v", err)
	}
}

func (s *redisServer) DeleteTree(prefix string) {
	s.t.Helper()
	ctx := context.Background()
	keys, err := s.Client.Keys(ctx, prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = s.Client.Del(ctx, keys...).Err()
	}
	if err != nil {
		s.t.Fatalf("redis delete %s: %v", prefix, err)
	}
}

// ---- etcd ----

type etcdServer struct {
	t          testing.TB
	bin        string
	dir        string
	port, peer int
	scheme     string
	extra      []string
	proc       *Proc
	Client     *clientv3.Client
}

// startEtcd runs a one-member etcd; tlsArgs (server TLS flags) switch the
// client URL to https, and clientTLS is then the test client's TLS.
func startEtcd(t testing.TB, tlsArgs []string, clientTLS *tls.Config) *etcdServer {
	t.Helper()
	s := &etcdServer{t: t, bin: lookBin(t, "etcd", "etcd-server"), dir: t.TempDir(), port: freePort(t), peer: freePort(t), scheme: "http", extra: tlsArgs}
	if len(tlsArgs) > 0 {
		s.scheme = "https"
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.url()}, TLS: clientTLS, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	s.Client = c
	t.Cleanup(func() { c.Close() })
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

func (s *etcdServer) url() string { return fmt.Sprintf("%s://127.0.0.1:%d", s.scheme, s.port) }

func (s *etcdServer) Endpoint() string { return s.url() }

func (s *etcdServer) Start() {
	s.t.Helper()
	peer := fmt.Sprintf("http://127.0.0.1:%d", s.peer)
	args := append([]string{"--name", "kv", "--data-dir", filepath.Join(s.dir, "data"),
		"--listen-client-urls", s.url(), "--advertise-client-urls", s.url(),
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "kv=" + peer, "--log-level", "warn"}, s.extra...)
	s.proc = startProc(s.t, s.dir, nil, s.bin, args...)
	waitUp(s.t, "etcd", s.proc, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := s.Client.Get(ctx, "probe")
		if err != nil && strings.Contains(err.Error(), "user name is empty") {
			return nil // auth on: up
		}
		return err
	})
}

func (s *etcdServer) Kill() { killProc(s.proc) }

func (s *etcdServer) Set(kv map[string]string) {
	s.t.Helper()
	ops := make([]clientv3.Op, 0, len(kv))
	for k, v := range kv {
		ops = append(ops, clientv3.OpPut(k, v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client.Txn(ctx).Then(ops...).Commit(); err != nil {
		s.t.Fatalf("etcd txn: %v", err)
	}
}

func (s *etcdServer) DeleteTree(prefix string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client.Delete(ctx, prefix, clientv3.WithPrefix()); err != nil {
		s.t.Fatalf("etcd delete %s: %v", prefix, err)
	}
}

// ---- ZooKeeper ----

var zkInstall sync.Once

// zkJar finds Debian's zookeeper.jar, installing the package once when it
// is missing (as `make kvstores` does).
func zkJar(t testing.TB) string {
	t.Helper()
	const jar = "/usr/share/java/zookeeper.jar"
	zkInstall.Do(func() {
		if _, err := os.Stat(jar); err == nil || !isRoot() {
			return
		}
		cmd := "apt-get install -y --no-install-recommends zookeeper >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y --no-install-recommends zookeeper >/dev/null)"
		_ = exec.Command("sh", "-c", cmd).Run()
	})
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("ZooKeeper not installed (Debian package zookeeper; make kvstores): %v", err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("no java for ZooKeeper")
	}
	return jar
}

type zkServer struct {
	t    testing.TB
	jar  string
	dir  string
	port int
	proc *Proc
	Conn *zk.Conn
	ACL  []zk.ACL
	user string
	pass string
}

// startZooKeeper runs a standalone ZooKeeper (small heap, quick JIT).
// When user is set, the test client authenticates as user:pass and
// creates every node readable by that user only.
func startZooKeeper(t testing.TB, user, pass string) *zkServer {
	t.Helper()
	s := &zkServer{t: t, jar: zkJar(t), dir: t.TempDir(), port: freePort(t), ACL: zk.WorldACL(zk.PermAll), user: user, pass: pass}
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n", filepath.Join(s.dir, "data"), s.port)
	if err := os.WriteFile(filepath.Join(s.dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Kill)
	t.Cleanup(func() {
		if s.Conn != nil {
			s.Conn.Close()
		}
	})
	if user != "" {
		s.ACL = zk.DigestACL(zk.PermAll, user, pass)
	}
	return s
}

// session returns the test client's session, dialling a new one when the
// old did not survive a restart (a client that connects while the server
// still loads its data can wait a minute for an answer).
func (s *zkServer) session() *zk.Conn {
	s.t.Helper()
	if s.Conn != nil && s.Conn.State() == zk.StateHasSession {
		return s.Conn
	}
	if s.Conn != nil {
		s.Conn.Close()
	}
	c, _, err := zk.Connect([]string{s.Endpoint()}, 10*time.Second, zk.WithLogger(nopZKLogger{}))
	if err != nil {
		s.t.Fatal(err)
	}
	s.Conn = c
	waitUp(s.t, "zookeeper session", s.proc, func() error {
		if c.State() != zk.StateHasSession {
			return fmt.Errorf("state %s", c.State())
		}
		return nil
	})
	if s.user != "" {
		if err := c.AddAuth("digest", []byte(s.user+":"+s.pass)); err != nil {
			s.t.Fatal(err)
		}
	}
	return c
}

type nopZKLogger struct{}

func (nopZKLogger) Printf(string, ...any) {}

func (s *zkServer) Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *zkServer) Start() {
	s.t.Helper()
	s.proc = startProc(s.t, s.dir, nil, "java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-cp", s.jar+":/usr/share/java/slf4j-simple.jar:/etc/zookeeper/conf", "org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(s.dir, "zoo.cfg"))
	// The port opens before the data are loaded: ask srvr, which answers
	// with the version only once the server serves.
	waitUp(s.t, "zookeeper", s.proc, func() error {
		c, err := net.DialTimeout("tcp", s.Endpoint(), 200*time.Millisecond)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("srvr")); err != nil {
			return err
		}
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "Zookeeper version") {
			return fmt.Errorf("srvr: %q", b)
		}
		return nil
	})
}

func (s *zkServer) Kill() { killProc(s.proc) }

func (s *zkServer) Set(kv map[string]string) {
	s.t.Helper()
	c := s.session()
	for k, v := range kv {
		p := "/" + strings.Trim(k, "/")
		// Parents first.
		segs := strings.Split(p[1:], "/")
		for i := 1; i < len(segs); i++ {
			parent := "/" + strings.Join(segs[:i], "/")
			if _, err := c.Create(parent, nil, 0, s.ACL); err != nil && err != zk.ErrNodeExists {
				s.t.Fatalf("zk create %s: %v", parent, err)
			}
		}
		if _, err := c.Create(p, []byte(v), 0, s.ACL); err == zk.ErrNodeExists {
			if _, err := c.Set(p, []byte(v), -1); err != nil {
				s.t.Fatalf("zk set %s: %v", p, err)
			}
		} else if err != nil {
			s.t.Fatalf("zk create %s: %v", p, err)
		}
	}
}

func (s *zkServer) DeleteTree(prefix string) {
	s.t.Helper()
	c := s.session()
	var del func(p string)
	del = func(p string) {
		kids, _, err := c.Children(p)
		if err == zk.ErrNoNode {
			return
		}
		if err != nil {
			s.t.Fatalf("zk children %s: %v", p, err)
		}
		for _, k := range kids {
			del(p + "/" + k)
		}
		if err := c.Delete(p, -1); err != nil && err != zk.ErrNoNode {
			s.t.Fatalf("zk delete %s: %v", p, err)
		}
	}
	del("/" + strings.Trim(prefix, "/"))
}
