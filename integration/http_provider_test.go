package integration

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// confServer is the endpoint of the HTTP provider: a YAML configuration
// with an ETag, on a port that survives Stop and Start.
type confServer struct {
	t           testing.TB
	addr        string
	mu          sync.Mutex
	body        string
	version     int
	srv         *http.Server
	requests    atomic.Int64
	notModified atomic.Int64
	token       atomic.Value
}

func startConfServer(t testing.TB) *confServer {
	t.Helper()
	s := &confServer{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

func (s *confServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.token.Store(r.Header.Get("Authorization"))
	s.mu.Lock()
	body, etag := s.body, fmt.Sprintf(`"v%d"`, s.version)
	s.mu.Unlock()
	if r.Header.Get("If-None-Match") == etag {
		s.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write([]byte(body))
}

func (s *confServer) Set(body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
	s.version++
}

func (s *confServer) Start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
}

func (s *confServer) Stop() {
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

func routerConf(routes map[string]string, backend string) string {
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	for name, path := range routes {
		fmt.Fprintf(&b, "    %s:\n      rule: Path(`%s`)\n      service: hs\n", name, path)
	}
	fmt.Fprintf(&b, "  services:\n    hs:\n      loadBalancer:\n        servers:\n          - url: %s\n", backend)
	return b.String()
}

// TestHTTPProvider polls a live endpoint through the binary: applied,
// unchanged answers (304) applied never again, changes followed, the
// endpoint stopped (last configuration kept, no request lost) and back.
func TestHTTPProvider(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	cs := startConfServer(t)
	e := newEnv(t)
	a, b := e.Backend("hp-a"), e.Backend("hp-b")
	cs.Set(routerConf(map[string]string{"h1": "/h1"}, a))
	e.WriteStatic("yml", consulStatic(`  http:
    endpoint: "http://`+cs.addr+`/conf"
    pollInterval: 100ms
    pollTimeout: 2s
    headers:
      Authorization: Bearer s3cret
`))
	e.Start()
	e.WaitRouters("h1@http")
	waitServed(t, e, e.URL("web")+"/h1", "", "hp-a")
	if tok, _ := cs.token.Load().(string); tok != "Bearer s3cret" {
		t.Errorf("headers not sent: Authorization %q", tok)
	}

	// Unchanged: every poll is answered 304 and nothing is applied again.
	applied := strings.Count(e.Proc.Output(), "configuration applied")
	n0 := cs.notModified.Load()
	e.waitFor(10*time.Second, "five 304 answers", func() bool { return cs.notModified.Load() >= n0+5 })
	if got := strings.Count(e.Proc.Output(), "configuration applied"); got != applied {
		t.Errorf("configuration applied %d more times while unchanged", got-applied)
	}

	// Changed live.
	cs.Set(routerConf(map[string]string{"h1": "/h1", "h2": "/h2"}, b))
	waitServed(t, e, e.URL("web")+"/h2", "", "hp-b")
	waitServed(t, e, e.URL("web")+"/h1", "", "hp-b")

	// Endpoint down: the last configuration stays, no request fails.
	var total, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			rep, err := tryDo(request{url: e.URL("web") + "/h2"})
			total.Add(1)
			if err != nil || rep.Status != 200 {
				failed.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	cs.Stop()
	e.waitFor(10*time.Second, "the outage logged", func() bool {
		return strings.Contains(e.Proc.Output(), "keeping the last one")
	})
	time.Sleep(300 * time.Millisecond) // a few failed polls
	cs.Set(routerConf(map[string]string{"h1": "/h1", "h2": "/h2", "h3": "/h3"}, b))
	cs.Start()
	waitServed(t, e, e.URL("web")+"/h3", "", "hp-b")
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || total.Load() == 0 {
		t.Fatalf("%d of %d requests failed while the endpoint was down", failed.Load(), total.Load())
	}
	if !strings.Contains(e.Proc.Output(), "configuration endpoint answering again") {
		t.Error("the recovery was not logged")
	}
}
