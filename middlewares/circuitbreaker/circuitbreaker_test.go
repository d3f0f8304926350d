package circuitbreaker

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestNewErrors(t *testing.T) {
	for _, cfg := range []*dynamic.CircuitBreaker{
		nil, {}, {Expression: "Nope() > 1"}, {Expression: "NetworkErrorRatio() >"},
		{Expression: "NetworkErrorRatio() > 0.5", ResponseCode: 42},
		{Expression: "NetworkErrorRatio() > 0.5", CheckPeriod: ptypes.Duration(-1)},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	for _, e := range []string{
		"NetworkErrorRatio() > 0.5",
		"ResponseCodeRatio(500, 600, 0, 600) > 0.25",
		"LatencyAtQuantileMS(50.0) > 100",
		"ResponseCodeRatio(500, 600, 0, 600) > 0.25 || NetworkErrorRatio() > 0.5",
	} {
		if _, err := New(&dynamic.CircuitBreaker{Expression: e}); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
}

func TestTrips(t *testing.T) {
	tests := []struct {
		desc     string
		expr     string
		backend  int
		code     int
		wantTrip bool
	}{
		{"5xx ratio", "ResponseCodeRatio(500, 600, 0, 600) > 0.5", 500, 0, true},
		{"network errors", "NetworkErrorRatio() > 0.5", 502, 418, true},
		{"healthy", "NetworkErrorRatio() > 0.5", 200, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			b, err := New(&dynamic.CircuitBreaker{Expression: tc.expr, CheckPeriod: ptypes.Duration(time.Millisecond), ResponseCode: tc.code})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			h := b.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.WriteHeader(tc.backend)
			}))
			want := tc.code
			if want == 0 {
				want = 503
			}
			tripped := false
			// Enough requests, spread over a few check periods, to trip.
			for i := 0; i < 200 && !tripped; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				tripped = rec.Code == want && want != tc.backend
				time.Sleep(200 * time.Microsecond)
			}
			if tripped != tc.wantTrip {
				t.Fatalf("tripped %v after %d backend calls", tripped, calls)
			}
		})
	}
}
