package tracing

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchyard-proxy/switchyard/config/static"
)

const (
	traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentID = "00f067aa0ba902b7"
)

func TestChain(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rate      float64
		flags     string
		wantSpans int
	}{
		{"sampled", 1, "01", 4},
		{"parent not sampled", 1, "00", 0},
		{"rate 0 follows a sampled parent", 0, "01", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			cfg := &static.Tracing{}
			cfg.SetDefaults()
			cfg.SampleRate = tc.rate
			cfg.CapturedRequestHeaders = []string{"X-Id"}
			cfg.CapturedResponseHeaders = []string{"X-Upstream"}
			tr := newWith(cfg, sdktrace.WithSpanProcessor(rec))
			var got string
			backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("Traceparent")
				w.Header().Set("X-Upstream", "b1")
				w.WriteHeader(http.StatusBadGateway)
			})
			h := tr.EntryPoint("web", tr.Router("r@file", "s@file", tr.Middleware("m@file", tr.Service("s@file", backend))))
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-"+tc.flags)
			req.Header.Set("X-Id", "7")
			h.ServeHTTP(httptest.NewRecorder(), req)

			spans := rec.Ended()
			if len(spans) != tc.wantSpans {
				t.Fatalf("%d spans, want %d", len(spans), tc.wantSpans)
			}
			if !strings.Contains(got, traceID) {
				t.Fatalf("backend traceparent %q lacks the trace ID", got)
			}
			if tc.wantSpans == 0 {
				return
			}
			byName := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range spans {
				byName[s.Name()] = s
			}
			ep, svc := byName["EntryPoint web"], byName["Service s@file"]
			if ep == nil || svc == nil || byName["Router"] == nil || byName["Middleware m@file"] == nil {
				t.Fatalf("spans %v", byName)
			}
			if ep.Parent().SpanID().String() != parentID {
				t.Errorf("entrypoint parent %s", ep.Parent().SpanID())
			}
			if want := "00-" + traceID + "-" + svc.SpanContext().SpanID().String() + "-01"; got != want {
				t.Errorf("backend traceparent %q, want %q", got, want)
			}
			attrs := map[string]string{}
			for _, kv := range ep.Attributes() {
				attrs[string(kv.Key)] = kv.Value.Emit()
			}
			if attrs["http.request.header.x-id"] != `["7"]` || attrs["http.response.header.x-upstream"] != `["b1"]` {
				t.Errorf("captured headers: %v", attrs)
			}
			if svc.Status().Code.String() != "Error" {
				t.Errorf("502 service span status %v", svc.Status())
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	tr := &Tracer{safeQuery: map[string]bool{"page": true, "a b": true}}
	for in, want := range map[string]string{
		"page=2&token=s3cret": "page=2&token=REDACTED",
		"flag&page=":          "flag&page=",
		"a+b=1&x=%41":         "a+b=1&x=REDACTED",
		"token=a=b":           "token=REDACTED",
	} {
		if got := tr.redactQuery(in); got != want {
			t.Errorf("redactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRedactQuery(f *testing.F) {
	f.Add("page=2&token=x")
	f.Add("%zz=1&&=")
	tr := &Tracer{safeQuery: map[string]bool{"page": true}}
	f.Fuzz(func(t *testing.T, q string) {
		out := tr.redactQuery(q)
		if strings.Count(out, "&") != strings.Count(q, "&") {
			t.Fatalf("parameters changed: %q -> %q", q, out)
		}
	})
}
