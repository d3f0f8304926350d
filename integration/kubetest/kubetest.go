package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Package kubetest runs a real Kubernetes API server (kube-apiserver v1.34.2
// built once by integration/kube/build.sh, on etcd 3.4 from Debian's
// etcd-server) and a network namespace for endpoints, for the integration
// tests and the Gateway API conformance run (a module of its own), which
// both import it.
//
// A real Kubernetes API server (kube-apiserver v1.34.2 built once by
// integration/kube/build.sh, on etcd 3.4 from Debian's etcd-server) shared
// by every Kubernetes test of the run; each test works in a namespace of
// its own. No controller-manager runs: tests write EndpointSlices (and
// anything else a controller would) themselves.

// Tokens of the static token file: admin is system:masters; the
// switchyard user has no rights but those a test grants (the deploy
// manifests' RBAC is checked with it).
const (
	AdminToken      = "admin-token-for-tests"
	SwitchyardToken = "switchyard-token-for-tests"
	SwitchyardUser  = "switchyard"
)

type Cluster struct {
	URL        string // https://127.0.0.1:PORT
	CAFile     string // the API server's self-signed serving certificate
	Kubeconfig string // admin kubeconfig, for tools
	Config     *rest.Config
	Client     kubernetes.Interface
	dir        string
	etcd       *exec.Cmd
	api        *exec.Cmd
	apiOut     *syncBuffer
}

// Start starts etcd and the API server (building the API server on first
// use with repoRoot/integration/kube/build.sh) and waits until both are
// ready. Stop ends them.
func Start(repoRoot string) (*Cluster, error) {
	return startKube(repoRoot)
}

func startKube(repoRoot string) (*Cluster, error) {
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		return nil, fmt.Errorf("etcd not installed (apt-get install etcd-server; make test does it): %w", err)
	}
	apiBin, err := CachedBuild(filepath.Join(repoRoot, "integration", "kube", "build.sh"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "switchyard-kube-")
	if err != nil {
		return nil, err
	}
	k := &Cluster{dir: dir}
	ok := false
	defer func() {
		if !ok {
			k.Stop()
		}
	}()
	etcdClient, etcdPeer := FreePort(), FreePort()
	k.etcd = exec.Command(etcdBin,
		"--name=default", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--advertise-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=default=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--log-level=error")
	etcdOut := &syncBuffer{}
	k.etcd.Stdout, k.etcd.Stderr = etcdOut, etcdOut
	k.etcd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := k.etcd.Start(); err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(
		AdminToken+",admin,1,\"system:masters\"\n"+
			SwitchyardToken+","+SwitchyardUser+",2,\"switchyard\"\n"), 0o600); err != nil {
		return nil, err
	}
	port := FreePort()
	certDir := filepath.Join(dir, "certs")
	k.apiOut = &syncBuffer{}
	k.api = exec.Command(apiBin,
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--secure-port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--cert-dir="+certDir,
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0")
	k.api.Stdout, k.api.Stderr = k.apiOut, k.apiOut
	k.api.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := k.api.Start(); err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	k.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	k.CAFile = filepath.Join(certDir, "apiserver.crt")

	// Ready: /readyz answers 200 and the default namespace exists.
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, k.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kube-apiserver not ready after 90 s:\n%s\netcd:\n%s", tail(k.apiOut.String(), 3000), tail(etcdOut.String(), 1000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.Config = &rest.Config{Host: k.URL, BearerToken: AdminToken, TLSClientConfig: rest.TLSClientConfig{CAFile: k.CAFile}, QPS: 100, Burst: 200}
	k.Client, err = kubernetes.NewForConfig(k.Config)
	if err != nil {
		return nil, err
	}
	for {
		_, err := k.Client.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("default namespace never appeared: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(k.Kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, k.URL, k.CAFile, AdminToken)), 0o600); err != nil {
		return nil, err
	}
	ok = true
	return k, nil
}

// Stop kills the API server and etcd and removes their files.
func (k *Cluster) Stop() {
	for _, c := range []*exec.Cmd{k.api, k.etcd} {
		if c != nil && c.Process != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	os.RemoveAll(k.dir)
}

// FreePort is freePort for code that has no testing.TB (shared servers).
func FreePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ProviderYAML is the connection part of a Kubernetes provider's static
// YAML (admin token), indented for a block under providers.<name>.
func (k *Cluster) ProviderYAML(indent string) string {
	return fmt.Sprintf("%sendpoint: %q\n%stoken: %q\n%scertAuthFilePath: %q\n", indent, k.URL, indent, AdminToken, indent, k.CAFile)
}

// Namespace creates a fresh namespace for one test, deleted after it.
func (k *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	name = strings.Trim(name, "-") + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	ctx := context.Background()
	if _, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Without a controller-manager a namespace never finishes
		// terminating; its objects are gone from the tests' view anyway.
		_ = k.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// Endpoint is one endpoint of a test Service.
type Endpoint struct {
	IP          string
	Ready       bool
	Terminating bool
}

// ServiceWithEndpoints creates (or replaces the endpoints of) a ClusterIP
// Service with one port (named portName, number port, target port
// targetPort) and one EndpointSlice holding eps at targetPort, as the
// endpoint-slice controller would write it.
func (k *Cluster) ServiceWithEndpoints(t testing.TB, ns, name, portName string, port, targetPort int32, eps ...Endpoint) {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: portName, Port: port, TargetPort: intstr.FromInt32(targetPort), Protocol: corev1.ProtocolTCP,
		}}},
	}
	if _, err := k.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create service %s/%s: %v", ns, name, err)
	}
	k.SetEndpoints(t, ns, name, portName, targetPort, eps...)
}

// SetEndpoints writes the EndpointSlice "<svc>-test" of a Service.
func (k *Cluster) SetEndpoints(t testing.TB, ns, svc, portName string, targetPort int32, eps ...Endpoint) {
	t.Helper()
	ctx := context.Background()
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: svc + "-test", Namespace: ns,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "switchyard-tests"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &targetPort, Protocol: Ptr(corev1.ProtocolTCP)}},
	}
	for _, e := range eps {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{e.IP},
			Conditions: discoveryv1.EndpointConditions{
				Ready:       Ptr(e.Ready),
				Serving:     Ptr(e.Ready || e.Terminating),
				Terminating: Ptr(e.Terminating),
			},
		})
	}
	cur, err := k.Client.DiscoveryV1().EndpointSlices(ns).Get(ctx, slice.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		slice.ResourceVersion = cur.ResourceVersion
		_, err = k.Client.DiscoveryV1().EndpointSlices(ns).Update(ctx, slice, metav1.UpdateOptions{})
	case apierrors.IsNotFound(err):
		_, err = k.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("endpoint slice %s/%s: %v", ns, slice.Name, err)
	}
}

func Ptr[T any](v T) *T { return &v }

// ---------------------------------------------------------------------------
// A network namespace for endpoints: the API server refuses loopback
// addresses in EndpointSlices, so backends listen on 198.18.N.x (RFC 2544
// benchmarking space) inside a namespace of the test run's own, reached
// from the host through a veth pair. Nothing outside the run changes.

type Net struct {
	name   string // netns name
	host   string // veth end in the host namespace
	prefix string // "198.18.N."
	mu     sync.Mutex
	next   int
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NewNet creates the network namespace and its veth pair; Remove deletes
// them.
func NewNet() (*Net, error) {
	// The host-side veth name reserves N: parallel runs (worktrees) pick
	// different subnets.
	start := os.Getpid() % 250
	for i := range 250 {
		n := (start+i)%250 + 1
		host := fmt.Sprintf("sy%dh", n)
		if err := ipCmd("link", "add", host, "type", "veth", "peer", "name", fmt.Sprintf("sy%dn", n)); err != nil {
			continue
		}
		kn := &Net{name: fmt.Sprintf("switchyard-test-%d", n), host: host, prefix: fmt.Sprintf("198.18.%d.", n), next: 2}
		steps := [][]string{
			{"netns", "add", kn.name},
			{"link", "set", fmt.Sprintf("sy%dn", n), "netns", kn.name},
			{"addr", "add", kn.prefix + "1/24", "dev", host},
			{"link", "set", host, "up"},
			{"-n", kn.name, "link", "set", "lo", "up"},
			{"-n", kn.name, "link", "set", fmt.Sprintf("sy%dn", n), "up"},
		}
		for _, s := range steps {
			if err := ipCmd(s...); err != nil {
				kn.Remove()
				return nil, err
			}
		}
		return kn, nil
	}
	return nil, fmt.Errorf("no free veth name sy1h..sy250h")
}

// Remove deletes the namespace and the veth pair.
func (n *Net) Remove() {
	_ = ipCmd("link", "del", n.host)
	_ = ipCmd("netns", "del", n.name)
}

// HostIP is the address of the host's end of the veth pair: what a
// client inside the namespace reaches the host's listeners at.
func (n *Net) HostIP() string { return n.prefix + "1" }

// Dial connects from inside the namespace (the socket stays there).
func (n *Net) Dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := n.inNetns(func() error {
		var err error
		c, err = net.DialTimeout(network, addr, timeout)
		return err
	})
	return c, err
}

// Cut takes the namespace's end of the veth pair down: its sockets stay
// open but nothing goes in or out any more, as when a mobile client
// vanishes without FIN or RST.
func (n *Net) Cut() error {
	return ipCmd("-n", n.name, "link", "set", strings.TrimSuffix(n.host, "h")+"n", "down")
}

// NewIP adds one more address inside the namespace (one per "pod").
func (n *Net) NewIP(t testing.TB) string {
	t.Helper()
	n.mu.Lock()
	if n.next > 254 {
		n.mu.Unlock()
		t.Fatal("test network namespace: out of addresses")
	}
	ip := n.prefix + strconv.Itoa(n.next)
	n.next++
	n.mu.Unlock()
	if err := ipCmd("-n", n.name, "addr", "add", ip+"/24", "dev", strings.TrimSuffix(n.host, "h")+"n"); err != nil {
		t.Fatal(err)
	}
	return ip
}

// Listen opens a TCP listener on ip:port inside the namespace (port 0
// picks one). The socket stays in the namespace after the thread that
// made it returns to the host's.
func (n *Net) Listen(t testing.TB, ip string, port int) net.Listener {
	t.Helper()
	var ln net.Listener
	err := n.inNetns(func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s on %s:%d: %v", n.name, ip, port, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// ListenUDP is Listen for UDP.
func (n *Net) ListenUDP(t testing.TB, ip string, port int) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := n.inNetns(func() error {
		var err error
		pc, err = net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		return err
	})
	if err != nil {
		t.Fatalf("listen udp in %s on %s:%d: %v", n.name, ip, port, err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

func (n *Net) inNetns(f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + n.name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: keep it locked so it
		// exits with the goroutine instead of serving others.
		return fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// ServeHTTP serves h on a fresh address in the namespace and returns
// that address (ip) and port.
func (n *Net) ServeHTTP(t testing.TB, h http.Handler) (string, int) {
	t.Helper()
	ip := n.NewIP(t)
	ln := n.Listen(t, ip, 0)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ip, ln.Addr().(*net.TCPAddr).Port
}

// CachedBuild runs one of the build scripts that keep a real server built
// outside the clone (keyed by version) and returns the binary's path, which
// the script prints on its last line.
func CachedBuild(script string) (string, error) {
	cmd := exec.Command(script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w\n%s", filepath.Base(filepath.Dir(script)), err, tail(stderr.String(), 2000))
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return "", fmt.Errorf("%s printed no binary path", script)
	}
	return lines[len(lines)-1], nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// syncBuffer collects a process's output for error messages.
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
