package accesslog

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LogData is what the access log knows about one request. The wrapper
// takes one from a pool per request and puts it in the request context;
// inner layers fill it through the package helpers (SetRouter,
// SetService, …), which do nothing when there is none.
//
// A LogData belongs to its request: use it only while the request is
// being served (from ServeHTTP, before it returns). Once the wrapper
// returns, the LogData goes back to the pool. Work that outlives the
// request (mirroring, background jobs) must use Detach.
type LogData struct {
	h          *Handler
	entryPoint string

	// Captured when the request arrives: strings only (no copies), so a
	// middleware rewriting the request later does not change the line.
	start                   time.Time
	count                   uint64
	method, proto           string
	host, remoteAddr, xff   string
	path, rawPath, rawQuery string
	forceQuery              bool
	tls                     *tls.ConnectionState
	username                string

	// Filled by inner layers.
	router, service string
	serviceURL      *url.URL
	originSet       bool
	originStatus    int
	originSize      int64
	originDuration  time.Duration
	originHeader    http.Header
	retries         atomic.Int32
	skip            bool

	// Captured when the request is done.
	status   int
	size     int64
	reqSize  int64
	duration time.Duration
	hijacked bool
	headers  []headerValue

	rec  responseRecorder
	body *countingBody
}

// headerValue is one header kept for the line; value is Redacted in
// redact mode.
type headerValue struct {
	prefix string
	name   string
	value  string
}

var dataPool = sync.Pool{New: func() any { return new(LogData) }}

func getData() *LogData { return dataPool.Get().(*LogData) }

// release clears ld (dropping every reference into the request) and
// pools it.
func (ld *LogData) release() {
	hdrs := ld.headers
	clear(hdrs)
	if cap(hdrs) > 64 {
		hdrs = nil // a request with huge headers must not pin memory
	}
	ld.retries.Store(0)
	*ld = LogData{headers: hdrs[:0]}
	dataPool.Put(ld)
}

type ctxKey struct{}

// FromRequest returns the request's LogData, or nil when the access log
// is off for it.
func FromRequest(r *http.Request) *LogData {
	ld, _ := r.Context().Value(ctxKey{}).(*LogData)
	return ld
}

// Detach returns ctx without the access log: helpers called with a
// request carrying the result do nothing. Use it for work that may
// outlive the request (traffic mirroring, async hooks).
func Detach(ctx context.Context) context.Context {
	if ld, _ := ctx.Value(ctxKey{}).(*LogData); ld == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, (*LogData)(nil))
}

// SetRouter records the router that matched. It also marks the origin
// fields as present (zero) so a response written by a middleware logs
// OriginStatus 0, as Traefik does. A router of the internal provider
// ("…@internal") is not logged unless accessLog.addInternals is set.
func SetRouter(r *http.Request, name string) {
	ld := FromRequest(r)
	if ld == nil {
		return
	}
	ld.router = name
	ld.originSet = true
	if !ld.h.addInternals && strings.HasSuffix(name, "@internal") {
		ld.skip = true
	}
}

// SetService records the service and, when serviceURL is not nil, the
// server chosen (ServiceURL, ServiceAddr). An empty name keeps the
// previous one, so a load balancer can report only the URL. serviceURL
// must not be modified afterwards (it is formatted when the line is
// written).
func SetService(r *http.Request, name string, serviceURL *url.URL) {
	ld := FromRequest(r)
	if ld == nil {
		return
	}
	if name != "" {
		ld.service = name
	}
	if serviceURL != nil {
		ld.serviceURL = serviceURL
	}
}

// SetOriginStatus records the status and body size the origin answered
// with, for OriginStatus and OriginContentSize. The proxy calls it; a
// response made by Switchyard itself leaves them at 0 (or absent when no
// router matched).
func SetOriginStatus(r *http.Request, status int, size int64) {
	ld := FromRequest(r)
	if ld == nil {
		return
	}
	ld.originSet = true
	ld.originStatus = status
	ld.originSize = size
}

// SetOriginDuration records how long the origin took (OriginDuration;
// Overhead is Duration minus it).
func SetOriginDuration(r *http.Request, d time.Duration) {
	if ld := FromRequest(r); ld != nil {
		ld.originSet = true
		ld.originDuration = d
	}
}

// SetOriginHeaders records the origin's response headers for the
// origin_<Header> fields. h is read when the wrapper finishes (before
// the request returns) and must not be reused before then.
func SetOriginHeaders(r *http.Request, h http.Header) {
	if ld := FromRequest(r); ld != nil {
		ld.originHeader = h
	}
}

// SetClientUsername records the authenticated user (ClientUsername);
// authentication middlewares call it.
func SetClientUsername(r *http.Request, user string) {
	if ld := FromRequest(r); ld != nil {
		ld.username = user
	}
}

// IncRetry counts one retry (RetryAttempts). Safe from any goroutine
// while the request is served.
func IncRetry(r *http.Request) {
	if ld := FromRequest(r); ld != nil {
		ld.retries.Add(1)
	}
}

// Skip leaves this request out of the access log (a router with
// observability.accessLogs set to false).
func Skip(r *http.Request) {
	if ld := FromRequest(r); ld != nil {
		ld.skip = true
	}
}

// Router is the router recorded so far ("" if none).
func (ld *LogData) Router() string { return ld.router }

// Service is the service recorded so far ("" if none).
func (ld *LogData) Service() string { return ld.service }

// Retries is the number of retries counted so far.
func (ld *LogData) Retries() int { return int(ld.retries.Load()) }

// countingBody counts the request body bytes read. It is allocated (not
// pooled) because a transport may still hold the body after the handler
// returned.
type countingBody struct {
	rc interface {
		Read([]byte) (int, error)
		Close() error
	}
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }
