package integration

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestRapidResetBackendConnections: HTTP/2 rapid reset (CVE-2023-44487)
// through the binary must not cost a backend connection per reset stream
// (issue 13 measured 12,000-14,000 sockets in TIME_WAIT): no dial for a
// request already canceled, connections of canceled requests salvaged and
// reused. A normal client is still served.
func TestRapidResetBackendConnections(t *testing.T) {
	t.Parallel()
	var accepted, closed, served atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			_, _ = io.WriteString(w, "ok")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
			if s == http.StateClosed {
				closed.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	e := proxyTo(t, "http://"+ln.Addr().String(), "")

	const resets = 5000
	sent := 0
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	deadline := time.Now().Add(60 * time.Second)
	for sent < resets && time.Now().Before(deadline) {
		c, err := net.Dial("tcp", e.Addr("web"))
		if err != nil {
			t.Fatal(err)
		}
		// Drain whatever the server sends (SETTINGS, GOAWAY, headers).
		go func() { _, _ = io.Copy(io.Discard, c) }()
		if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
			c.Close()
			continue
		}
		fr := http2.NewFramer(c, nil)
		_ = fr.WriteSettings()
		_ = fr.WriteSettingsAck()
		for id := uint32(1); sent < resets && id < 1<<20; id += 2 {
			hbuf.Reset()
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/reset"}, {":authority", e.Addr("web")}} {
				_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
				break
			}
			if err := fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
				break
			}
			sent++
		}
		c.Close()
		enc = hpack.NewEncoder(&hbuf) // a new connection, a new HPACK context
	}
	if sent < resets {
		t.Fatalf("sent %d resets in 60 s", sent)
	}
	// A normal client is still served.
	rep := do(t, request{url: e.URL("web") + "/after"})
	if rep.Status != 200 || rep.Body != "ok" {
		t.Errorf("normal client after the attack: %d %q", rep.Status, rep.Body)
	}
	time.Sleep(time.Second)
	n := accepted.Load()
	t.Logf("%d reset streams cost %d backend connections (%d closed since, %d requests reached the backend)", sent, n, closed.Load(), served.Load())
	if n >= 100 {
		t.Errorf("%d reset streams opened %d backend connections, want < 100", sent, n)
	}
}
