package failover

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

func named(n string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Server", n) })
}

func TestFailover(t *testing.T) {
	f := New(named("main"), named("fallback"))
	var events []bool
	unreg, _ := f.RegisterStatusUpdater(func(up bool) { events = append(events, up) })
	serve := func() (string, int) {
		w := httptest.NewRecorder()
		f.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		return w.Header().Get("X-Server"), w.Code
	}
	for _, step := range []struct {
		main, fb bool
		want     string
		code     int
	}{
		{true, true, "main", 200},
		{false, true, "fallback", 200},
		{false, false, "", 503},
		{true, false, "main", 200},
	} {
		f.SetMainStatus(step.main)
		f.SetFallbackStatus(step.fb)
		if got, code := serve(); got != step.want || code != step.code {
			t.Errorf("main=%v fb=%v: %q %d", step.main, step.fb, got, code)
		}
	}
	if len(events) != 2 || events[0] || !events[1] {
		t.Errorf("events %v", events)
	}
	unreg()
	f.SetMainStatus(false)
	if len(events) != 2 {
		t.Error("unregistered updater called")
	}
}

func TestFailoverErrors(t *testing.T) {
	main := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Server", "main")
		if r.URL.Path == "/fail" {
			w.WriteHeader(503)
		}
		w.Write(b)
	})
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Fallback", "yes")
		w.Write(append([]byte("fb:"), b...))
	})
	f := New(main, fallback)
	rg, _ := statusrange.Parse([]string{"500-503"})
	f.OnErrors(rg, 8)
	for _, tc := range []struct {
		path, body string
		code       int
		want       string
		fromMain   bool
	}{
		{"/ok", "abc", 200, "abc", true},
		{"/fail", "abc", 200, "fb:abc", false},
		{"/fail", "more than 8", 413, "", false},
	} {
		w := httptest.NewRecorder()
		f.ServeHTTP(w, httptest.NewRequest(http.MethodPut, tc.path, strings.NewReader(tc.body)))
		if w.Code != tc.code || (tc.want != "" && w.Body.String() != tc.want) {
			t.Errorf("%s %q: %d %q", tc.path, tc.body, w.Code, w.Body.String())
		}
		if tc.code == 200 && (w.Header().Get("X-Server") == "main") != tc.fromMain {
			t.Errorf("%s: headers of the held answer leaked or missing: %v", tc.path, w.Header())
		}
	}
	// Main down: straight to the fallback.
	f.SetMainStatus(false)
	w := httptest.NewRecorder()
	f.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ok", nil))
	if w.Header().Get("X-Fallback") != "yes" {
		t.Error("main down must go to the fallback")
	}
}
