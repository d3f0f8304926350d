// Package compress compresses responses with zstd, brotli or gzip, as the
// client accepts and the configuration orders them. Own code: oxy has no
// compressor, and the decision (size threshold, content types, ranges,
// already-encoded bodies) needs the whole response head.
package compress

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

const (
	Gzip   = "gzip"
	Brotli = "br"
	Zstd   = "zstd"

	defaultMinSize = 1024
)

var defaultEncodings = []string{Gzip, Brotli, Zstd}

type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

type config struct {
	encodings []string // server preference order
	def       string   // encoding when the client sends no Accept-Encoding
	minSize   int
	included  []string // media types; empty: all but excluded
	excluded  []string
	pools     map[string]*sync.Pool
}

// Setup validates cfg and returns the wrapper.
func Setup(cfg *dynamic.Compress) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		cfg = &dynamic.Compress{}
	}
	c := &config{minSize: defaultMinSize, pools: map[string]*sync.Pool{}}
	if cfg.MinResponseBodyBytes < 0 {
		return nil, fmt.Errorf("minResponseBodyBytes must not be negative, got %d", cfg.MinResponseBodyBytes)
	}
	if cfg.MinResponseBodyBytes > 0 {
		c.minSize = cfg.MinResponseBodyBytes
	}
	if len(cfg.IncludedContentTypes) > 0 && len(cfg.ExcludedContentTypes) > 0 {
		return nil, errors.New("excludedContentTypes and includedContentTypes are mutually exclusive")
	}
	var err error
	if c.included, err = mediaTypes(cfg.IncludedContentTypes); err != nil {
		return nil, fmt.Errorf("includedContentTypes: %w", err)
	}
	if c.excluded, err = mediaTypes(cfg.ExcludedContentTypes); err != nil {
		return nil, fmt.Errorf("excludedContentTypes: %w", err)
	}
	encs := cfg.Encodings
	if len(encs) == 0 {
		encs = defaultEncodings
	}
	for _, e := range encs {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != Gzip && e != Brotli && e != Zstd {
			return nil, fmt.Errorf("encoding %q is not supported (zstd, br, gzip)", e)
		}
		if !slices.Contains(c.encodings, e) {
			c.encodings = append(c.encodings, e)
		}
	}
	if cfg.DefaultEncoding != "" {
		c.def = strings.ToLower(cfg.DefaultEncoding)
		if !slices.Contains(c.encodings, c.def) {
			return nil, fmt.Errorf("defaultEncoding %q is not in encodings", cfg.DefaultEncoding)
		}
	}
	for _, e := range c.encodings {
		c.pools[e] = &sync.Pool{New: newEncoder(e)}
	}
	return func(next http.Handler) http.Handler { return &handler{next: next, c: c} }, nil
}

func newEncoder(e string) func() any {
	switch e {
	case Gzip:
		return func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }
	case Brotli:
		return func() any { return brotli.NewWriterLevel(io.Discard, brotli.DefaultCompression) }
	default:
		return func() any {
			w, _ := zstd.NewWriter(io.Discard, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
			return zstdEncoder{w}
		}
	}
}

// zstdEncoder adapts Reset's signature.
type zstdEncoder struct{ *zstd.Encoder }

func (z zstdEncoder) Reset(w io.Writer) { z.Encoder.Reset(w) }

func mediaTypes(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		mt, _, err := mime.ParseMediaType(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, mt)
	}
	return out, nil
}

type handler struct {
	next http.Handler
	c    *config
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	enc := ""
	// Never for HEAD (no body), ranges (offsets would be of the encoded
	// body) or upgrades; gRPC does its own framing.
	// Direct map reads: the keys are canonical already, skip re-canonicalizing.
	hd := r.Header
	if r.Method != http.MethodHead && len(hd["Range"]) == 0 && len(hd["Upgrade"]) == 0 &&
		(len(hd["Content-Type"]) == 0 || !strings.HasPrefix(hd["Content-Type"][0], "application/grpc")) {
		enc = h.c.choose(hd["Accept-Encoding"])
	}
	if enc == "" {
		h.next.ServeHTTP(w, r)
		return
	}
	cw := &writer{rw: w, c: h.c, enc: enc}
	defer func() {
		// A handler aborting mid-body (the proxy panics with
		// http.ErrAbortHandler) must not get a well-formed compressed end:
		// the client would take the truncated body for a whole one.
		if p := recover(); p != nil {
			cw.release()
			panic(p)
		}
	}()
	h.next.ServeHTTP(cw, r)
	cw.close()
}

// choose picks the accepted encoding with the highest q, ties going to
// the configured order. No header: the defaultEncoding.
func (c *config) choose(values []string) string {
	if len(values) == 0 {
		return c.def
	}
	best, bestQ, bestRank := "", 0.0, len(c.encodings)
	star := -1.0
	var explicit [3]bool
	for _, v := range values {
		for len(v) > 0 {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(tok, ";")
			name = strings.TrimSpace(name)
			q := 1.0
			if params != "" {
				if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil {
						continue
					}
					q = f
				}
			}
			if name == "*" {
				star = q
				continue
			}
			for i, e := range c.encodings {
				if strings.EqualFold(name, e) {
					explicit[i] = true
					if q > 0 && (q > bestQ || (q == bestQ && i < bestRank)) {
						best, bestQ, bestRank = e, q, i
					}
				}
			}
		}
	}
	if star > 0 {
		// "*" stands for every encoding not named: the default one first.
		for i, e := range c.encodings {
			if explicit[i] {
				continue
			}
			if c.def == e && star >= bestQ {
				return e
			}
			if star > bestQ || (star == bestQ && i < bestRank) {
				best, bestQ, bestRank = e, star, i
			}
		}
	}
	return best
}

// compressible checks the response head; a missing Content-Type is
// checked later, once sniffed from the body (typeOK).
func (c *config) compressible(h http.Header) bool {
	if h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" {
		return false
	}
	ct := h.Get("Content-Type")
	return ct == "" || c.typeOK(ct)
}

func (c *config) typeOK(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	if strings.HasPrefix(mt, "application/grpc") {
		return false
	}
	if len(c.included) == 0 && len(c.excluded) == 0 {
		return true
	}
	if len(c.included) > 0 {
		return slices.Contains(c.included, mt)
	}
	return !slices.Contains(c.excluded, mt)
}

// writer buffers the head of the body until it knows whether to compress.
type writer struct {
	rw      http.ResponseWriter
	c       *config
	enc     string
	status  int
	decided bool
	pass    bool // decided not to compress
	buf     []byte
	e       encoder
}

func (w *writer) Header() http.Header { return w.rw.Header() }

func (w *writer) WriteHeader(code int) {
	if w.decided || w.status != 0 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code)
		return
	}
	w.status = code
	h := w.rw.Header()
	noBody := code == http.StatusNoContent || code == http.StatusNotModified || code == http.StatusSwitchingProtocols || code == http.StatusPartialContent
	small := false
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n < w.c.minSize {
			small = true
		}
	}
	if noBody || small || !w.c.compressible(h) {
		w.passThrough()
	}
}

func (w *writer) passThrough() {
	w.decided, w.pass = true, true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.rw.WriteHeader(w.status)
}

func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.decided {
		if w.pass {
			return w.rw.Write(p)
		}
		return w.e.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.c.minSize {
		if err := w.start(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// start begins compressing: headers first, then the buffered head. A
// response without Content-Type gets the sniffed one, then its type is
// checked against the included/excluded lists.
func (w *writer) start() error {
	h := w.rw.Header()
	if h.Get("Content-Type") == "" {
		ct := http.DetectContentType(w.buf)
		h.Set("Content-Type", ct)
		if !w.c.typeOK(ct) {
			w.passThrough()
			_, err := w.rw.Write(w.buf)
			w.buf = w.buf[:0]
			return err
		}
	}
	w.decided = true
	h.Set("Content-Encoding", w.enc)
	h.Add("Vary", "Accept-Encoding")
	h.Del("Content-Length")
	h.Del("Accept-Ranges")
	w.rw.WriteHeader(w.status)
	w.e = w.c.pools[w.enc].Get().(encoder)
	w.e.Reset(w.rw)
	_, err := w.e.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// flushPending settles an undecided response with what it has: a small
// head goes out as is.
func (w *writer) flushPending() {
	if w.decided {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf) >= w.c.minSize {
		_ = w.start()
		return
	}
	if len(w.buf) > 0 || w.rw.Header().Get("Content-Length") == "" {
		w.rw.Header().Set("Content-Length", strconv.Itoa(len(w.buf)))
	}
	w.passThrough()
	if len(w.buf) > 0 {
		_, _ = w.rw.Write(w.buf)
	}
	w.buf = nil
}

// Flush sends what is buffered: a stream flushed before minResponseBodyBytes
// goes uncompressed (the client is waiting for it).
func (w *writer) Flush() {
	if !w.decided {
		if len(w.buf) >= w.c.minSize {
			_ = w.start()
		} else {
			if w.status == 0 {
				w.status = http.StatusOK
			}
			w.passThrough()
			if len(w.buf) > 0 {
				_, _ = w.rw.Write(w.buf)
			}
			w.buf = nil
		}
	}
	if w.e != nil {
		_ = w.e.Flush()
	}
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *writer) close() {
	if !w.decided {
		if w.status == 0 && len(w.buf) == 0 {
			// The handler wrote nothing: leave the default response to the server.
			return
		}
		w.flushPending()
	}
	if w.e != nil {
		_ = w.e.Close()
	}
	w.release()
}

// release puts the encoder back without finishing the stream.
func (w *writer) release() {
	if w.e != nil {
		w.e.Reset(io.Discard)
		w.c.pools[w.enc].Put(w.e)
		w.e = nil
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines, hijack).
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }
