package proxy

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	ptypes "github.com/traefik/paerser/types"
)

// backend is an httptest server counting the TCP connections it accepts.
type backend struct {
	*httptest.Server
	conns atomic.Int64
}

func newBackend(t testing.TB, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewUnstartedServer(h)
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type transportOpt func(*dynamic.ServersTransport)

func newTestTransport(t testing.TB, opts ...transportOpt) *Transport {
	t.Helper()
	cfg := &dynamic.ServersTransport{}
	cfg.SetDefaults()
	for _, o := range opts {
		o(cfg)
	}
	tr, err := NewTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func withResponseHeaderTimeout(d time.Duration) transportOpt {
	return func(c *dynamic.ServersTransport) { c.ForwardingTimeouts.ResponseHeaderTimeout = ptypes.Duration(d) }
}

// statusRecorder is the smallest access-log-like wrapper: it records the status.
type statusRecorder struct {
	http.ResponseWriter
	mu     sync.Mutex
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.mu.Lock()
	if s.status == 0 || (code >= 200 && s.status < 200) {
		s.status = code
	}
	s.mu.Unlock()
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// front runs the proxy for target behind a real net/http server. The returned
// channel receives the status each request ended with, as an access log would.
func front(t testing.TB, target string, tr *Transport, opts Options) (*httptest.Server, chan int) {
	t.Helper()
	h, err := New(mustURL(t, target), tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	statuses := make(chan int, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			rec.mu.Lock()
			st := rec.status
			rec.mu.Unlock()
			if st == 0 {
				st = http.StatusOK
			}
			select {
			case statuses <- st:
			default:
			}
		}()
		h.ServeHTTP(rec, r)
	}))
	t.Cleanup(srv.Close)
	return srv, statuses
}

func defaultOpts() Options {
	return Options{PassHostHeader: true, FlushInterval: 100 * time.Millisecond}
}

// client returns an HTTP/1.1 client closed at the end of the test.
func client(t testing.TB) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// rawBackend serves each accepted connection with fn.
func rawBackend(t testing.TB, fn func(c net.Conn, br *bufio.Reader)) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = &atomic.Int64{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1) // the accept loop: its Adds never race Cleanup's Wait at zero
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fn(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String(), conns
}

// readRequest reads one request head and its body (Content-Length or chunked) from br.
func readRawRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = readAll(req.Body)
	return req, err
}

func readAll(r interface{ Read([]byte) (int, error) }) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			if err.Error() == "EOF" {
				return sb.String(), nil
			}
			return sb.String(), err
		}
	}
}

type dynamicST = dynamic.ServersTransport

func durationT(d time.Duration) ptypes.Duration { return ptypes.Duration(d) }

// fakeRW is a minimal ResponseWriter for calling handlers directly; reset makes
// it reusable so benchmarks measure the handler, not the recorder.
type fakeRW struct {
	h     http.Header
	code  int
	n     int
	body  []byte
	keep  bool
	flush int
}

func newFakeRW() *fakeRW { return &fakeRW{h: http.Header{}, keep: true} }

func (w *fakeRW) Header() http.Header { return w.h }

func (w *fakeRW) WriteHeader(code int) {
	if w.code == 0 || w.code < 200 {
		w.code = code
	}
}

func (w *fakeRW) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(p)
	if w.keep {
		w.body = append(w.body, p...)
	}
	return len(p), nil
}

func (w *fakeRW) Flush() { w.flush++ }

func (w *fakeRW) reset() {
	clear(w.h)
	w.code, w.n, w.flush = 0, 0, 0
	w.body = w.body[:0]
}
