package accesslog

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// syncBuffer is a bytes.Buffer safe for the writer goroutine and tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) lines() []string {
	out := strings.TrimSuffix(s.String(), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func mustHandler(t testing.TB, cfg *static.AccessLog, w *syncBuffer) *Handler {
	t.Helper()
	h, err := newHandler(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// serve runs one request through the wrapper with an httptest recorder.
func serve(h *Handler, ep string, req *http.Request, inner http.HandlerFunc) *httptest.ResponseRecorder {
	rr := httptest.NewRecorder()
	h.Wrap(ep, inner).ServeHTTP(rr, req)
	return rr
}
