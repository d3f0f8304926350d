package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// zeroReader is an endless body.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A backend that never reads the body: the write is cut after writeTimeout
// (504), or as soon as the client's context ends (499).
func TestBackendWriteBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		_, _ = http.ReadRequest(br) // the head only
		<-release
	})
	tr := newTestTransport(t, func(c *dynamic.ServersTransport) {
		c.ForwardingTimeouts.WriteTimeout = ptypes.Duration(500 * time.Millisecond)
	})
	h, _ := New(mustURL(t, addr), tr, defaultOpts())

	run := func(ctx context.Context) (int, time.Duration) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", io.LimitReader(zeroReader{}, 1<<30))
		req.ContentLength = 1 << 30
		req.RemoteAddr = "1.2.3.4:5"
		w := newFakeRW()
		start := time.Now()
		h.ServeHTTP(w, req)
		return w.code, time.Since(start)
	}
	if code, took := run(context.Background()); code != http.StatusGatewayTimeout || took > 10*time.Second {
		t.Errorf("stalled write: %d after %v, want 504 after about 500ms", code, took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	tr.writeTimeout = time.Hour
	h, _ = New(mustURL(t, addr), tr, defaultOpts())
	if code, took := run(ctx); code != StatusClientClosedRequest || took > 5*time.Second {
		t.Errorf("client gone during a stalled write: %d after %v, want 499 within about a second", code, took)
	}
}
