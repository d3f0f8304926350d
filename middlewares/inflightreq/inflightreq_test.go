package inflightreq

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestNew(t *testing.T) {
	for _, cfg := range []*dynamic.InFlightReq{nil, {}, {Amount: -1}, {Amount: 1, SourceCriterion: &dynamic.SourceCriterion{RequestHost: true, IPStrategy: &dynamic.IPStrategy{}}}, {Amount: 1, StatusCode: 200}, {Amount: 1, StatusCode: 600}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestLimit(t *testing.T) {
	tests := []struct {
		desc    string
		cfg     dynamic.InFlightReq
		mod     func(r *http.Request)
		blocked int // status of the extra request while `amount` are held
	}{
		{"same IP", dynamic.InFlightReq{Amount: 2}, nil, 429},
		{"statusCode", dynamic.InFlightReq{Amount: 2, StatusCode: 503}, nil, 503},
		{"other IP", dynamic.InFlightReq{Amount: 2}, func(r *http.Request) { r.RemoteAddr = "10.9.9.9:5" }, 200},
		{"by header", dynamic.InFlightReq{Amount: 2, SourceCriterion: &dynamic.SourceCriterion{RequestHeaderName: "X-Key"}}, func(r *http.Request) { r.Header.Set("X-Key", "k") }, 429},
		{"by header, other value", dynamic.InFlightReq{Amount: 2, SourceCriterion: &dynamic.SourceCriterion{RequestHeaderName: "X-Key"}}, nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			l, err := New(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			hold := make(chan struct{})
			started := make(chan struct{}, 10)
			h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/hold" {
					started <- struct{}{}
					<-hold
				}
			}))
			var wg sync.WaitGroup
			for i := 0; i < 2; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req := httptest.NewRequest("GET", "/hold", nil)
					req.Header.Set("X-Key", "k")
					h.ServeHTTP(httptest.NewRecorder(), req)
				}()
				<-started
			}
			req := httptest.NewRequest("GET", "/", nil)
			if tc.mod != nil {
				tc.mod(req)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			close(hold)
			wg.Wait()
			if rec.Code != tc.blocked {
				t.Fatalf("status %d, want %d", rec.Code, tc.blocked)
			}
			if n := l.InFlight("192.0.2.1") + l.InFlight("k"); n != 0 {
				t.Errorf("%d still counted", n)
			}
		})
	}
}
