package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// proxyTo starts switchyard with one catch-all router on "web" to the
// backend at url, using static (default staticYAML), and waits until ready.
func proxyTo(t *testing.T, url, static string) *Env {
	t.Helper()
	e := newEnv(t)
	e.SetURL("target", url)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% url "target" %>"
`)
	if static == "" {
		static = staticYAML
	}
	e.WriteStatic("yml", static)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))
	return e
}

func TestWebSocket(t *testing.T) {
	t.Parallel()
	var upgrades atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) {
		upgrades.Add(1)
		for { // echo whole messages
			var msg string
			if err := websocket.Message.Receive(c, &msg); err != nil {
				return
			}
			if err := websocket.Message.Send(c, msg); err != nil {
				return
			}
		}
	}))
	e := proxyTo(t, startHandler(t, mux), "")

	cfg, err := websocket.NewConfig("ws://"+e.Addr("web")+"/ws", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := cfg.DialContext(context.Background())
	if err != nil {
		t.Fatalf("websocket dial through the proxy: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for i := range 20 {
		msg := fmt.Sprintf("message %d", i)
		if err := websocket.Message.Send(conn, msg); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		var got string
		if err := websocket.Message.Receive(conn, &got); err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if got != msg {
			t.Fatalf("echo %d = %q, want %q", i, got, msg)
		}
	}
	big := strings.Repeat("0123456789abcdef", 64*1024) // 1 MiB frame
	if err := websocket.Message.Send(conn, big); err != nil {
		t.Fatalf("send 1 MiB: %v", err)
	}
	var got string
	conn.MaxPayloadBytes = 2 << 20
	if err := websocket.Message.Receive(conn, &got); err != nil || got != big {
		t.Fatalf("1 MiB echo: err %v, equal %v (len %d)", err, got == big, len(got))
	}
	if upgrades.Load() != 1 {
		t.Errorf("backend saw %d upgrades, want 1", upgrades.Load())
	}
	conn.Close()
	e.Proc.Stop()
}

func TestSSEAndStreamingFlush(t *testing.T) {
	t.Parallel()
	const (
		events = 5
		gap    = 250 * time.Millisecond
	)
	stream := func(contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.Header().Set("Cache-Control", "no-cache")
			fl := w.(http.Flusher)
			for i := range events {
				fmt.Fprintf(w, "data: event %d\n\n", i)
				fl.Flush()
				select {
				case <-time.After(gap):
				case <-r.Context().Done():
					return
				}
			}
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/sse", stream("text/event-stream"))
	mux.Handle("/chunked", stream("application/octet-stream"))
	e := proxyTo(t, startHandler(t, mux), "")

	for _, tc := range []struct {
		path  string
		slack time.Duration // how late an event may arrive after it was sent
	}{
		{"/sse", 200 * time.Millisecond},     // SSE is flushed at once
		{"/chunked", 350 * time.Millisecond}, // others within the default 100ms flush interval
	} {
		start := time.Now()
		resp, err := client.Get(e.URL("web") + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		br := bufio.NewReader(resp.Body)
		for i := 0; i < events; {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("GET %s: reading event %d: %v", tc.path, i, err)
			}
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			if want := fmt.Sprintf("data: event %d\n", i); line != want {
				t.Errorf("GET %s: line %q, want %q", tc.path, line, want)
			}
			late := time.Since(start) - time.Duration(i)*gap
			if late > tc.slack {
				t.Errorf("GET %s: event %d arrived %v after it was sent (limit %v): the proxy buffers the stream", tc.path, i, late.Round(time.Millisecond), tc.slack)
			}
			i++
		}
		resp.Body.Close()
	}
	e.Proc.Stop()
}

// patternReader yields n deterministic pseudo-random bytes.
type patternReader struct {
	rng *rand.ChaCha8
	n   int64
}

func newPattern(seed byte, n int64) *patternReader {
	var s [32]byte
	s[0] = seed
	return &patternReader{rng: rand.NewChaCha8(s), n: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	n, _ := p.rng.Read(b)
	p.n -= int64(n)
	return n, nil
}

func patternSum(seed byte, n int64) string {
	h := sha256.New()
	_, _ = io.Copy(h, newPattern(seed, n))
	return hex.EncodeToString(h.Sum(nil))
}

func TestLargeUploadAndDownload(t *testing.T) {
	t.Parallel()
	const size = 64 << 20
	mux := http.NewServeMux()
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
	})
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		}
		_, _ = io.Copy(w, newPattern(7, n))
	})
	e := proxyTo(t, startHandler(t, mux), "")
	want := patternSum(7, size)
	wantUp := fmt.Sprintf("%d %s", size, patternSum(3, size))

	for _, chunked := range []bool{false, true} {
		// Upload, with a known length and streamed chunked.
		var body io.Reader = newPattern(3, size)
		req, _ := http.NewRequest(http.MethodPost, e.URL("web")+"/upload", body)
		if chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(newPattern(3, size))
		} else {
			req.ContentLength = size
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("upload (chunked=%v): %v", chunked, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != wantUp {
			t.Errorf("upload 64 MiB (chunked=%v): %d %q, want 200 %q", chunked, resp.StatusCode, got, wantUp)
		}
		t.Logf("upload 64 MiB (chunked=%v) took %v", chunked, time.Since(start))

		// Download.
		u := e.URL("web") + "/download?size=" + strconv.Itoa(size)
		if chunked {
			u += "&chunked=1"
		}
		start = time.Now()
		resp, err = client.Get(u)
		if err != nil {
			t.Fatalf("download (chunked=%v): %v", chunked, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
			t.Errorf("download 64 MiB (chunked=%v): %d bytes, err %v, hash ok %v", chunked, n, err, hex.EncodeToString(h.Sum(nil)) == want)
		}
		if !chunked && resp.ContentLength != size {
			t.Errorf("download: Content-Length %d, want %d", resp.ContentLength, size)
		}
		t.Logf("download 64 MiB (chunked=%v) took %v", chunked, time.Since(start))
	}
	e.Proc.Stop()
}

func TestTrailers(t *testing.T) {
	t.Parallel()
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Checksum, X-Echo-Req-Trailer")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("body:" + string(body)))
		w.(http.Flusher).Flush()
		sum := sha256.Sum256(body)
		w.Header().Set("X-Checksum", hex.EncodeToString(sum[:8]))
		w.Header().Set("X-Echo-Req-Trailer", r.Trailer.Get("X-Req-Trailer"))
	})
	e := proxyTo(t, startHandler(t, backend), "")

	req, _ := http.NewRequest(http.MethodPost, e.URL("web")+"/", nil)
	req.Body = io.NopCloser(strings.NewReader("hello trailers"))
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Req-Trailer": {"from-client"}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body) // trailers are read with the body
	resp.Body.Close()
	if string(body) != "body:hello trailers" {
		t.Errorf("body %q", body)
	}
	sum := sha256.Sum256([]byte("hello trailers"))
	if got := resp.Trailer.Get("X-Checksum"); got != hex.EncodeToString(sum[:8]) {
		t.Errorf("response trailer X-Checksum = %q, want %q (trailer: %v)", got, hex.EncodeToString(sum[:8]), resp.Trailer)
	}
	if got := resp.Trailer.Get("X-Echo-Req-Trailer"); got != "from-client" {
		t.Errorf("backend saw request trailer X-Req-Trailer = %q, want from-client", got)
	}
	e.Proc.Stop()
}

func TestBackendKeepAlive(t *testing.T) {
	t.Parallel()
	var newConns atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				newConns.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	e := proxyTo(t, "http://"+ln.Addr().String(), "")

	// Sequential requests, each on a new client connection: the proxy
	// must still reuse its backend connection.
	for i := range 100 {
		tr := &http.Transport{Proxy: nil, DisableKeepAlives: i%2 == 0}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := hc.Get(e.URL("web") + "/")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
	}
	if n := newConns.Load(); n > 3 {
		t.Errorf("100 sequential proxied requests opened %d backend connections, want keep-alive reuse (<= 3)", n)
	}
	e.Proc.Stop()
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	canceled := make(chan time.Time, 1)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			_, _ = io.WriteString(w, "fast")
			return
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			canceled <- time.Now()
		case <-time.After(15 * time.Second):
		}
	})
	e := proxyTo(t, startHandler(t, backend), "")

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL("web")+"/slow", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("backend never got the request")
	}
	at := time.Now()
	cancel()
	<-errc
	select {
	case c := <-canceled:
		t.Logf("upstream request canceled %v after the client went away", c.Sub(at).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Errorf("client disconnected but the backend request was not canceled within 3s")
	}
	if r := do(t, request{url: e.URL("web") + "/fast"}); r.Status != 200 || r.Body != "fast" {
		t.Errorf("after a client disconnect: GET /fast = %d %q", r.Status, r.Body)
	}
	e.Proc.Stop()
}

func TestResponseHeaderTimeout504(t *testing.T) {
	t.Parallel()
	static := `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
serversTransport:
  forwardingTimeouts:
    responseHeaderTimeout: 500ms
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`
	e := proxyTo(t, startWhoami(t, "timeout"), static)
	start := time.Now()
	r := do(t, request{url: e.URL("web") + "/?wait=5s"})
	took := time.Since(start)
	if r.Status != http.StatusGatewayTimeout {
		t.Errorf("backend slower than responseHeaderTimeout: status %d, want 504 (body %q)", r.Status, r.Body)
	}
	if took > 3*time.Second {
		t.Errorf("504 came after %v, want about 500ms", took)
	}
	if r := do(t, request{url: e.URL("web") + "/?wait=50ms"}); r.Status != 200 || r.backend() != "timeout" {
		t.Errorf("fast enough request: %d from %q, want 200", r.Status, r.backend())
	}
	e.Proc.Stop()
}

func TestCurlHTTP1AndH2C(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	e := proxyTo(t, startWhoami(t, "curl-backend"), "")
	for _, tc := range []struct {
		flag, version string
	}{
		{"--http1.1", "1.1"},
		{"--http2-prior-knowledge", "2"},
	} {
		cmd := exec.Command(curl, "-sS", "--max-time", "10", tc.flag, "-H", "Host: curl.example.com",
			"-w", "\n%{http_code} %{http_version}", e.URL("web")+"/curl?x=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("curl %s: %v\n%s", tc.flag, err, out)
			continue
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		body, status := s[:i+1], s[i+1:]
		if status != "200 "+tc.version {
			t.Errorf("curl %s: status/version %q, want %q", tc.flag, status, "200 "+tc.version)
		}
		if backendName(body) != "curl-backend" || !strings.Contains(body, "Host: curl.example.com") || !strings.Contains(body, "GET /curl?x=1 ") {
			t.Errorf("curl %s: body %q, want the whoami echo for Host curl.example.com", tc.flag, body)
		}
	}
	e.Proc.Stop()
}

// TestGoH2C talks unencrypted HTTP/2 (prior knowledge) with Go's client,
// many streams on one connection.
func TestGoH2C(t *testing.T) {
	t.Parallel()
	e := proxyTo(t, startWhoami(t, "h2c-backend"), "")
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Proxy: nil, Protocols: &protos}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(fmt.Sprintf("%s/h2c/%d", e.URL("web"), i))
			if err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 || backendName(string(body)) != "h2c-backend" {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("stream %d: %s %d from %q", i, resp.Proto, resp.StatusCode, backendName(string(body))))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Errorf("h2c requests failed: %v", errs)
	}
	e.Proc.Stop()
}
