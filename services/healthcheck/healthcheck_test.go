package healthcheck

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	ptypes "github.com/traefik/paerser/types"
)

func rts(scheme string) http.RoundTripper {
	if scheme == "h2c" {
		return h2cTransport()
	}
	return http.DefaultTransport
}

type recorder struct {
	mu     sync.Mutex
	events []bool
}

func (r *recorder) set(_ string, up bool) {
	r.mu.Lock()
	r.events = append(r.events, up)
	r.mu.Unlock()
}

func (r *recorder) last() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return true, 0
	}
	return r.events[len(r.events)-1], len(r.events)
}

func waitFor(t *testing.T, rec *recorder, up bool, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if u, c := rec.last(); u == up && c >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("status never became up=%v (events %v)", up, rec.events)
}

func cfg(t *testing.T, c dynamic.ServerHealthCheck) *Config {
	t.Helper()
	if c.Interval == 0 {
		c.Interval = ptypes.Duration(20 * time.Millisecond)
	}
	out, err := NewConfig(&c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTransitions(t *testing.T) {
	var healthy atomic.Bool
	var sawHost, sawHeader, sawMethod atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawHost.Store(r.Host)
		sawHeader.Store(r.Header.Get("X-Probe"))
		sawMethod.Store(r.Method + " " + r.URL.RequestURI())
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	rec := &recorder{}
	c := New("svc", cfg(t, dynamic.ServerHealthCheck{Path: "/health?x=1", Method: "HEAD", Hostname: "probe.local", Headers: map[string]string{"X-Probe": "yes"}}),
		[]Target{{Name: "a", URL: u}}, rts, rec.set)
	c.Start()
	defer c.Stop()
	waitFor(t, rec, false, 1)
	healthy.Store(true)
	waitFor(t, rec, true, 2)
	if sawHost.Load() != "probe.local" || sawHeader.Load() != "yes" || sawMethod.Load() != "HEAD /health?x=1" {
		t.Errorf("probe: host %v header %v request %v", sawHost.Load(), sawHeader.Load(), sawMethod.Load())
	}
}

func TestStatusPortRedirects(t *testing.T) {
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/gone", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer redirect.Close()
	ru, _ := url.Parse(redirect.URL)
	other := &url.URL{Scheme: "http", Host: "127.0.0.1:1"} // the port option sends probes elsewhere
	port, _ := strconv.Atoi(ru.Port())
	no := false
	for name, tc := range map[string]struct {
		c    dynamic.ServerHealthCheck
		want bool
	}{
		"follow redirect to 404":  {dynamic.ServerHealthCheck{Path: "/moved", Port: port}, false},
		"no follow: 302 is up":    {dynamic.ServerHealthCheck{Path: "/moved", Port: port, FollowRedirects: &no}, true},
		"expected status 404":     {dynamic.ServerHealthCheck{Path: "/x", Port: port, Status: 404}, true},
		"expected status 200 bad": {dynamic.ServerHealthCheck{Path: "/x", Port: port, Status: 200}, false},
	} {
		t.Run(name, func(t *testing.T) {
			c := New("svc", cfg(t, tc.c), nil, rts, nil)
			err := c.probe(t.Context(), c.client(Target{URL: other}), Target{URL: other})
			if (err == nil) != tc.want {
				t.Errorf("up=%v (err %v), want %v", err == nil, err, tc.want)
			}
		})
	}
}

func TestGRPC(t *testing.T) {
	var serving atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/grpc.health.v1.Health/Check" || r.ProtoMajor != 2 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		st := byte(2) // NOT_SERVING
		if serving.Load() {
			st = 1
		}
		_, _ = w.Write([]byte{0, 0, 0, 0, 2, 0x08, st})
		w.Header().Set("Grpc-Status", "0")
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = h2cProtocols()
	srv.Start()
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	rt := func(scheme string) http.RoundTripper {
		if scheme != "h2c" {
			t.Errorf("grpc probe over %q", scheme)
		}
		return h2cTransport()
	}
	rec := &recorder{}
	c := New("svc", cfg(t, dynamic.ServerHealthCheck{Mode: "grpc"}), []Target{{Name: "g", URL: u}}, rt, rec.set)
	c.Start()
	defer c.Stop()
	waitFor(t, rec, false, 1)
	serving.Store(true)
	waitFor(t, rec, true, 2)
}

func TestNewConfig(t *testing.T) {
	neg := ptypes.Duration(-1)
	for name, c := range map[string]dynamic.ServerHealthCheck{
		"mode":              {Mode: "tcp"},
		"scheme":            {Scheme: "ftp"},
		"port":              {Port: 70000},
		"status":            {Status: 42},
		"unhealthyInterval": {UnhealthyInterval: &neg},
		"interval":          {Interval: -1},
	} {
		if _, err := NewConfig(&c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := NewConfig(&dynamic.ServerHealthCheck{Path: "health"})
	if err != nil || c.Interval != 30*time.Second || c.Timeout != 5*time.Second || c.UnhealthyInterval != c.Interval || c.Method != "GET" || c.Path != "/health" || !c.FollowRedirects {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

// h2cProtocols is HTTP/1 plus unencrypted HTTP/2 with prior knowledge.
func h2cProtocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// h2cTransport speaks only unencrypted HTTP/2, like the proxy's h2c transport.
func h2cTransport() *http.Transport {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Transport{Protocols: &p}
}
