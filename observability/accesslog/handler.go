// Package accesslog writes one line per HTTP request, in Traefik's
// common (CLF) or JSON format, with Traefik's field names, filters and
// field/header modes.
package accesslog

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/observability/logs"
)

// maxBatch is how many formatted bytes the buffered writer collects
// before one Write.
const maxBatch = 64 << 10

// warnEvery rate-limits the warnings about dropped lines and write errors.
const warnEvery = 10 * time.Second

// requestCount numbers requests process-wide (RequestCount).
var requestCount atomic.Uint64

// Handler is a configured access log. Build it with New, install it with
// Wrap on each entrypoint, Close it at shutdown.
type Handler struct {
	json         bool
	fields       fieldSet
	filters      filters
	addInternals bool
	countBody    bool

	out  io.Writer
	file *logs.ReopenableFile // nil for stdout

	// Buffered mode (bufferingSize > 0).
	ch      chan *LogData
	quit    chan struct{}
	done    chan struct{}
	dropped atomic.Uint64

	writeErrors atomic.Uint64
	// lastWarn (unix nanoseconds) rate-limits the lost-lines warning to one
	// per warnEvery, in both modes; warnedDrops/warnedErrs are the counts
	// last reported.
	lastWarn    atomic.Int64
	warnedDrops atomic.Uint64
	warnedErrs  atomic.Uint64
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error
}

// New builds the access log from cfg and opens its file. Invalid values
// are errors naming the key (e.g. accessLog.filters.statusCodes[0]). With
// bufferingSize > 0 it starts the writer goroutine that Close stops.
func New(cfg *static.AccessLog) (*Handler, error) {
	return newHandler(cfg, nil)
}

// newHandler writes to w when it is not nil (tests), else to the
// configured file or stdout.
func newHandler(cfg *static.AccessLog, w io.Writer) (*Handler, error) {
	if cfg == nil {
		cfg = &static.AccessLog{}
	}
	h := &Handler{addInternals: cfg.AddInternals}
	switch strings.ToLower(strings.TrimSpace(cfg.Format)) {
	case "", "common":
	case "json":
		h.json = true
	default:
		return nil, fmt.Errorf("accessLog.format: unknown format %q (want common or json)", cfg.Format)
	}
	var err error
	if h.fields, err = newFieldSet(cfg.Fields); err != nil {
		return nil, err
	}
	if h.filters, err = newFilters(cfg.Filters); err != nil {
		return nil, err
	}
	if cfg.BufferingSize < 0 {
		return nil, fmt.Errorf("accessLog.bufferingSize: must not be negative")
	}
	h.countBody = h.fields.keep[fRequestContentSize] && h.json

	switch {
	case w != nil:
		h.out = w
	case cfg.FilePath != "":
		f, err := logs.Open(cfg.FilePath)
		if err != nil {
			return nil, fmt.Errorf("accessLog.filePath: %w", err)
		}
		h.out, h.file = f, f
	default:
		h.out = os.Stdout
	}
	h.out = &lineWriter{w: h.out}

	if cfg.BufferingSize > 0 {
		h.ch = make(chan *LogData, cfg.BufferingSize)
		h.quit = make(chan struct{})
		h.done = make(chan struct{})
		go h.writeLoop()
	}
	return h, nil
}

// Wrap returns next wrapped by the access log for one entrypoint. A nil
// Handler returns next unchanged, so callers need no branch.
func (h *Handler) Wrap(entryPoint string, next http.Handler) http.Handler {
	if h == nil {
		return next
	}
	return &wrapper{h: h, entryPoint: entryPoint, next: next}
}

// Dropped is the number of lines dropped because the buffer was full (or
// the handler closed).
func (h *Handler) Dropped() uint64 { return h.dropped.Load() }

// Reopen reopens the log file (SIGUSR1 after logrotate moved it). It is
// a no-op for stdout or a nil Handler.
func (h *Handler) Reopen() error {
	if h == nil || h.file == nil {
		return nil
	}
	return h.file.Reopen()
}

// Close writes the buffered lines, stops the writer and closes the file.
// Lines of requests finishing after Close are dropped. Safe to call twice.
func (h *Handler) Close() error {
	if h == nil {
		return nil
	}
	h.closeOnce.Do(func() {
		h.closed.Store(true)
		if h.quit != nil {
			close(h.quit)
			<-h.done
		}
		if n := h.dropped.Load(); n > 0 {
			slog.Warn("access log: lines dropped because the buffer was full", "dropped", n)
		}
		if h.file != nil {
			h.closeErr = h.file.Close()
		}
	})
	return h.closeErr
}

type wrapper struct {
	h          *Handler
	entryPoint string
	next       http.Handler
}

func (wr *wrapper) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := wr.h
	ld := getData()
	ld.h = h
	ld.entryPoint = wr.entryPoint
	ld.start = time.Now()
	ld.count = requestCount.Add(1)
	ld.method = r.Method
	ld.proto = r.Proto
	ld.host = r.Host
	ld.remoteAddr = r.RemoteAddr
	ld.xff = r.Header.Get("X-Forwarded-For")
	ld.path, ld.rawPath, ld.rawQuery, ld.forceQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.ForceQuery
	if r.URL.User != nil {
		ld.username = r.URL.User.Username()
	}
	ld.tls = r.TLS
	ld.rec.rw = rw

	r2 := r.WithContext(contextWith(r, ld))
	if h.countBody && r.Body != nil && r.Body != http.NoBody && r.ContentLength < 0 {
		ld.body = &countingBody{rc: r.Body}
		r2.Body = ld.body
	}

	completed := false
	defer func() { h.finish(ld, r, r2, completed) }()
	wr.next.ServeHTTP(&ld.rec, r2)
	completed = true
}

// finish runs on the request goroutine once the inner handler is done:
// it settles the status, applies the filters, copies what the line needs
// from the request and response, and hands the LogData to the writer.
func (h *Handler) finish(ld *LogData, r, r2 *http.Request, completed bool) {
	ld.duration = time.Since(ld.start)
	rec := &ld.rec
	ld.status, ld.size, ld.hijacked = rec.status, rec.size, rec.hijacked
	if !rec.wroteHeader {
		switch {
		case r2.Context().Err() != nil:
			ld.status = StatusClientClosedRequest
		case !completed:
			ld.status = http.StatusInternalServerError // panicked before answering
		default:
			ld.status = http.StatusOK // net/http's implicit answer
		}
	}
	switch {
	case ld.body != nil:
		ld.reqSize = ld.body.n.Load()
	case r.ContentLength > 0:
		ld.reqSize = r.ContentLength
	}

	if ld.skip || !h.filters.keep(ld.status, int(ld.retries.Load()), ld.duration) {
		ld.release()
		return
	}
	if h.fields.anyHeader {
		h.captureHeaders(ld, r)
	}
	ld.rec = responseRecorder{} // the writer must not reach the connection
	ld.originHeader = nil
	ld.body = nil

	if h.ch == nil {
		h.writeNow(ld)
		return
	}
	if h.closed.Load() {
		h.dropped.Add(1)
		ld.release()
		return
	}
	select {
	case h.ch <- ld:
	default:
		// Full buffer: a slow disk must not slow requests down.
		h.dropped.Add(1)
		ld.release()
	}
}

// StatusClientClosedRequest is logged for a client that went away
// before an answer (nginx's and Traefik's 499).
const StatusClientClosedRequest = 499

// captureHeaders copies the kept headers' values (string references, no
// copy for single values) before the request's maps go away.
func (h *Handler) captureHeaders(ld *LogData, r *http.Request) {
	fs := &h.fields
	if !h.json {
		// CLF only shows Referer and User-Agent.
		for _, name := range [...]string{"Referer", "User-Agent"} {
			if m := fs.headerMode(name); m != modeDrop {
				if vs := r.Header[name]; len(vs) > 0 {
					ld.headers = appendHeader(ld.headers, RequestHeaderPrefix, name, vs, m)
				}
			}
		}
		return
	}
	ld.headers = h.appendHeaders(ld.headers, RequestHeaderPrefix, r.Header)
	ld.headers = h.appendHeaders(ld.headers, OriginHeaderPrefix, ld.originHeader)
	if !ld.hijacked && ld.rec.rw != nil {
		ld.headers = h.appendHeaders(ld.headers, DownstreamHeaderPrefix, ld.rec.rw.Header())
	}
}

func (h *Handler) appendHeaders(dst []headerValue, prefix string, hdr http.Header) []headerValue {
	for name, vs := range hdr {
		if m := h.fields.headerMode(name); m != modeDrop && len(vs) > 0 {
			dst = appendHeader(dst, prefix, name, vs, m)
		}
	}
	return dst
}

func appendHeader(dst []headerValue, prefix, name string, vs []string, m mode) []headerValue {
	v := Redacted
	if m == modeKeep {
		if len(vs) == 1 {
			v = vs[0]
		} else {
			v = strings.Join(vs, ",")
		}
	}
	return append(dst, headerValue{prefix: prefix, name: name, value: v})
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeNow formats and writes on the request goroutine (no buffering).
func (h *Handler) writeNow(ld *LogData) {
	bp := linePool.Get().(*[]byte)
	b := h.appendLine((*bp)[:0], ld, time.Now())
	ld.release()
	if _, err := h.out.Write(b); err != nil {
		h.writeErrors.Add(1)
		h.warnLost(err)
	}
	if cap(b) <= maxBatch {
		*bp = b
		linePool.Put(bp)
	}
}

// warnLost logs, at most once per warnEvery, how many lines were lost
// (buffer full, write errors) when that changed, with the last write
// error (a full disk: "no space left on device"): as an error when writes
// failed, as a warning when only the buffer overflowed. Requests are served
// whatever happens to their log lines.
func (h *Handler) warnLost(err error) {
	d, e := h.dropped.Load(), h.writeErrors.Load()
	if d == h.warnedDrops.Load() && e == h.warnedErrs.Load() {
		return
	}
	now := time.Now().UnixNano()
	last := h.lastWarn.Load()
	if last != 0 && now-last < int64(warnEvery) || !h.lastWarn.CompareAndSwap(last, now) {
		return
	}
	newErrs := e != h.warnedErrs.Load()
	h.warnedDrops.Store(d)
	h.warnedErrs.Store(e)
	args := []any{"droppedBufferFull", d, "writeErrors", e}
	if err != nil {
		args = append(args, "error", err.Error())
	}
	if newErrs {
		// Writes fail (a full disk): an error, shown at the default level.
		slog.Error("access log: lines lost", args...)
		return
	}
	slog.Warn("access log: lines lost", args...)
}

// lineWriter keeps lines whole across write errors: after a short write
// (a disk that filled up in the middle of a line) the next successful
// write starts on a new line, so the line written when space is back is
// not glued to half of a lost one.
type lineWriter struct {
	w       io.Writer
	mu      sync.Mutex
	partial bool
}

var newline = []byte{'\n'}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partial {
		if _, err := l.w.Write(newline); err != nil {
			return 0, err
		}
		l.partial = false
	}
	n, err := l.w.Write(p)
	if err != nil && n > 0 && n < len(p) {
		l.partial = true
	}
	return n, err
}

// writeLoop is the single writer of buffered mode. It batches lines and
// writes whenever the channel runs empty or the batch is full.
func (h *Handler) writeLoop() {
	defer close(h.done)
	batch := make([]byte, 0, maxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var err error
		if _, err = h.out.Write(batch); err != nil {
			h.writeErrors.Add(1)
		}
		batch = batch[:0]
		h.warnLost(err)
	}
	add := func(ld *LogData) {
		batch = h.appendLine(batch, ld, time.Now())
		ld.release()
		if len(batch) >= maxBatch || len(h.ch) == 0 {
			flush()
		}
	}
	for {
		select {
		case ld := <-h.ch:
			add(ld)
		case <-h.quit:
			for {
				select {
				case ld := <-h.ch:
					add(ld)
				default:
					flush()
					return
				}
			}
		}
	}
}
