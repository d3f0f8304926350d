package ping

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

func TestPing(t *testing.T) {
	tests := []struct {
		name        string
		status      int // New's argument
		terminating bool
		method      string
		wantCode    int
		wantBody    string
	}{
		{"get", 0, false, http.MethodGet, 200, "OK"},
		{"head", 0, false, http.MethodHead, 200, ""},
		{"post", 0, false, http.MethodPost, 405, "Method Not Allowed\n"},
		{"put while terminating", 0, true, http.MethodPut, 405, "Method Not Allowed\n"},
		{"terminating default", 0, true, http.MethodGet, 503, "Service Unavailable"},
		{"terminating head", 0, true, http.MethodHead, 503, ""},
		{"terminating custom", 204, true, http.MethodGet, 204, "No Content"},
		{"terminating 500", 500, true, http.MethodGet, 500, "Internal Server Error"},
		{"custom unused until terminating", 418, false, http.MethodGet, 200, "OK"},
		{"invalid status falls back", 42, true, http.MethodGet, 503, "Service Unavailable"},
		{"too large status falls back", 600, true, http.MethodGet, 503, "Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(tt.status)
			if tt.terminating {
				h.SetTerminating()
			}
			if h.Terminating() != tt.terminating {
				t.Fatalf("Terminating() = %v", h.Terminating())
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/ping", nil))
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body.String(), tt.wantBody)
			}
			if tt.wantCode == 405 {
				if allow := rec.Header().Get("Allow"); allow != "GET, HEAD" {
					t.Errorf("Allow = %q", allow)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			// HEAD announces the length GET would send.
			want := strconv.Itoa(len(http.StatusText(tt.wantCode)))
			if cl := rec.Header().Get("Content-Length"); cl != want {
				t.Errorf("Content-Length = %q, want %q", cl, want)
			}
		})
	}
}

// TestPingOverHTTP checks the answers through a real loopback server.
func TestPingOverHTTP(t *testing.T) {
	h := New(0)
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func() (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		return resp.StatusCode, string(buf[:n])
	}
	if code, body := get(); code != 200 || body != "OK" {
		t.Fatalf("before shutdown: %d %q", code, body)
	}
	h.SetTerminating()
	h.SetTerminating()
	if code, body := get(); code != 503 || body != "Service Unavailable" {
		t.Fatalf("after shutdown: %d %q", code, body)
	}
}

// TestPingConcurrent flips the state while serving; run with -race.
func TestPingConcurrent(t *testing.T) {
	h := New(0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ping", nil))
				if rec.Code != 200 && rec.Code != 503 {
					t.Errorf("status %d", rec.Code)
				}
			}
			if i == 0 {
				h.SetTerminating()
			}
		}()
	}
	wg.Wait()
	if !h.Terminating() {
		t.Fatal("not terminating")
	}
}
