// Package proxy forwards HTTP requests to one backend server.
//
// Plain http:// backends use a lean HTTP/1.1 client of its own: the request is
// written and the response read on the handler's goroutine, over pooled
// keep-alive connections with pooled buffers; no goroutine, channel or header
// map clone per request. https:// and h2c:// backends go through
// net/http/httputil.ReverseProxy with net/http transports (HTTP/2 and h2c included).
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/retryhook"
	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
)

// Options tune one proxy handler.
type Options struct {
	// PassHostHeader sends the client's Host to the backend; false sends the backend's host.
	PassHostHeader bool
	// FlushInterval bounds how long response bytes may wait in buffers: negative
	// flushes after every write, zero never flushes before the end, positive
	// flushes at most that long after a write. Streaming responses (text/event-stream,
	// no Content-Length) are always flushed as soon as the backend pauses.
	FlushInterval time.Duration
	// PreservePath prefixes the request path with the server URL's path.
	PreservePath bool
	// AccessLog reports the server URL and the origin's status, size and
	// duration to the access log; off, the proxy never looks for it.
	AccessLog bool
}

// New returns the handler forwarding requests to target (scheme http, https or h2c)
// through t.
func New(target *url.URL, t *Transport, opts Options) (http.Handler, error) {
	if target == nil || t == nil {
		return nil, errors.New("proxy: nil target or transport")
	}
	if target.Host == "" {
		return nil, fmt.Errorf("proxy: server URL %q has no host", target.String())
	}
	switch target.Scheme {
	case "http":
		if pu, err := t.std.Proxy(&http.Request{URL: target}); err == nil && pu != nil {
			// An environment proxy applies: let net/http speak to it.
			return newStdProxy(target, t.std, t.readTimeout, opts), nil
		}
		return newFastProxy(target, t, opts), nil
	case "https":
		return newStdProxy(target, t.std, t.readTimeout, opts), nil
	case "h2c":
		u := *target
		u.Scheme = "http"
		return newStdProxy(&u, t.h2c, t.readTimeout, opts), nil
	default:
		return nil, fmt.Errorf("proxy: server URL %q: unsupported scheme %q", target.String(), target.Scheme)
	}
}

// StatusClientClosedRequest is the non-standard status recorded when the client
// went away before the response started.
const StatusClientClosedRequest = 499

const (
	// expectContinueTimeout is how long a request with "Expect: 100-continue"
	// waits for the backend's go-ahead before sending its body anyway.
	expectContinueTimeout = time.Second
)

// Response flushing modes.
const (
	flushNone     = iota // the server flushes when the handler returns
	flushWhenIdle        // before every wait on the backend
	flushInterval        // at most FlushInterval after a write
)

// Request body framings.
const (
	reqNone = iota
	reqLength
	reqChunked
)

var (
	errResponseHeaderTimeout = &timeoutError{"timeout awaiting response headers"}
	errExpectTimeout         = &timeoutError{"timeout awaiting 100 Continue"}
	errReadTimeout           = &timeoutError{"timeout reading response body: no progress"}
	errDrainTimeout          = &timeoutError{"timeout draining response of a departed client"}
)

// Salvaging a connection whose client went away: the rest of the response is
// read and dropped, within these budgets, so the connection can be reused
// instead of closed (a reset HTTP/2 stream must not cost a backend connection).
const (
	drainMaxBytes = 64 << 10
	drainMaxTime  = 250 * time.Millisecond
)

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// backendWriteError: writing the request to the backend failed.
type backendWriteError struct{ err error }

func (e *backendWriteError) Error() string { return "writing request to backend: " + e.err.Error() }
func (e *backendWriteError) Unwrap() error { return e.err }

// clientBodyError: reading the client's request body failed.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading client request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// clientWriteError: writing the response to the client failed.
type clientWriteError struct{ err error }

func (e *clientWriteError) Error() string { return "writing response to client: " + e.err.Error() }
func (e *clientWriteError) Unwrap() error { return e.err }

// statusError carries the status to answer with.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

type fastProxy struct {
	pool      *hostPool
	host      string // Host header when the client's is not passed
	prefix    string // escaped server URL path, PreservePath only
	passHost  bool
	preserve  bool
	flush     time.Duration
	rhTimeout time.Duration
	rdTimeout time.Duration // readTimeout: body read without progress
	wrTimeout time.Duration // writeTimeout: request write without progress
	target    *url.URL
	accessLog bool
}

func newFastProxy(target *url.URL, t *Transport, opts Options) *fastProxy {
	port := target.Port()
	if port == "" {
		port = "80"
	}
	return &fastProxy{
		pool:      t.pool(net.JoinHostPort(target.Hostname(), port)),
		host:      target.Host,
		prefix:    target.EscapedPath(),
		passHost:  opts.PassHostHeader,
		preserve:  opts.PreservePath,
		flush:     opts.FlushInterval,
		rhTimeout: t.responseHeaderTimeout,
		rdTimeout: t.readTimeout,
		wrTimeout: t.writeTimeout,
		target:    target,
		accessLog: opts.AccessLog,
	}
}

// exchange is the state of one proxied request. It comes from a pool, not
// the handler's stack: a stream or tunnel waits for hours inside the
// exchange, and the waiting goroutine's stack is sized by its depth (the
// runtime shrinks a stack only to four times what is in use), so 2.6 KiB
// on the stack would double an idle stream's 8 KiB stack to 16.
type exchange struct {
	p   *fastProxy
	rw  http.ResponseWriter
	r   *http.Request
	ctx context.Context
	c   *conn

	upType     string
	reqBody    int
	probe      int  // first body byte read while probing an unknown-length body (-1: none)
	bodyRead   bool // a byte of the client body was consumed: no replay possible
	sentHeader bool // the response status went to the client
	readFailed bool // the backend failed after the status went out
	closeAfter bool // the connection must not be reused
	reqWritten bool // the whole request went to the backend
	inBody     bool // reading the response body (readTimeout applies)

	headDeadline time.Time // response header / expect-continue deadline
	headErr      error     // returned when headDeadline passes
	flushMode    int       // flushNone, flushWhenIdle or flushInterval
	pending      bool      // response bytes written but not flushed
	flushAt      time.Time // flushInterval: when pending bytes must go out
	armedAt      time.Time // when the current read was armed
	stalledAt    time.Time // body read: since when no byte came (zero: progressing)
	watchAt      time.Time // when a wait on the backend asks for the client's departure
	watch        *cancelWatch
	noWatch      bool // salvaging: no client to watch

	originStatus int   // status answered (by the backend, or ours on error)
	originSize   int64 // response body bytes relayed

	head respHead
	body body
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

func (p *fastProxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	ex := exchanges.Get().(*exchange) // zeroed by recycle
	ex.p, ex.rw, ex.r, ex.ctx, ex.probe = p, rw, r, r.Context(), -1
	done := false
	if p.accessLog {
		start := time.Now()
		accesslog.SetService(r, "", p.target)
		defer func() { // also when fail aborts the response (a panic)
			accesslog.SetOriginStatus(r, ex.originStatus, ex.originSize)
			accesslog.SetOriginDuration(r, time.Since(start))
			if done {
				ex.recycle()
			}
		}()
	}
	if err := ex.run(); err != nil {
		ex.fail(err) // may panic: ex is then left to the collector
	}
	done = true
	if !p.accessLog {
		ex.recycle()
	}
}

// recycle returns an exchange that is over to the pool.
func (ex *exchange) recycle() {
	*ex = exchange{}
	exchanges.Put(ex)
}

func (ex *exchange) run() error {
	r := ex.r
	if r.Method == http.MethodConnect {
		return &statusError{code: http.StatusNotImplemented, err: errors.New("CONNECT is not proxied to HTTP/1.1 backends")}
	}
	if up := upgradeType(r.Header); up != "" {
		if !isGraphicASCII(up) {
			return &statusError{code: http.StatusBadRequest, err: fmt.Errorf("client tried to switch to invalid protocol %q", up)}
		}
		ex.upType = up
	}
	if err := ex.classifyBody(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		ex.closeAfter, ex.headDeadline, ex.headErr = false, time.Time{}, nil
		var err error
		if attempt == 0 {
			ex.c, err = ex.p.pool.get(ex.ctx)
		} else {
			ex.c, err = ex.p.pool.dial(ex.ctx)
		}
		if err != nil {
			return err
		}
		reused := ex.c.reused
		err = ex.roundTrip()
		ex.unwatch()
		if err == nil {
			return nil
		}
		if ex.c != nil {
			if !ex.salvage(err) {
				ex.c.close()
			}
			ex.c = nil
		}
		if attempt == 0 && reused && ex.retryable(err) {
			continue
		}
		return err
	}
}

// retryable: a reused connection failed before any response byte, and the
// request can be sent again as is.
func (ex *exchange) retryable(err error) bool {
	if ex.sentHeader || ex.bodyRead || ex.probe >= 0 || ex.ctx.Err() != nil {
		return false
	}
	var nr *noResponseError
	var we *backendWriteError
	if !errors.As(err, &nr) && !errors.As(err, &we) {
		return false
	}
	if we != nil && errors.Is(we.err, errWriteTimeout) {
		return false
	}
	if nr != nil {
		var ne net.Error
		if errors.As(nr.err, &ne) && ne.Timeout() {
			return false
		}
	}
	return ex.reqBody == reqNone || isIdempotent(ex.r)
}

func isIdempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, ok := r.Header["Idempotency-Key"]
	if !ok {
		_, ok = r.Header["X-Idempotency-Key"]
	}
	return ok
}

// classifyBody picks the request body framing.
func (ex *exchange) classifyBody() error {
	r := ex.r
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		ex.reqBody = reqNone
	case r.ContentLength > 0 && len(r.Trailer) == 0:
		ex.reqBody = reqLength
	case r.ContentLength == 0:
		// Unknown body behind a zero length: probe one byte, as net/http does.
		var b [1]byte
		n, err := r.Body.Read(b[:])
		switch {
		case n == 1:
			ex.probe = int(b[0])
			ex.reqBody = reqChunked
		case err == nil || err == io.EOF:
			if err == nil {
				// Read returned nothing yet; treat as streaming.
				ex.reqBody = reqChunked
			} else {
				ex.reqBody = reqNone
			}
		default:
			return &clientBodyError{err: err}
		}
	default:
		ex.reqBody = reqChunked
	}
	return nil
}

// roundTrip runs one request/response exchange on ex.c. On success the
// connection has been returned to the pool or closed.
func (ex *exchange) roundTrip() error {
	r := ex.r
	ex.reqWritten, ex.inBody = false, false
	ex.c.w.begin(ex.ctx, ex.p.wrTimeout)
	if err := ex.writeHead(); err != nil {
		return err
	}
	gotFinal := false
	if ex.reqBody != reqNone {
		if expectsContinue(r.Header) {
			if err := ex.c.bw.Flush(); err != nil {
				return &backendWriteError{err: err}
			}
			final, err := ex.awaitContinue()
			ex.headDeadline, ex.headErr = time.Time{}, nil
			if err != nil {
				return err
			}
			if final {
				// Rejected before the body: the body stays unsent, so the connection is done.
				gotFinal = true
				ex.closeAfter = true
			}
		}
		if !gotFinal {
			if err := ex.writeBody(); err != nil {
				var we *backendWriteError
				if !errors.As(err, &we) || !ex.bodyRead || ex.ctx.Err() != nil || errors.Is(err, errWriteTimeout) {
					return err
				}
				// The backend may have answered early and closed: try to read it.
				ex.closeAfter = true
				ex.headDeadline = time.Now().Add(expectContinueTimeout)
				ex.headErr = err
				if herr := ex.readFinalHead(); herr != nil {
					return err
				}
				gotFinal = true
			}
		}
	} else if err := ex.c.bw.Flush(); err != nil {
		return &backendWriteError{err: err}
	}
	ex.reqWritten = true
	if !gotFinal {
		if ex.p.rhTimeout > 0 {
			ex.headDeadline = time.Now().Add(ex.p.rhTimeout)
			ex.headErr = errResponseHeaderTimeout
		}
		if err := ex.readFinalHead(); err != nil {
			return err
		}
	}
	ex.headDeadline = time.Time{}
	return ex.respond()
}

// awaitContinue waits for the backend's reaction to "Expect: 100-continue".
// It reports true when a final response arrived instead (in ex.head).
func (ex *exchange) awaitContinue() (bool, error) {
	ex.headDeadline = time.Now().Add(expectContinueTimeout)
	ex.headErr = errExpectTimeout
	for i := 0; i < max1xx; i++ {
		err := ex.readOneHead()
		if errors.Is(err, errExpectTimeout) {
			return false, nil // send the body anyway
		}
		if err != nil {
			return false, err
		}
		switch code := ex.head.status; {
		case code == http.StatusContinue:
			return false, nil
		case code == http.StatusSwitchingProtocols || code >= 200:
			return true, nil
		default:
			ex.forward1xx()
		}
	}
	return false, badResponse("too many 1xx responses")
}

// readFinalHead reads heads until a final (or 101) one, forwarding 1xx.
func (ex *exchange) readFinalHead() error {
	for i := 0; i < max1xx; i++ {
		if err := ex.readOneHead(); err != nil {
			return err
		}
		switch code := ex.head.status; {
		case code == http.StatusSwitchingProtocols || code >= 200:
			return nil
		case code == http.StatusContinue:
			// net/http answers the client's Expect itself.
		default:
			ex.forward1xx()
		}
	}
	return badResponse("too many 1xx responses")
}

func (ex *exchange) readOneHead() error {
	s, err := ex.readHead()
	if err != nil {
		return err
	}
	return parseHead(s, &ex.head)
}

// forward1xx relays an informational response (103 Early Hints...) to the client.
func (ex *exchange) forward1xx() {
	hdr := ex.rw.Header()
	h := &ex.head
	for _, f := range h.fields() {
		if !skipResponseHeader(f.name) && !h.listedInConnection(f.name) {
			hdr[f.name] = append(hdr[f.name], f.value)
		}
	}
	ex.rw.WriteHeader(h.status)
	for _, f := range h.fields() {
		delete(hdr, f.name)
	}
}

// respond relays the final response head and body to the client.
func (ex *exchange) respond() error {
	h := &ex.head
	if h.status == http.StatusSwitchingProtocols {
		return ex.upgrade()
	}
	mode := h.framing(ex.r.Method)
	if mode == bodyChunked {
		if err := ex.checkFirstChunk(); err != nil {
			return err // nothing sent yet: a clean 502
		}
	}
	hdr := ex.rw.Header()
	ex.copyFields(hdr)
	if h.contentType == "" && h.status != http.StatusNoContent && h.status != http.StatusNotModified {
		// No type from the backend: keep net/http from sniffing one, as
		// Traefik does (the contentType middleware opts back in).
		if _, ok := hdr["Content-Type"]; !ok {
			hdr["Content-Type"] = nil
		}
	}
	ex.rw.WriteHeader(h.status)
	ex.sentHeader = true
	ex.originStatus = h.status

	ex.body = body{mode: mode, left: h.contentLength}
	b := &ex.body
	ex.inBody = true
	switch {
	case ex.p.flush < 0 || mode == bodyChunked || mode == bodyEOF || isEventStream(h.contentType):
		ex.flushMode = flushWhenIdle
	case ex.p.flush > 0:
		ex.flushMode = flushInterval
	}
	for {
		p, err := ex.nextBody(b)
		if len(p) > 0 {
			ex.originSize += int64(len(p))
			if _, werr := ex.rw.Write(p); werr != nil {
				return &clientWriteError{err: werr}
			}
			if ex.flushMode != flushNone && !ex.pending {
				ex.pending = true
				if ex.flushMode == flushInterval {
					ex.flushAt = time.Now().Add(ex.p.flush)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ex.readFailed = true
			return err
		}
	}
	if mode == bodyChunked && (h.trailer || len(b.trailer) > 0) {
		// Force chunked framing toward the client, as httputil does: a short
		// body would otherwise be sent with a Content-Length and the trailers
		// dropped, depending on how the backend's bytes were segmented.
		ex.flush()
	}
	for _, f := range b.trailer {
		k := http.TrailerPrefix + f.name
		hdr[k] = append(hdr[k], f.value)
	}
	if mode == bodyEOF || h.close || ex.closeAfter {
		ex.c.close()
	} else {
		ex.p.pool.put(ex.c)
	}
	ex.c = nil
	return nil
}

// checkFirstChunk validates the first chunk-size line when it already sits in
// the read buffer (it usually came with the head), so that a malformed
// chunked body is answered with a clean 502 rather than a truncated 200.
func (ex *exchange) checkFirstChunk() error {
	br := ex.c.br
	buf, _ := br.Peek(br.Buffered())
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return nil
	}
	line := buf[:i+1]
	if _, ok := parseChunkSize(line); !ok || !endsCRLF(line) || len(line) > maxChunkLine {
		return badResponse("chunk size line %q", truncate(string(line)))
	}
	return nil
}

// copyFields adds the backend's end-to-end headers to the client response.
func (ex *exchange) copyFields(hdr http.Header) {
	h := &ex.head
	fields := h.fields()
	vals := make([]string, len(fields))
	for i, f := range fields {
		if skipResponseHeader(f.name) ||
			(f.name == "Content-Length" && (h.chunked || h.status < 200 || h.status == http.StatusNoContent)) ||
			(h.nConn > 0 && h.listedInConnection(f.name)) {
			continue
		}
		if vv := hdr[f.name]; vv != nil {
			hdr[f.name] = append(vv, f.value)
			continue
		}
		vals[i] = f.value
		hdr[f.name] = vals[i : i+1 : i+1]
	}
	// RFC 9111 section 5.4: treat "Pragma: no-cache" as "Cache-Control: no-cache".
	if h.pragmaNoCache && !h.hasCC {
		hdr["Cache-Control"] = []string{"no-cache"}
	}
}

// skipResponseHeader: hop-by-hop headers never relayed (Trailer is, as the announcement).
func skipResponseHeader(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// flush pushes buffered response bytes to the client.
func (ex *exchange) flush() {
	ex.pending = false
	_ = http.NewResponseController(ex.rw).Flush()
}

// peek waits for n buffered bytes, under the exchange's deadlines.
func (ex *exchange) peek(n int) ([]byte, error) {
	br := ex.c.br
	for {
		if br.Buffered() >= n {
			return br.Peek(n)
		}
		if br.Buffered() == 0 && ex.watch != nil {
			if err := ex.idleWait(); err != nil {
				return nil, err
			}
			br = ex.c.br
		}
		ex.armRead()
		b, err := br.Peek(n)
		if err == nil {
			ex.stalledAt = time.Time{}
			return b, nil
		}
		if err = ex.readInterrupted(err); err != nil {
			return b, err
		}
	}
}

// errGoIdle: the read waited long enough to become an idle wait (idleWait),
// which the caller does, with no buffer held.
var errGoIdle = errors.New("proxy: wait idle")

// readNet reads from the network into p (the read buffer is empty).
func (ex *exchange) readNet(p []byte) (int, error) {
	watched := ex.watch != nil
	for {
		ex.armRead()
		n, err := ex.c.br.Read(p)
		if n > 0 || err == nil {
			ex.stalledAt = time.Time{}
			return n, nil
		}
		if err = ex.readInterrupted(err); err != nil {
			return 0, err
		}
		if !watched && ex.watch != nil && ex.c.rc != nil {
			return 0, errGoIdle
		}
	}
}

// armRead prepares the next network read: pending bytes of a streaming response
// are flushed now (the backend paused, so a burst goes out in one write); the
// deadline is the earliest of the head deadline, the read timeout, the pending
// interval flush and, until the client is watched, watchAfter. A read that
// waits longer than watchAfter has the request's context interrupt it
// (armWatch), so an idle stream waits with no deadline and no wake-up.
func (ex *exchange) armRead() {
	if ex.pending && ex.flushMode == flushWhenIdle {
		ex.flush()
	}
	now := time.Now()
	ex.armedAt = now
	var d time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	earliest(ex.headDeadline)
	if ex.pending {
		earliest(ex.flushAt)
	}
	if ex.inBody && ex.p.rdTimeout > 0 {
		since := ex.stalledAt
		if since.IsZero() {
			since = now
		}
		earliest(since.Add(ex.p.rdTimeout))
	}
	if ex.watch == nil && !ex.noWatch {
		if ex.watchAt.IsZero() {
			ex.watchAt = now.Add(watchAfter)
		}
		earliest(ex.watchAt)
	}
	nc := ex.c.nc
	_ = nc.SetReadDeadline(d)
	if ex.watch != nil && ex.watch.fired.Load() {
		// Canceled before our deadline replaced the watch's.
		_ = nc.SetReadDeadline(aLongTimeAgo)
	}
}

// idleWait waits, holding no buffer, until the backend sends something
// (or closes): a long exchange (a stream, a long poll) gives its ~44 KiB of
// buffers back while it waits, and takes a set again for the read. The
// exchange's deadlines and cancellation apply as to a read.
func (ex *exchange) idleWait() error {
	c := ex.c
	if c.rc == nil || c.br.Buffered() > 0 || c.bw.Buffered() > 0 {
		return nil
	}
	if sockpeek.Peek(c.rc) != sockpeek.Empty {
		return nil // data (or the end) is there: read it at once
	}
	for {
		ex.armRead() // flushes what the client is owed first
		if c.bufSet != nil {
			c.releaseBufs()
		}
		err := c.rc.Read(func(fd uintptr) bool { return sockpeek.PeekFD(fd) != sockpeek.Empty })
		if err == nil {
			break
		}
		if err = ex.readInterrupted(err); err != nil {
			c.attachBufs()
			return err
		}
	}
	c.attachBufs()
	return nil
}

// unwatch stops the cancellation watch of the current connection.
func (ex *exchange) unwatch() {
	if w := ex.watch; w != nil {
		w.stop()
		ex.watch = nil
	}
}

// readInterrupted decides what a failed read means: nil to read again (our own
// deadline fired for a flush or to arm the watch), or the error to fail with.
func (ex *exchange) readInterrupted(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if cerr := ex.ctx.Err(); cerr != nil {
		return cerr
	}
	now := time.Now()
	if ex.watch == nil && !ex.noWatch && !now.Before(ex.watchAt) {
		ex.watch = armWatch(ex.ctx, ex.c.nc)
	}
	if !ex.headDeadline.IsZero() && !now.Before(ex.headDeadline) {
		ex.headDeadline = time.Time{}
		return ex.headErr
	}
	if ex.inBody && ex.p.rdTimeout > 0 {
		if ex.stalledAt.IsZero() {
			ex.stalledAt = ex.armedAt
		}
		if now.Sub(ex.stalledAt) >= ex.p.rdTimeout {
			return errReadTimeout
		}
	}
	if ex.pending && !now.Before(ex.flushAt) {
		ex.flush()
	}
	return nil
}

// salvage decides what to do with the connection of an exchange that failed
// because the client went away (its context ended, or writing to it failed):
// when the request was fully written and the rest of the response is small,
// it is read and dropped (drainMaxBytes, drainMaxTime) and the connection goes
// back to the pool. It reports whether the connection was kept; if not, the
// caller closes it. Anything else (a backend error, an ambiguous message, a
// response delimited by close) is never salvaged.
func (ex *exchange) salvage(err error) bool {
	var cw *clientWriteError
	if !ex.reqWritten || ex.closeAfter || ex.readFailed || (!errors.As(err, &cw) && !errors.Is(err, context.Canceled)) {
		return false
	}
	// From here on only the drain budget bounds the waits.
	ex.ctx = context.Background()
	ex.noWatch = true
	ex.pending, ex.flushMode = false, flushNone
	ex.headDeadline, ex.headErr = time.Now().Add(drainMaxTime), errDrainTimeout
	if !ex.inBody {
		// Canceled while waiting for the head: read it, skipping 1xx.
		for i := 0; ; i++ {
			if i == max1xx || ex.readOneHead() != nil {
				return false
			}
			if ex.head.status >= 200 {
				break
			}
			if ex.head.status == http.StatusSwitchingProtocols {
				return false
			}
		}
		ex.body = body{mode: ex.head.framing(ex.r.Method), left: ex.head.contentLength}
	}
	h, b := &ex.head, &ex.body
	if h.close || b.mode == bodyEOF || (b.mode == bodyLength && b.left > drainMaxBytes) {
		return false
	}
	n := 0
	for {
		p, err := ex.nextBody(b)
		n += len(p)
		if n > drainMaxBytes {
			return false
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false
		}
	}
	ex.headDeadline = time.Time{}
	ex.p.pool.put(ex.c)
	return true
}

// fail answers with the status matching err, or aborts a response already started.
func (ex *exchange) fail(err error) {
	if ex.c != nil {
		ex.c.close()
		ex.c = nil
	}
	if ex.sentHeader {
		logError(ex.r, 0, err)
		if ex.readFailed {
			// Abort the client response so a truncated body is not taken for a whole one.
			panic(http.ErrAbortHandler)
		}
		return
	}
	code := statusFor(ex.ctx, err)
	ex.originStatus = code
	logError(ex.r, code, err)
	if retryable(code, err) && retryhook.Failed(ex.r) {
		return // the retry middleware runs the request again
	}
	writeErrorStatus(ex.rw, code)
}

// retryable: a network failure (not a refused request or a client error).
func retryable(code int, err error) bool {
	var se *statusError
	return (code == http.StatusBadGateway || code == http.StatusGatewayTimeout) && !errors.As(err, &se)
}

// statusFor maps a forwarding error to the status answered to the client.
func statusFor(ctx context.Context, err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.code
	}
	if cerr := ctx.Err(); cerr != nil || errors.Is(err, context.Canceled) {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return http.StatusGatewayTimeout
		}
		return StatusClientClosedRequest
	}
	var cb *clientBodyError
	if errors.As(err, &cb) {
		var mb *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(cb.err, &mb):
			return http.StatusRequestEntityTooLarge
		case errors.Is(cb.err, io.ErrUnexpectedEOF), errors.As(cb.err, &ne):
			return StatusClientClosedRequest
		}
		return http.StatusBadRequest
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

func statusText(code int) string {
	if code == StatusClientClosedRequest {
		return "Client Closed Request"
	}
	return http.StatusText(code)
}

func writeErrorStatus(rw http.ResponseWriter, code int) {
	rw.WriteHeader(code)
	_, _ = io.WriteString(rw, statusText(code))
}

// isEventStream reports whether a Content-Type is text/event-stream.
func isEventStream(ct string) bool {
	const es = "text/event-stream"
	if len(ct) < len(es) || !strings.EqualFold(ct[:len(es)], es) {
		return false
	}
	return len(ct) == len(es) || ct[len(es)] == ';' || ct[len(es)] == ' '
}

func expectsContinue(h http.Header) bool {
	for _, v := range h["Expect"] {
		if strings.EqualFold(strings.TrimSpace(v), "100-continue") {
			return true
		}
	}
	return false
}

func upgradeType(h http.Header) string {
	if !headerValuesContainToken(h["Connection"], "upgrade") {
		return ""
	}
	if v := h["Upgrade"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func isGraphicASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
