package integration

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is a minimal OTLP/HTTP trace collector (protobuf).
type otlpReceiver struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	resAttrs map[string]string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		if o.resAttrs == nil {
			o.resAttrs = map[string]string{}
		}
		for _, kv := range rs.GetResource().GetAttributes() {
			o.resAttrs[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (o *otlpReceiver) byName(traceID string) map[string]*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]*tracepb.Span{}
	for _, s := range o.spans {
		if hex.EncodeToString(s.TraceId) == traceID {
			m[s.Name] = s
		}
	}
	return m
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			if v := kv.GetValue().GetStringValue(); v != "" {
				return v
			}
			if av := kv.GetValue().GetArrayValue(); av != nil && len(av.Values) > 0 {
				return av.Values[0].GetStringValue()
			}
		}
	}
	return ""
}

// TestTracingOTLPHTTP: a client traceparent is continued through
// entrypoint → router → middleware → service spans, exported over OTLP
// HTTP, and the backend receives a traceparent whose parent is the
// service span.
func TestTracingOTLPHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := &otlpReceiver{}
	e.SetURL("otlp", startHandler(t, rcv))
	var (
		gotMu sync.Mutex
		got   string
	)
	e.SetURL("backend", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotMu.Lock()
		got = r.Header.Get("Traceparent")
		gotMu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})))
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      middlewares: [tag]
      service: app
  middlewares:
    tag:
      headers:
        customRequestHeaders:
          X-Tag: "1"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% url "backend" %>"
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
tracing:
  serviceName: edge-test
  sampleRate: 1.0
  resourceAttributes:
    deployment.environment: ci
  capturedRequestHeaders: [X-Request-Id]
  otlp:
    http:
      endpoint: "<% url "otlp" %>/v1/traces"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.StartWithEnv([]string{"OTEL_BSP_SCHEDULE_DELAY=50"})
	e.WaitRouters("app@file")

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const parentID = "00f067aa0ba902b7"
	rep := do(t, request{url: e.URL("web") + "/hello", header: map[string]string{
		"Traceparent":  "00-" + traceID + "-" + parentID + "-01",
		"X-Request-Id": "req-42",
	}})
	if rep.Status != 200 {
		t.Fatalf("status %d", rep.Status)
	}

	want := []string{"EntryPoint web", "Router", "Middleware tag@file", "Service app@file"}
	var spans map[string]*tracepb.Span
	e.waitFor(10*time.Second, "spans "+strings.Join(want, ", "), func() bool {
		spans = rcv.byName(traceID)
		for _, n := range want {
			if spans[n] == nil {
				return false
			}
		}
		return true
	})
	id := func(b []byte) string { return hex.EncodeToString(b) }
	ep, rt, mw, svc := spans[want[0]], spans[want[1]], spans[want[2]], spans[want[3]]
	if id(ep.ParentSpanId) != parentID {
		t.Errorf("entrypoint span parent %s, want the client's %s", id(ep.ParentSpanId), parentID)
	}
	if id(rt.ParentSpanId) != id(ep.SpanId) || id(mw.ParentSpanId) != id(rt.SpanId) || id(svc.ParentSpanId) != id(mw.SpanId) {
		t.Errorf("chain broken: ep %s; router %s<-%s; mw %s<-%s; svc %s<-%s",
			id(ep.SpanId), id(rt.SpanId), id(rt.ParentSpanId), id(mw.SpanId), id(mw.ParentSpanId), id(svc.SpanId), id(svc.ParentSpanId))
	}
	if ep.Kind != tracepb.Span_SPAN_KIND_SERVER || svc.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("kinds: entrypoint %v, service %v", ep.Kind, svc.Kind)
	}
	if v := spanAttr(ep, "http.request.header.x-request-id"); v != "req-42" {
		t.Errorf("captured header = %q", v)
	}
	if v := spanAttr(rt, "router.name"); v != "app@file" {
		t.Errorf("router.name = %q", v)
	}
	rcv.mu.Lock()
	res := rcv.resAttrs
	rcv.mu.Unlock()
	if res["service.name"] != "edge-test" || res["deployment.environment"] != "ci" {
		t.Errorf("resource attributes %v", res)
	}
	gotMu.Lock()
	tp := got
	gotMu.Unlock()
	wantTP := "00-" + traceID + "-" + id(svc.SpanId) + "-01"
	if tp != wantTP {
		t.Errorf("backend traceparent %q, want %q", tp, wantTP)
	}
}

// grpcReceiver is the same collector over OTLP/gRPC.
type grpcReceiver struct {
	coltrace.UnimplementedTraceServiceServer
	o *otlpReceiver
}

func (g *grpcReceiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	g.o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			g.o.spans = append(g.o.spans, ss.Spans...)
		}
	}
	g.o.mu.Unlock()
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// TestTracingOTLPGRPC: the same spans reach a gRPC collector
// (tracing.otlp.grpc with insecure).
func TestTracingOTLPGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(gs, &grpcReceiver{o: rcv})
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	e.SetURL("collector", ln.Addr().String())
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "g1" %>"
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
tracing:
  otlp:
    grpc:
      endpoint: "<% url "collector" %>"
      insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.StartWithEnv([]string{"OTEL_BSP_SCHEDULE_DELAY=50"})
	e.WaitRouters("app@file")
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	do(t, request{url: e.URL("web") + "/", header: map[string]string{"Traceparent": "00-" + traceID + "-b7ad6b7169203331-01"}})
	e.waitFor(10*time.Second, "spans over gRPC", func() bool {
		s := rcv.byName(traceID)
		return s["EntryPoint web"] != nil && s["Router"] != nil && s["Service app@file"] != nil
	})
}
