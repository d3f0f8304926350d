package failover

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
