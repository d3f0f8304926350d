package accesslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		cfg  static.AccessLog
		want string
	}{
		{static.AccessLog{Format: "xml"}, `accessLog.format: unknown format "xml"`},
		{static.AccessLog{BufferingSize: -1}, "accessLog.bufferingSize"},
		{static.AccessLog{FilePath: "/proc/no/such/dir/access.log"}, "accessLog.filePath: "},
		{static.AccessLog{Filters: &static.AccessLogFilters{StatusCodes: []string{"600-500"}}}, "accessLog.filters.statusCodes[0]"},
	}
	for _, tt := range tests {
		h, err := New(&tt.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("New(%+v) error = %v, want prefix %q", tt.cfg, err, tt.want)
		}
		if h != nil {
			h.Close()
		}
	}
}

func TestNilHandler(t *testing.T) {
	var h *Handler
	next := http.NotFoundHandler()
	if got := h.Wrap("web", next); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Error("nil Handler must return next unchanged")
	}
	if err := h.Reopen(); err != nil {
		t.Error(err)
	}
	if err := h.Close(); err != nil {
		t.Error(err)
	}
}

func TestHelpersWithoutAccessLog(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if FromRequest(r) != nil {
		t.Fatal("FromRequest on a plain request")
	}
	// None of these may panic.
	SetRouter(r, "x")
	SetService(r, "x", mustURL("http://h"))
	SetOriginStatus(r, 200, 1)
	SetOriginDuration(r, 1)
	SetOriginHeaders(r, nil)
	SetClientUsername(r, "u")
	IncRetry(r)
	Skip(r)
}

func TestDetach(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, nil, &buf)
	serve(h, "web", httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) {
		if FromRequest(r) == nil {
			t.Fatal("no LogData inside the wrapper")
		}
		SetRouter(r, "main@file")
		mirror := r.WithContext(Detach(r.Context()))
		if FromRequest(mirror) != nil {
			t.Error("Detach kept the LogData")
		}
		SetRouter(mirror, "mirror@file") // no effect
		if got := FromRequest(r).Router(); got != "main@file" {
			t.Errorf("router = %q", got)
		}
	})
	if !strings.Contains(buf.String(), `"main@file"`) {
		t.Errorf("line = %q", buf.String())
	}
	if ctx := context.Background(); Detach(ctx) != ctx {
		t.Error("Detach without LogData must return ctx")
	}
}

func TestSkipAndInternals(t *testing.T) {
	tests := []struct {
		name         string
		addInternals bool
		inner        http.HandlerFunc
		logged       bool
	}{
		{"skip", false, func(w http.ResponseWriter, r *http.Request) { Skip(r) }, false},
		{"internal router", false, func(w http.ResponseWriter, r *http.Request) { SetRouter(r, "ping@internal") }, false},
		{"internal router with addInternals", true, func(w http.ResponseWriter, r *http.Request) { SetRouter(r, "ping@internal") }, true},
		{"user router", false, func(w http.ResponseWriter, r *http.Request) { SetRouter(r, "web@file") }, true},
	}
	for _, tt := range tests {
		var buf syncBuffer
		h := mustHandler(t, &static.AccessLog{AddInternals: tt.addInternals}, &buf)
		serve(h, "web", httptest.NewRequest("GET", "/ping", nil), tt.inner)
		if got := len(buf.lines()) == 1; got != tt.logged {
			t.Errorf("%s: logged = %v, want %v", tt.name, got, tt.logged)
		}
	}
}

func TestStatusRecording(t *testing.T) {
	tests := []struct {
		name   string
		inner  http.HandlerFunc
		status string
		size   string
	}{
		{"implicit 200", func(w http.ResponseWriter, r *http.Request) {}, "200", "0"},
		{"write without header", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("abc")) }, "200", "3"},
		{"explicit", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503); _, _ = io.WriteString(w, "down") }, "503", "4"},
		{"interim 103 then 200", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(202)
		}, "202", "0"},
		{"second WriteHeader ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			w.WriteHeader(500)
		}, "404", "0"},
		{"proxy saw client leave", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(StatusClientClosedRequest) }, "499", "0"},
		{"io.Copy via ReadFrom", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, strings.NewReader(strings.Repeat("z", 1000)))
		}, "200", "1000"},
		{"flush sends 200", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("ResponseController.Flush: %v", err)
			}
		}, "200", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			h := mustHandler(t, &static.AccessLog{Format: "json", Fields: &static.AccessLogFields{DefaultMode: "drop", Names: map[string]string{"DownstreamStatus": "keep", "DownstreamContentSize": "keep"}}}, &buf)
			serve(h, "web", httptest.NewRequest("GET", "/", nil), tt.inner)
			want := fmt.Sprintf(`{"DownstreamContentSize":%s,"DownstreamStatus":%s,"level"`, tt.size, tt.status)
			if got := buf.String(); !strings.HasPrefix(got, want) {
				t.Errorf("line = %s, want prefix %s", got, want)
			}
		})
	}
}

func TestPanicLogged500(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, nil, &buf)
	func() {
		defer func() {
			if recover() != http.ErrAbortHandler {
				t.Error("panic not propagated")
			}
		}()
		serve(h, "web", httptest.NewRequest("GET", "/boom", nil), func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		})
	}()
	if !strings.Contains(buf.String(), `"GET /boom HTTP/1.1" - -`) {
		t.Fatalf("line = %q", buf.String())
	}
	var jbuf syncBuffer
	hj := mustHandler(t, &static.AccessLog{Format: "json"}, &jbuf)
	func() {
		defer func() { _ = recover() }()
		serve(hj, "web", httptest.NewRequest("GET", "/boom", nil), func(http.ResponseWriter, *http.Request) { panic("x") })
	}()
	if m := decodeJSONLine(t, jbuf.lines()[0]); m[DownstreamStatus] != float64(500) {
		t.Errorf("DownstreamStatus = %v", m[DownstreamStatus])
	}
}

// TestRealServer checks the recorder against net/http itself: client
// disconnect (499), upgrade via Hijack (101), ResponseController deadlines
// through Unwrap, and the chunked request body count.
func TestRealServer(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json"}, &buf)
	gone := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the client hangs up; nothing written
		close(gone)
	})
	mux.HandleFunc("/upgrade", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhi")
		_ = brw.Flush()
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})
	srv := httptest.NewServer(h.Wrap("web", mux))
	defer srv.Close()

	// 1. client disconnects.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, _ = http.DefaultClient.Do(req)
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("handler never saw the disconnect")
	}

	// 2. upgrade.
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade response %v %v", resp, err)
	}
	c.Close()

	// 3. chunked upload: counted as read.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte(strings.Repeat("u", 3000))); pw.Close() }()
	ureq, _ := http.NewRequest("POST", srv.URL+"/upload", pr)
	uresp, err := http.DefaultClient.Do(ureq)
	if err != nil {
		t.Fatal(err)
	}
	uresp.Body.Close()

	// Lines are written when each handler returns; wait for all three.
	deadline := time.Now().Add(5 * time.Second)
	for len(buf.lines()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	byPath := map[string]map[string]any{}
	for _, l := range buf.lines() {
		m := decodeJSONLine(t, l)
		byPath[m[RequestPath].(string)] = m
	}
	if got := byPath["/slow"][DownstreamStatus]; got != float64(499) {
		t.Errorf("/slow status = %v, want 499", got)
	}
	if got := byPath["/upgrade"][DownstreamStatus]; got != float64(101) {
		t.Errorf("/upgrade status = %v, want 101", got)
	}
	if got := byPath["/upload"][RequestContentSize]; got != float64(3000) {
		t.Errorf("/upload RequestContentSize = %v, want 3000", got)
	}
}

func TestBufferedAllLinesAfterClose(t *testing.T) {
	var buf syncBuffer
	h, err := newHandler(&static.AccessLog{BufferingSize: 1000}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(h, "web", httptest.NewRequest("GET", fmt.Sprintf("/%d", i), nil), proxied(200, "ok"))
		}()
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(buf.lines()); got != n {
		t.Errorf("got %d lines, want %d (dropped %d)", got, n, h.Dropped())
	}
	// After Close, lines are dropped, not written or blocked on.
	serve(h, "web", httptest.NewRequest("GET", "/late", nil), proxied(200, "ok"))
	if strings.Contains(buf.String(), "/late") || h.Dropped() != 1 {
		t.Errorf("late line: dropped=%d", h.Dropped())
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	syncBuffer
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.syncBuffer.Write(p)
}

func TestBufferedDropsWhenFull(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	h, err := newHandler(&static.AccessLog{BufferingSize: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.out = bw

	serve(h, "web", httptest.NewRequest("GET", "/first", nil), proxied(200, ""))
	<-bw.entered // the writer is now stuck in Write
	start := time.Now()
	for i := range 10 {
		serve(h, "web", httptest.NewRequest("GET", fmt.Sprintf("/%d", i), nil), proxied(200, ""))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("requests blocked on a stuck writer for %v", d)
	}
	if got := h.Dropped(); got != 8 {
		t.Errorf("dropped = %d, want 8 (buffer of 2)", got)
	}
	close(bw.release)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(bw.lines()); got != 3 {
		t.Errorf("written %d lines, want 3", got)
	}
}

func TestReopenAfterMove(t *testing.T) {
	for _, buffering := range []int64{0, 10} {
		t.Run(fmt.Sprintf("buffering=%d", buffering), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "logs", "access.log")
			h, err := New(&static.AccessLog{FilePath: path, BufferingSize: buffering})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			// Learn when a line reached the file: the writer goroutine may
			// still hold it when the test moves on.
			written := make(chan struct{}, 16)
			h.out = notifyWriter{h.out, written}
			serve(h, "web", httptest.NewRequest("GET", "/before", nil), proxied(200, ""))
			select {
			case <-written:
			case <-time.After(5 * time.Second):
				t.Fatal("first line never written")
			}
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			if err := h.Reopen(); err != nil {
				t.Fatal(err)
			}
			serve(h, "web", httptest.NewRequest("GET", "/after", nil), proxied(200, ""))
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			old, _ := os.ReadFile(path + ".1")
			cur, _ := os.ReadFile(path)
			if !strings.Contains(string(old), "/before") || strings.Contains(string(old), "/after") {
				t.Errorf("moved file = %q", old)
			}
			if !strings.Contains(string(cur), "/after") || strings.Contains(string(cur), "/before") {
				t.Errorf("new file = %q", cur)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("new file mode: %v %v", fi.Mode(), err)
			}
		})
	}
}

type notifyWriter struct {
	w  io.Writer
	ch chan<- struct{}
}

func (n notifyWriter) Write(p []byte) (int, error) {
	defer func() { n.ch <- struct{}{} }()
	return n.w.Write(p)
}

func TestConcurrentRequests(t *testing.T) {
	for _, buffering := range []int64{0, 64} {
		t.Run(fmt.Sprintf("buffering=%d", buffering), func(t *testing.T) {
			var buf syncBuffer
			h, err := newHandler(&static.AccessLog{Format: "json", BufferingSize: buffering,
				Fields: &static.AccessLogFields{Headers: &static.FieldHeaders{DefaultMode: "keep"}}}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h.Wrap("web", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				SetRouter(r, "r@file")
				var wg sync.WaitGroup
				for range 3 { // retries counted from helper goroutines
					wg.Add(1)
					go func() { defer wg.Done(); IncRetry(r) }()
				}
				wg.Wait()
				SetService(r, "s@file", mustURL("http://127.0.0.1:1"))
				w.Header().Set("X-Resp", r.URL.Path)
				_, _ = io.WriteString(w, r.URL.Path)
			})))
			defer srv.Close()

			const workers, each = 8, 25
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						resp, err := srv.Client().Get(fmt.Sprintf("%s/w%d/%d", srv.URL, w, i))
						if err != nil {
							t.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			srv.Close()
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			lines := buf.lines()
			if got := len(lines) + int(h.Dropped()); got != workers*each {
				t.Fatalf("lines %d + dropped %d != %d", len(lines), h.Dropped(), workers*each)
			}
			for _, l := range lines {
				m := decodeJSONLine(t, l)
				p := m[RequestPath].(string)
				if m["downstream_X-Resp"] != p || m[DownstreamContentSize] != float64(len(p)) || m[RetryAttempts] != float64(3) {
					t.Fatalf("mixed-up line: %s", l)
				}
			}
		})
	}
}

// TestWrapperAllocs guards the pooling: the wrapper adds a fixed, small
// number of allocations per request (the request copy and its context).
func TestWrapperAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	for _, format := range []string{"common", "json"} {
		h, err := newHandler(&static.AccessLog{Format: format}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		svc := mustURL("http://10.0.0.1:8080")
		wrapped := h.Wrap("web", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			SetRouter(r, "r@file")
			SetService(r, "s@file", svc)
			SetOriginStatus(r, 200, 2)
			w.WriteHeader(200)
		}))
		req := httptest.NewRequest("GET", "/a/b", nil)
		rw := &discardRW{h: http.Header{}}
		wrapped.ServeHTTP(rw, req)
		allocs := testing.AllocsPerRun(200, func() { wrapped.ServeHTTP(rw, req) })
		if allocs > 2 {
			t.Errorf("%s: %.1f allocs per request, want <= 2", format, allocs)
		}
	}
}

var okBody = []byte("ok")

type discardRW struct{ h http.Header }

func (d *discardRW) Header() http.Header         { return d.h }
func (d *discardRW) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardRW) WriteHeader(int)             {}

func benchWrap(b *testing.B, cfg *static.AccessLog, wrap bool) {
	h, err := newHandler(cfg, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	svc := mustURL("http://10.0.0.1:8080")
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetRouter(r, "r@file")
		SetService(r, "s@file", svc)
		SetOriginStatus(r, 200, 2)
		_, _ = w.Write(okBody)
	})
	if wrap {
		next = h.Wrap("web", next)
	}
	req := httptest.NewRequest("GET", "/api/v1/items?id=1", nil)
	req.Header.Set("User-Agent", "bench")
	rw := &discardRW{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		next.ServeHTTP(rw, req)
	}
}

func BenchmarkWrap(b *testing.B) {
	b.Run("baseline-no-wrapper", func(b *testing.B) { benchWrap(b, &static.AccessLog{}, false) })
	b.Run("common", func(b *testing.B) { benchWrap(b, &static.AccessLog{}, true) })
	b.Run("json", func(b *testing.B) { benchWrap(b, &static.AccessLog{Format: "json"}, true) })
	b.Run("json-headers", func(b *testing.B) {
		benchWrap(b, &static.AccessLog{Format: "json", Fields: &static.AccessLogFields{Headers: &static.FieldHeaders{DefaultMode: "keep"}}}, true)
	})
	b.Run("common-buffered", func(b *testing.B) { benchWrap(b, &static.AccessLog{BufferingSize: 1024}, true) })
	b.Run("filtered-out", func(b *testing.B) {
		benchWrap(b, &static.AccessLog{Filters: &static.AccessLogFilters{StatusCodes: []string{"500-599"}}}, true)
	})
}

func TestHTTP2(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json"}, &buf)
	srv := httptest.NewUnstartedServer(h.Wrap("websecure", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if _, _, err := rc.Hijack(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Hijack on HTTP/2 = %v, want ErrNotSupported", err)
		}
		_, _ = io.WriteString(w, "streamed")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(buf.lines()) < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	m := decodeJSONLine(t, buf.lines()[0])
	if m[RequestProtocol] != "HTTP/2.0" || m[RequestScheme] != "https" || m[TLSVersion] != "1.3" ||
		m[DownstreamStatus] != float64(200) || m[DownstreamContentSize] != float64(8) {
		t.Errorf("line = %s", buf.String())
	}
}

// shortWriter accepts at most room bytes, then fails like a full disk.
type shortWriter struct {
	buf  []byte
	room int
}

func (s *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), s.room)
	s.buf = append(s.buf, p[:n]...)
	s.room -= n
	if n < len(p) {
		return n, errors.New("no space left on device")
	}
	return n, nil
}

// A line cut by a full disk is not glued to the next one written when
// space is back.
func TestLineWriterAfterShortWrite(t *testing.T) {
	sw := &shortWriter{room: 5}
	lw := &lineWriter{w: sw}
	if _, err := lw.Write([]byte("first line\n")); err == nil {
		t.Fatal("no error from a full disk")
	}
	if _, err := lw.Write([]byte("lost\n")); err == nil {
		t.Fatal("no error from a full disk")
	}
	sw.room = 100
	if _, err := lw.Write([]byte("second line\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(sw.buf); got != "first\nsecond line\n" {
		t.Fatalf("file holds %q", got)
	}
}
