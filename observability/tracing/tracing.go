// Package tracing exports OpenTelemetry spans over OTLP (HTTP or gRPC):
// one server span per entrypoint, and internal spans per router,
// middleware and service, with W3C traceparent read from the client and
// written to the backend. Built only when tracing is configured; when off,
// no handler is wrapped.
package tracing

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// Tracer creates the spans of every hop.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	// headers and respHeaders are the captured request and response
	// headers with their attribute keys, computed once.
	headers, respHeaders []capturedHeader
	// safeQuery are the query parameters whose values are recorded; every
	// other value becomes "REDACTED".
	safeQuery map[string]bool
}

type capturedHeader struct {
	name string
	key  attribute.Key
}

// New builds the exporter and the provider. Nothing is sent until a span
// ends; Shutdown flushes.
func New(ctx context.Context, cfg *static.Tracing) (*Tracer, error) {
	if cfg == nil {
		return nil, errors.New("tracing: no configuration")
	}
	exp, err := exporter(ctx, cfg.OTLP)
	if err != nil {
		return nil, err
	}
	return newWith(cfg, sdktrace.WithBatcher(exp)), nil
}

// newWith builds a Tracer around a span processor (tests use a
// synchronous in-memory one).
func newWith(cfg *static.Tracing, proc sdktrace.TracerProviderOption) *Tracer {
	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	for k, v := range cfg.ResourceAttributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	res := resource.NewWithAttributes("", attrs...)
	rate := cfg.SampleRate
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(rate))
	tp := sdktrace.NewTracerProvider(
		proc,
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)
	t := &Tracer{
		provider: tp,
		tracer:   tp.Tracer("github.com/switchyard-proxy/switchyard"),
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	for _, h := range cfg.CapturedRequestHeaders {
		t.headers = append(t.headers, capturedHeader{
			name: h,
			key:  attribute.Key("http.request.header." + strings.ToLower(h)),
		})
	}
	if len(cfg.SafeQueryParams) > 0 {
		t.safeQuery = make(map[string]bool, len(cfg.SafeQueryParams))
		for _, q := range cfg.SafeQueryParams {
			t.safeQuery[q] = true
		}
	}
	for _, h := range cfg.CapturedResponseHeaders {
		t.respHeaders = append(t.respHeaders, capturedHeader{
			name: h,
			key:  attribute.Key("http.response.header." + strings.ToLower(h)),
		})
	}
	return t
}

func exporter(ctx context.Context, o *static.TracingOTLP) (sdktrace.SpanExporter, error) {
	switch {
	case o != nil && o.GRPC != nil:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(o.GRPC.Endpoint)}
		if o.GRPC.Insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if len(o.GRPC.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(o.GRPC.Headers))
		}
		if o.GRPC.TLS != nil && !o.GRPC.Insecure {
			tc, err := clientTLS(o.GRPC.TLS)
			if err != nil {
				return nil, fmt.Errorf("tracing.otlp.grpc.tls: %w", err)
			}
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tc)))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("tracing.otlp.grpc: %w", err)
		}
		return exp, nil
	default:
		endpoint := "http://localhost:4318/v1/traces"
		var headers map[string]string
		var tc *tls.Config
		if o != nil && o.HTTP != nil {
			if o.HTTP.Endpoint != "" {
				endpoint = o.HTTP.Endpoint
			}
			headers = o.HTTP.Headers
			if o.HTTP.TLS != nil {
				var err error
				if tc, err = clientTLS(o.HTTP.TLS); err != nil {
					return nil, fmt.Errorf("tracing.otlp.http.tls: %w", err)
				}
			}
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
		if tc != nil {
			opts = append(opts, otlptracehttp.WithTLSClientConfig(tc))
		}
		if len(headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(headers))
		}
		exp, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("tracing.otlp.http: %w", err)
		}
		return exp, nil
	}
}

// clientTLS builds the exporter's TLS config; ca, cert and key are file
// paths or inline PEM.
func clientTLS(c *static.OTLPClientTLS) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		data, err := os.ReadFile(c.CA)
		if err != nil {
			data = []byte(c.CA)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, errors.New("ca: no certificate found")
		}
		tc.RootCAs = pool
	}
	if c.Cert != "" || c.Key != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			if cert, err = tls.X509KeyPair([]byte(c.Cert), []byte(c.Key)); err != nil {
				return nil, fmt.Errorf("cert/key: %w", err)
			}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Shutdown flushes pending spans and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.provider.Shutdown(ctx) }

// statusRecorder keeps the status code for the span.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (w *statusRecorder) WriteHeader(c int) {
	if w.code == 0 && c >= 200 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return io.Copy(w.ResponseWriter, r)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// EntryPoint starts the server span from the client's traceparent.
func (t *Tracer) EntryPoint(name string, next http.Handler) http.Handler {
	spanName := "EntryPoint " + name
	epAttr := attribute.String("entry_point", name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer))
		if !span.IsRecording() {
			// Not sampled: still carry the context so the decision
			// propagates, but record nothing.
			next.ServeHTTP(w, r.WithContext(ctx))
			span.End()
			return
		}
		span.SetAttributes(epAttr,
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
			attribute.String("network.protocol.version", r.Proto),
			attribute.String("client.address", r.RemoteAddr))
		if r.URL.RawQuery != "" {
			span.SetAttributes(attribute.String("url.query", t.redactQuery(r.URL.RawQuery)))
		}
		for _, h := range t.headers {
			if v := r.Header.Values(h.name); len(v) > 0 {
				span.SetAttributes(h.key.StringSlice(v))
			}
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		for _, h := range t.respHeaders {
			if v := w.Header().Values(h.name); len(v) > 0 {
				span.SetAttributes(h.key.StringSlice(v))
			}
		}
		end(span, rec.code)
	})
}

// redactQuery keeps the parameter names and the values of safeQueryParams
// only, in their original order and encoding.
func (t *Tracer) redactQuery(raw string) string {
	var b strings.Builder
	for i, part := range strings.Split(raw, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, _, hasValue := strings.Cut(part, "=")
		b.WriteString(k)
		if !hasValue {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err == nil && t.safeQuery[name] {
			b.WriteString(part[len(k):])
			continue
		}
		b.WriteString("=REDACTED")
	}
	return b.String()
}

func end(span trace.Span, code int) {
	if code == 0 {
		code = http.StatusOK
	}
	span.SetAttributes(attribute.Int("http.response.status_code", code))
	if code >= 500 {
		span.SetStatus(codes.Error, http.StatusText(code))
	}
	span.End()
}

// inner wraps next with an internal span named after one hop.
func (t *Tracer) inner(spanName string, kind trace.SpanKind, attrs []attribute.KeyValue, inject bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parent := trace.SpanFromContext(r.Context())
		if !parent.SpanContext().IsValid() || !parent.IsRecording() {
			next.ServeHTTP(w, r)
			return
		}
		ctx, span := t.tracer.Start(r.Context(), spanName, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
		if inject {
			// The backend sees this span as its parent.
			t.prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		end(span, rec.code)
	})
}

// Router wraps a router's handler.
func (t *Tracer) Router(router, service string, next http.Handler) http.Handler {
	return t.inner("Router", trace.SpanKindInternal, []attribute.KeyValue{
		attribute.String("router.name", router), attribute.String("service.name", service)}, false, next)
}

// Middleware wraps one middleware's handler.
func (t *Tracer) Middleware(name string, next http.Handler) http.Handler {
	return t.inner("Middleware "+name, trace.SpanKindInternal, []attribute.KeyValue{
		attribute.String("middleware.name", name)}, false, next)
}

// Service wraps a service's handler; it is the client span whose context
// goes to the backend in traceparent.
func (t *Tracer) Service(service string, next http.Handler) http.Handler {
	return t.inner("Service "+service, trace.SpanKindClient, []attribute.KeyValue{
		attribute.String("service.name", service)}, true, next)
}
