package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

// stoppablePod is a whoami in the test network that can be shut down
// gracefully (in-flight requests finish).
func stoppablePod(t *testing.T, name string) (ip string, port int32, stop func()) {
	t.Helper()
	kn := requireKubeNet(t)
	ip = kn.NewIP(t)
	ln := kn.Listen(t, ip, 0)
	srv := &http.Server{Handler: whoami.New(name), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ip, int32(ln.Addr().(*net.TCPAddr).Port), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// loadLoop sends requests back to back from n clients until stopped and
// counts them, the failures, and the answers of each backend.
type loadLoop struct {
	mu       sync.Mutex
	total    int
	failures []string
	by       map[string]int
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(url, host string, n int) *loadLoop {
	l := &loadLoop{by: map[string]int{}, stop: make(chan struct{})}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 2}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Host = host
				resp, err := hc.Do(req)
				var name, fail string
				if err != nil {
					fail = err.Error()
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					name = backendName(string(b))
					if resp.StatusCode != 200 {
						fail = fmt.Sprintf("status %d (%s)", resp.StatusCode, name)
					}
				}
				l.mu.Lock()
				l.total++
				if fail != "" {
					l.failures = append(l.failures, fail)
				} else {
					l.by[name]++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *loadLoop) count(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.by[name]
}

func (l *loadLoop) end() {
	close(l.stop)
	l.wg.Wait()
}

// serverURLs are the servers of a service as the API shows them.
func (ke *kubeIngressEnv) serverURLs(t *testing.T, svc string) map[string]string {
	rd, err := fetchRawdata(ke.URL("traefik"))
	if err != nil {
		return nil
	}
	return rd.Services[svc].ServerStatus
}

// TestKubeIngressEndpointsUnderLoad moves a Service from pod A to pod B
// the way a rollout does (B ready first, then A terminating, then A gone
// and stopped) while clients send requests back to back: none fails.
func TestKubeIngressEndpointsUnderLoad(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ipA, portA, stopA := stoppablePod(t, "pod-a")
	// One target port for both pods, as a Deployment's: B listens on A's.
	kn := requireKubeNet(t)
	ipB, portB := kn.NewIP(t), portA
	lnB := kn.Listen(t, ipB, int(portB))
	srvB := &http.Server{Handler: whoami.New("pod-b"), ReadHeaderTimeout: 10 * time.Second}
	go srvB.Serve(lnB)
	t.Cleanup(func() { srvB.Close() })
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, portA, KubeEndpoint{IP: ipA, Ready: true})
	ke := startKubeIngress(t, k, []string{ns}, "", "")
	ke.apply(t, simpleIngress("roll", "roll.example.com", "svc", 80))
	ke.served(t, "/", "roll.example.com", "pod-a")
	svc := ns + "-svc-80@kubernetes"
	urlA, urlB := fmt.Sprintf("http://%s:%d", ipA, portA), fmt.Sprintf("http://%s:%d", ipB, portB)

	load := startLoad(ke.URL("web")+"/", "roll.example.com", 4)
	start := time.Now()
	time.Sleep(300 * time.Millisecond)
	// 1. B ready beside A.
	k.SetEndpoints(t, ns, "svc", "http", portA, KubeEndpoint{IP: ipA, Ready: true}, KubeEndpoint{IP: ipB, Ready: true})
	ke.waitFor(20*time.Second, "pod-b answers", func() bool { return load.count("pod-b") > 0 })
	// 2. A terminating (serving, not ready): it leaves the load balancer.
	k.SetEndpoints(t, ns, "svc", "http", portA, KubeEndpoint{IP: ipA, Terminating: true}, KubeEndpoint{IP: ipB, Ready: true})
	ke.waitFor(20*time.Second, "pod-a out of the service", func() bool {
		s := ke.serverURLs(t, svc)
		_, a := s[urlA]
		_, b := s[urlB]
		return b && !a
	})
	// 3. A removed from the slice, then stopped.
	k.SetEndpoints(t, ns, "svc", "http", portA, KubeEndpoint{IP: ipB, Ready: true})
	time.Sleep(300 * time.Millisecond)
	aBefore := load.count("pod-a")
	stopA()
	time.Sleep(500 * time.Millisecond)
	load.end()
	took := time.Since(start)
	t.Logf("%d requests in %v over the move: pod-a %d, pod-b %d, failed %d", load.total, took.Round(time.Millisecond), load.by["pod-a"], load.by["pod-b"], len(load.failures))
	if len(load.failures) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(load.failures), load.total, load.failures[0])
	}
	if load.by["pod-a"] != aBefore {
		t.Errorf("pod-a answered after it was stopped")
	}
	if load.total < 100 {
		t.Errorf("only %d requests: the loop did not run", load.total)
	}
}

// TestKubeIngressStatus: ingressEndpoint.ip written to status.loadBalancer
// by the leader (a Lease in the replica's namespace), not rewritten when
// nothing changed, and not written by a second replica that does not lead.
func TestKubeIngressStatus(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	ke := startKubeIngress(t, k, []string{ns}, `    ingressEndpoint:
      ip: "192.0.2.10"
`, "")
	ke.apply(t, simpleIngress("st", "st.example.com", "svc", 80))
	ke.served(t, "/", "st.example.com", "pod")
	ctx := context.Background()
	var got *netv1.Ingress
	ke.waitFor(40*time.Second, "status.loadBalancer written", func() bool {
		i, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "st", metav1.GetOptions{})
		if err != nil || len(i.Status.LoadBalancer.Ingress) != 1 || i.Status.LoadBalancer.Ingress[0].IP != "192.0.2.10" {
			return false
		}
		got = i
		return true
	})
	lease, err := k.Client.CoordinationV1().Leases(ns).Get(ctx, "switchyard-ingress", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Fatalf("lease: %v %+v", err, lease)
	}
	// A second replica with another address: not the leader, it writes nothing.
	ke2 := startKubeIngress(t, k, []string{ns}, `    ingressEndpoint:
      ip: "192.0.2.99"
`, "")
	ke2.served(t, "/", "st.example.com", "pod")
	// Rebuilds that change nothing in the status write nothing.
	for i := range 3 {
		k.SetEndpoints(t, ns, "svc", "http", port, KubeEndpoint{IP: ip, Ready: true}, KubeEndpoint{IP: fmt.Sprintf("198.18.250.%d", i+1)})
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(time.Second)
	now, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "st", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if now.ResourceVersion != got.ResourceVersion || now.Status.LoadBalancer.Ingress[0].IP != "192.0.2.10" {
		t.Errorf("status rewritten: rv %s -> %s, %+v", got.ResourceVersion, now.ResourceVersion, now.Status.LoadBalancer.Ingress)
	}
	t.Logf("leader %s", *lease.Spec.HolderIdentity)
}

// relay is a TCP relay that can be cut (every connection closed, nothing
// accepted) and restored on the same port.
type relay struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startRelay(t *testing.T, target string) *relay {
	r := &relay{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.cut)
	return r
}

func (r *relay) serve(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.pipe(c)
		}
	}()
}

func (r *relay) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	r.conns[c], r.conns[u] = true, true
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, u)
	r.mu.Unlock()
}

func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
	}
}

func (r *relay) restore(t *testing.T) {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relay back on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

// TestKubeIngressOutage: switchyard reaches the API server through a relay;
// the relay is cut (an API server outage as switchyard sees it): traffic
// keeps flowing on the last configuration; a change made meanwhile is
// followed once the relay is back.
func TestKubeIngressOutage(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ipA, portA := pod(t, "pod-a")
	ipB, portB := pod(t, "pod-b")
	k.ServiceWithEndpoints(t, ns, "svc-a", "http", 80, portA, KubeEndpoint{IP: ipA, Ready: true})
	k.ServiceWithEndpoints(t, ns, "svc-b", "http", 80, portB, KubeEndpoint{IP: ipB, Ready: true})
	rl := startRelay(t, k.URL[len("https://"):])
	ke := startKubeIngress(t, k, []string{ns}, fmt.Sprintf("    endpoint: %q\n    token: %q\n    certAuthFilePath: %q\n", "https://"+rl.addr, kubeAdminToken, k.CAFile), "")
	ke.apply(t, simpleIngress("out", "out.example.com", "svc-a", 80))
	ke.served(t, "/", "out.example.com", "pod-a")

	rl.cut()
	load := startLoad(ke.URL("web")+"/", "out.example.com", 2)
	// Meanwhile the Ingress moves to svc-b: switchyard cannot see it.
	ke.apply(t, simpleIngress("out", "out.example.com", "svc-b", 80))
	time.Sleep(3 * time.Second)
	load.end()
	t.Logf("API server cut for 3 s: %d requests, pod-a %d, pod-b %d, failed %d", load.total, load.by["pod-a"], load.by["pod-b"], len(load.failures))
	if len(load.failures) > 0 || load.by["pod-a"] == 0 || load.by["pod-b"] > 0 {
		t.Errorf("during the outage: %+v, failures %v", load.by, load.failures)
	}
	back := time.Now()
	rl.restore(t)
	ke.waitFor(60*time.Second, "the change made during the outage followed", func() bool {
		rep, err := tryDo(request{url: ke.URL("web") + "/", host: "out.example.com"})
		return err == nil && rep.Status == 200 && backendName(rep.Body) == "pod-b"
	})
	t.Logf("followed %v after the relay came back", time.Since(back).Round(time.Millisecond))

}
