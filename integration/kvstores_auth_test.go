package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// kvRouter writes one router and its service under traefik/.
func kvRouter(name, path, backend string) map[string]string {
	return map[string]string{
		"traefik/http/routers/" + name + "/rule":                           "Path(`" + path + "`)",
		"traefik/http/routers/" + name + "/service":                        name + "svc",
		"traefik/http/services/" + name + "svc/loadBalancer/servers/0/url": backend,
	}
}

// TestRedisKVTLSAuth: a TLS-only Redis with a password and a client
// certificate required; the provider's tls, password and db options.
func TestRedisKVTLSAuth(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	dir := t.TempDir()
	ca := newCA(t, "redis-ca")
	caFile := writeFile(t, dir, "ca.pem", ca.PEM)
	sc, sk := ca.issue(t, "redis", []string{"127.0.0.1"}, false)
	srvCert, srvKey := writePair(t, dir, "server", sc, sk)
	cc, ck := ca.issue(t, "switchyard", nil, true)
	cliCert, cliKey := writePair(t, dir, "client", cc, ck)
	pair, err := tls.LoadX509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	srv := startRedis(t, []string{"--port", "0", "--tls-port", fmt.Sprint(port),
		"--tls-cert-file", srvCert, "--tls-key-file", srvKey, "--tls-ca-cert-file", caFile,
		"--tls-auth-clients", "yes", "--requirepass", "s3cret"}, func(o *goredis.Options) {
		o.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		o.Password = "s3cret"
		o.DB = 3
		o.TLSConfig = &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	})
	e := newEnv(t)
	srv.Set(kvRouter("sec", "/sec", e.Backend("redis-tls")))
	e.WriteStatic("yml", consulStatic(fmt.Sprintf(`  redis:
    endpoints: ["127.0.0.1:%d"]
    password: s3cret
    db: 3
    tls:
      ca: %s
      cert: %s
      key: %s
`, port, caFile, cliCert, cliKey)))
	e.Start()
	e.WaitRouters("sec@redis")
	waitServed(t, e, e.URL("web")+"/sec", "", "redis-tls")
	// Followed live over TLS (keyspace notifications of db 3).
	srv.Set(kvRouter("sec2", "/sec2", e.Backend("redis-tls")))
	waitServed(t, e, e.URL("web")+"/sec2", "", "redis-tls")
	if strings.Contains(e.Proc.Output(), "s3cret") {
		t.Error("the password reached the log")
	}
}

// TestZooKeeperKVAuth: nodes readable by one digest user only; the
// provider reads them with username/password.
func TestZooKeeperKVAuth(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	srv := startZooKeeper(t, "sw", "zkpass")
	e := newEnv(t)
	srv.Set(kvRouter("zsec", "/zsec", e.Backend("zk-auth")))
	e.WriteStatic("yml", consulStatic(`  zooKeeper:
    endpoints: ["`+srv.Endpoint()+`"]
    username: sw
    password: zkpass
`))
	e.Start()
	e.WaitRouters("zsec@zookeeper")
	waitServed(t, e, e.URL("web")+"/zsec", "", "zk-auth")
	srv.Set(kvRouter("zsec2", "/zsec2", e.Backend("zk-auth")))
	waitServed(t, e, e.URL("web")+"/zsec2", "", "zk-auth")
}

// TestEtcdKVTLSAuth: etcd over TLS with client certificates required and
// auth on; the provider's tls, username and password options.
func TestEtcdKVTLSAuth(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	dir := t.TempDir()
	ca := newCA(t, "etcd-ca")
	caFile := writeFile(t, dir, "ca.pem", ca.PEM)
	sc, sk := ca.issue(t, "etcd", []string{"127.0.0.1"}, false)
	srvCert, srvKey := writePair(t, dir, "server", sc, sk)
	cc, ck := ca.issue(t, "switchyard", nil, true)
	cliCert, cliKey := writePair(t, dir, "client", cc, ck)
	pair, err := tls.LoadX509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv := startEtcd(t, []string{"--cert-file", srvCert, "--key-file", srvKey, "--trusted-ca-file", caFile, "--client-cert-auth"}, tc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := srv.Client
	if _, err := c.UserAdd(ctx, "root", "etcdpw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	authed, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.url()}, TLS: tc, Username: "root", Password: "etcdpw", DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer authed.Close()
	srv.Client = authed
	e := newEnv(t)
	srv.Set(kvRouter("esec", "/esec", e.Backend("etcd-tls")))
	e.WriteStatic("yml", consulStatic(`  etcd:
    endpoints: ["`+srv.url()+`"]
    username: root
    password: etcdpw
    tls:
      ca: `+caFile+`
      cert: `+cliCert+`
      key: `+cliKey+`
`))
	e.Start()
	e.WaitRouters("esec@etcd")
	waitServed(t, e, e.URL("web")+"/esec", "", "etcd-tls")
	srv.Set(kvRouter("esec2", "/esec2", e.Backend("etcd-tls")))
	waitServed(t, e, e.URL("web")+"/esec2", "", "etcd-tls")
}

// TestRedisKVSentinel: the provider finds the master through a real
// Sentinel (redis-server --sentinel) and follows it.
func TestRedisKVSentinel(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	srv := startRedis(t, nil, nil)
	dir := t.TempDir()
	sport := freePort(t)
	conf := writeFile(t, dir, "sentinel.conf", fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster %s 1\n", sport, strings.Replace(srv.Endpoint(), ":", " ", 1)))
	sp := startProc(t, dir, nil, srv.bin, conf, "--sentinel")
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", sport)})
	defer sc.Close()
	waitUp(t, "sentinel", sp, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		return err
	})
	e := newEnv(t)
	srv.Set(kvRouter("sent", "/sent", e.Backend("sentinel")))
	e.WriteStatic("yml", consulStatic(fmt.Sprintf(`  redis:
    endpoints: ["127.0.0.1:%d"]
    sentinel:
      masterName: mymaster
`, sport)))
	e.Start()
	e.WaitRouters("sent@redis")
	waitServed(t, e, e.URL("web")+"/sent", "", "sentinel")
	srv.Set(kvRouter("sent2", "/sent2", e.Backend("sentinel")))
	waitServed(t, e, e.URL("web")+"/sent2", "", "sentinel")
}
