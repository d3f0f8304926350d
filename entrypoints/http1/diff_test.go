package http1_test

// Differential conformance suite: the same handler is served by net/http's
// server (the reference) and by http1.Server; raw request bytes are written to
// both over loopback TCP and the parsed responses are compared (status, headers
// without Date and without order, body, trailers, whether the connection stays
// usable — checked by a probe request on the same connection).
//
// Documented differences are marked in the table with a `diff:` note.
//
// ENGINE BUGS FOUND by this suite. Open ones are listed first; a case is
// marked `bug:` (skipped) only if still open at the helper's deadline.
//
// Open: none.
//
// Fixed by the lead during the session (11818c3, 5c43d23, e942eac, d95401d,
// 8f42f45, 0f99abb), kept as regression cases:
//  1. TestDiffTLSServeConn/*-fresh-handshake: ServeConn given a *tls.Conn
//     before its handshake hung (the fresh-connection park path Peeked with
//     a past deadline, failing the handshake; r.TLS was taken before it).
//  2. options-star: "OPTIONS * HTTP/1.1" reached the handler; net/http (so
//     Traefik) answers it itself: 200, Content-Length: 0.
//  3. bare-lf-pipelined-crlf, bare-lf-smuggle, bare-lf-chunked*: the head
//     fast path searched "\r\n\r\n" anywhere in the buffer; a head ending
//     in bare "\n\n" swallowed the next request or the chunked body (a
//     hidden request; timing-dependent).
//  4. remote-addr: no http.LocalAddrContextKey in the request context.
//  5. path-sub-delims, path-unsafe-chars: the target fast path did not set
//     URL.RawPath for bytes url.PathEscape escapes, so EscapedPath() (the
//     path httputil.ReverseProxy sends upstream) turned "/a!b" into
//     "/a%21b".
//  6. chunked-ext-flood: no bound on chunk-extension overhead (net/http:
//     16 KiB beyond the data, the CVE-2023-39326 fix).
//  7. chunked-trailer-ctl: trailer values with control bytes accepted.
//  8. chunked-size-leading-space: " 3" accepted as a chunk size.
//  9. chunked-ext-bare-cr (fuzz seed 729f57110acb4769): a bare CR inside a
//     chunk extension ("1;\r\r\n") accepted (fixed in 5c43d23).
//  10. trailer-header-no-body (fuzz seed bbc736ccb2dca2a4): "Trailer" was
//     removed from r.Header even without a chunked body.
//  11. expect-100-extra-word-http10 (fuzz seed cf51c8116fce5279): Expect
//     was not matched as a token like net/http's hasToken ("100-Continue 0"
//     answered 417).
//  12. connect-empty-target (fuzz seed 4738903ad21b7a72): "CONNECT  HTTP/1.1"
//     answered 400 where net/http serves it (now parsed as net/http does).
//  13. resp-late-trailer-big (FuzzDiffResponse seed 920d1203ec3eefa9): an
//     http.TrailerPrefix trailer set after the body was committed as
//     chunked was dropped; net/http collects TrailerPrefix keys when the
//     handler returns and sends them in the last chunk.
//     httputil.ReverseProxy relies on this for trailers the backend did not
//     announce in "Trailer:" (it copies them as TrailerPrefix after the
//     body), so unannounced upstream trailers (e.g. grpc-status on some
//     servers) would be lost.
//  14. resp-head-handler-te (FuzzDiffResponse seed 4a4da031d8f8c729): for
//     HEAD, a handler that set "Transfer-Encoding: chunked" and wrote a body
//     got "Content-Length: <n>" added; the GET answer is chunked, and
//     net/http sends neither on HEAD. Low impact.
//  15. chunked-invalid-size, chunked-missing-crlf, chunked-ext-flood, the
//     other chunked-* framing errors, chunked-1M-unread, rc-read-deadline:
//     when the connection will be closed because of the request body (a
//     framing or read error, or more than 256 KiB left unread), net/http
//     decides it before writing the response head (it drains up to 256 KiB
//     first) and sends "Connection: close"; the engine wrote the head
//     without it, then closed. A client that reuses the connection meanwhile
//     (a keep-alive POST) loses its next request instead of opening a new
//     connection. Seen once resp.Close was compared (http.ReadResponse
//     deletes "Connection: close" from the header map).
//  16. http11-close-space-list, http10-keepalive-space-list (fuzz seed
//     7ed4bffc1efd40e8): Connection options were matched as net/http's
//     hasToken does for Expect (bug 11) only for commas: "Connection: x
//     close" kept the connection where net/http closes (and announces it),
//     "Connection: x keep-alive" on HTTP/1.0 closed where net/http keeps it.
//  And, seen in the first run only: handler trailers dropped or sent as
//  headers, HEAD without the sniffed Content-Type, Content-Type kept on 304,
//  Expect on HTTP/1.0 answered 417, bare LF accepted in chunked framing
//  (CVE-2025-22871 class), "Trailer" left in r.Header, Content-Type sniffed
//  despite a handler-set Transfer-Encoding, header changes after the first
//  Write still sent.
//
// Documented differences (the `diff:` notes in the table, and
// responseFuzzAllowed / fuzzException for the fuzz targets):
//   - requests: the engine refuses a bare LF ending the trailer section and trailer names that are not tokens (net/http accepts both); it accepts
//     BWS before a chunk extension's ';' (RFC 9112 allows it); it trims the
//     whitespace around obs-fold continuations (net/http keeps a trailing
//     space, which can make a Host malformed to it); server-generated error
//     bodies are free text (only the status code is compared); a read
//     timeout may be answered with 408 before the close.
//   - responses: a handler's non-numeric Content-Length or bogus
//     Transfer-Encoding is ignored (net/http chunks, or sends an unparsable
//     response); with both set each server honours a different one; after a
//     Write past the declared Content-Length net/http closes and refuses any
//     later Write, the engine completes and keeps the connection; one
//     "100 Continue" per request however often the handler asks; on HTTP/1.0
//     a handler's "Connection: close" is not repeated (the connection closes
//     anyway); a CRLF in a handler's header value may become one space
//     instead of two (no header is injected either way); a field set as a
//     header and then declared in "Trailer" is sent only as the trailer
//     (net/http sends it in both sections).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/http1"
)

// srv is what both servers offer.
type srv interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

type srvOpts struct {
	handler                                http.Handler
	readTimeout, writeTimeout, idleTimeout time.Duration
	maxHeaderBytes                         int
	parkAfter                              time.Duration // engine only: 0 default, <0 never, >0 after that idle time
}

type running struct {
	name string
	addr string
	srv  srv
	done chan error
	dial func() (net.Conn, error) // nil: plain TCP to addr
}

func (r *running) connect() (net.Conn, error) {
	if r.dial != nil {
		return r.dial()
	}
	return net.DialTimeout("tcp", r.addr, 5*time.Second)
}

func newRef(o srvOpts) srv {
	return &http.Server{
		Handler:        o.handler,
		ReadTimeout:    o.readTimeout,
		WriteTimeout:   o.writeTimeout,
		IdleTimeout:    o.idleTimeout,
		MaxHeaderBytes: o.maxHeaderBytes,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
}

func newEng(o srvOpts) srv {
	return &http1.Server{
		Handler:        o.handler,
		ReadTimeout:    o.readTimeout,
		WriteTimeout:   o.writeTimeout,
		IdleTimeout:    o.idleTimeout,
		MaxHeaderBytes: o.maxHeaderBytes,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		ParkAfter:      o.parkAfter,
	}
}

func start(tb testing.TB, name string, s srv) *running {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	r := &running{name: name, addr: l.Addr().String(), srv: s, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(l) }()
	return r
}

// startBoth starts a reference and an engine server with the same options;
// both are closed when tb ends.
func startBoth(tb testing.TB, o srvOpts) (ref, eng *running) {
	tb.Helper()
	ref = start(tb, "net/http", newRef(o))
	eng = start(tb, "http1", newEng(o))
	tb.Cleanup(func() {
		_ = ref.srv.Close()
		_ = eng.srv.Close()
	})
	return ref, eng
}

// ---------------------------------------------------------------- handlers

// echo writes the request fields a proxy cares about, one per line.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var b strings.Builder
	fmt.Fprintf(&b, "method=%s\n", r.Method)
	fmt.Fprintf(&b, "path=%q\nrawpath=%q\nrawquery=%q\nrequesturi=%q\n", r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.RequestURI)
	fmt.Fprintf(&b, "urlscheme=%q urlhost=%q opaque=%q fragment=%q\n", r.URL.Scheme, r.URL.Host, r.URL.Opaque, r.URL.Fragment)
	fmt.Fprintf(&b, "host=%q\nproto=%s %d.%d\n", r.Host, r.Proto, r.ProtoMajor, r.ProtoMinor)
	fmt.Fprintf(&b, "cl=%d\nte=%q\nclose=%v\nnobody=%v\n", r.ContentLength, r.TransferEncoding, r.Close, r.Body == http.NoBody)
	if r.TLS != nil {
		fmt.Fprintf(&b, "tls=%x sni=%q alpn=%q\n", r.TLS.Version, r.TLS.ServerName, r.TLS.NegotiatedProtocol)
	}
	writeHeader(&b, "h", r.Header)
	fmt.Fprintf(&b, "body=%q\n", body)
	if err != nil {
		// The error text is the engine's own; only its presence is compared.
		fmt.Fprintf(&b, "bodyerr=true\n")
	}
	writeHeader(&b, "t", r.Trailer)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
	}
	io.WriteString(w, b.String())
}

func writeHeader(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s:%s=%q\n", prefix, k, h[k])
	}
}

var big64k = strings.Repeat("0123456789abcdef", 4096)

// crcW discards; a stand-in for a body consumer.
var crcW = io.Discard

// testHandler dispatches on /x/<name>; everything else is echo.
func testHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, arg, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/x/"), "/")
		if !strings.HasPrefix(r.URL.Path, "/x/") {
			name = ""
		}
		switch name {
		case "nobody": // never reads the request body
			io.WriteString(w, "ok")
		case "sniff":
			io.WriteString(w, "<html><body>hi</body></html>")
		case "ctnil":
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html><body>hi</body></html>")
		case "empty":
		case "big":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, big64k)
		case "shortcl":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "hello")
		case "longcl":
			w.Header().Set("Content-Length", "3")
			_, err := io.WriteString(w, "hello")
			w.Header().Set("X-Err", strconv.FormatBool(err != nil)) // too late to be seen; harmless
		case "status":
			code, _ := strconv.Atoi(arg)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(code)
			_, err := io.WriteString(w, "body")
			_ = err
		case "early":
			w.Header().Set("Link", "</s.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Final", "1")
			io.WriteString(w, "final")
		case "flush":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "b")
		case "trailer":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Trailer", "X-Declared")
			io.WriteString(w, "body")
			w.Header().Set("X-Declared", "d")
			w.Header().Set(http.TrailerPrefix+"X-Late", "l")
		case "close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "crlf":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Inject", "a\r\nX-Evil: 1")
			w.Header().Set("X-Lf", "b\nX-Evil2: 2")
			io.WriteString(w, "ok")
		case "panic":
			panic("boom")
		case "panicafter":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic("boom")
		case "abort":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case "abortearly":
			panic(http.ErrAbortHandler)
		case "hijack":
			hj, ok := w.(http.Hijacker)
			if !ok {
				http.Error(w, "no hijack", http.StatusNotImplemented)
				return
			}
			c, bufrw, err := hj.Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer c.Close()
			n, _ := strconv.Atoi(arg)
			extra := make([]byte, n)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadFull(bufrw, extra)
			fmt.Fprintf(bufrw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\nX-Err: %v\r\n\r\n%s", len(extra), err != nil, extra)
			bufrw.Flush()
		case "rcflush":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "a")
			err := http.NewResponseController(w).Flush()
			fmt.Fprintf(w, "flusherr=%v", err)
		case "deadlines":
			rc := http.NewResponseController(w)
			e1 := rc.SetReadDeadline(time.Now().Add(time.Minute))
			e2 := rc.SetWriteDeadline(time.Now().Add(time.Minute))
			e3 := rc.SetReadDeadline(time.Time{})
			e4 := rc.SetWriteDeadline(time.Time{})
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "read=%v write=%v clearread=%v clearwrite=%v", e1, e2, e3, e4)
		case "fullduplex":
			err := http.NewResponseController(w).EnableFullDuplex()
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "fullduplex=%v\n", err)
			http.NewResponseController(w).Flush()
			b, err := io.ReadAll(r.Body)
			fmt.Fprintf(w, "body=%q err=%v", b, err)
		case "setcl": // explicit Content-Length matching the body
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "multi": // several values, set-cookie style
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.Header().Add("X-Multi", "1")
			w.Header().Add("X-Multi", "2")
			io.WriteString(w, "ok")
		case "doublewh":
			w.WriteHeader(201)
			w.WriteHeader(202) // superfluous; ignored
			io.WriteString(w, "ok")
		case "te":
			w.Header().Set("Transfer-Encoding", "chunked")
			io.WriteString(w, "handler-set-te")
		case "count": // reads the whole body, reports its size and checksum
			n, err := io.Copy(crcW, r.Body)
			fmt.Fprintf(w, "n=%d err=%v", n, err != nil)
		case "bigcl":
			w.Header().Set("Content-Length", strconv.Itoa(len(big64k)))
			io.WriteString(w, big64k)
		case "badkey": // invalid header names and values set by the handler
			w.Header()["Bad Key"] = []string{"v"}
			w.Header()["X-Ok"] = []string{"ok"}
			io.WriteString(w, "ok")
		case "size": // one write of n bytes
			n, _ := strconv.Atoi(arg)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, big64k[:n])
		case "sizes": // n bytes in writes of 100
			n, _ := strconv.Atoi(arg)
			w.Header().Set("Content-Type", "text/plain")
			for i := 0; i < n; i += 100 {
				io.WriteString(w, big64k[i:min(i+100, n)])
			}
		case "flushempty": // headers flushed, no body
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
		case "remote": // connection facts the handler can see
			host, port, err := net.SplitHostPort(r.RemoteAddr)
			la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			lnet := ""
			if ok {
				lnet = la.Network()
			}
			fmt.Fprintf(w, "host=%s port=%v err=%v localaddr=%v/%s", host, port != "", err, ok, lnet)
		case "ctx": // asks for Done (a watcher may start), then answers
			d := r.Context().Done()
			b, _ := io.ReadAll(r.Body)
			wait, _ := time.ParseDuration(arg)
			state := "live"
			select {
			case <-d:
				state = "canceled"
			case <-time.After(wait):
			}
			fmt.Fprintf(w, "ctx=%s err=%v body=%q", state, r.Context().Err(), b)
		case "panicwh": // head written (not flushed), then a panic
			w.Header().Set("X-A", "1")
			w.WriteHeader(200)
			if arg == "abort" {
				panic(http.ErrAbortHandler)
			}
			panic("after WriteHeader")
		case "hijackwh": // hijack after WriteHeader
			w.Header().Set("X-A", "1")
			w.WriteHeader(200)
			c, bufrw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				fmt.Fprintf(w, "hijack error: %v", err)
				return
			}
			bufrw.WriteString("raw-bytes")
			bufrw.Flush()
			c.Close()
		case "cl204":
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(204)
		case "badcl":
			w.Header().Set("Content-Length", "abc")
			io.WriteString(w, "hello")
		case "dupcl":
			w.Header()["Content-Length"] = []string{"5", "5"}
			io.WriteString(w, "hello")
		case "trailernobody":
			w.Header().Set("Trailer", "X-T")
			w.WriteHeader(200)
			w.Header().Set("X-T", "v")
		case "ce": // Content-Encoding set: net/http does not sniff
			w.Header().Set("Content-Encoding", "identity")
			io.WriteString(w, "<html>hi</html>")
		case "rdl": // a short read deadline on a body that never comes
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := io.ReadAll(r.Body)
			fmt.Fprintf(w, "readerr=%v", err != nil)
		case "wdl": // a write deadline already passed
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(-time.Second))
			w.Write([]byte(big64k))
		case "latetrailer": // TrailerPrefix trailer set after the body
			n, _ := strconv.Atoi(arg)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, big64k[:n])
			w.Header().Set(http.TrailerPrefix+"X-Late", "late")
		case "cloverflow": // a write past Content-Length fails, a later fitting one
			w.Header().Set("Content-Length", arg)
			_, err1 := io.WriteString(w, "hello")
			_, err2 := io.WriteString(w, "hi")
			w.Header().Set("X-Errs", fmt.Sprint(err1 != nil, err2 != nil)) // not sent
		case "headertrailer": // a header, then declared as a trailer
			w.Header().Set("X-T", "early")
			w.Header().Set("Trailer", "X-T")
			io.WriteString(w, "body")
			w.Header().Set("X-T", "late")
		case "readhalf": // reads 3 bytes of the body, answers, leaves the rest
			b := make([]byte, 3)
			n, _ := io.ReadFull(r.Body, b)
			fmt.Fprintf(w, "read=%q", b[:n])
		default:
			echo(w, r)
		}
	})
}

// ---------------------------------------------------------------- exchange

type resp struct {
	Code    int
	Proto   string
	Header  map[string]string
	TE      string
	CL      int64
	Body    string
	BodyErr bool
	Trailer map[string]string
	Close   bool   // the response announces the close ("Connection: close" or HTTP/1.0 without keep-alive)
	Status  string // full status text; informative only
}

type result struct {
	Resps  []resp
	Closed bool   // the connection could not carry the probe request
	Err    string // transport-level surprise: timeout, extra response, parse error
}

func (r result) String() string {
	var b strings.Builder
	for i, x := range r.Resps {
		fmt.Fprintf(&b, "  #%d %s %q te=%s cl=%d close=%v\n", i, x.Proto, x.Status, x.TE, x.CL, x.Close)
		keys := make([]string, 0, len(x.Header))
		for k := range x.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "     %s: %s\n", k, x.Header[k])
		}
		body := x.Body
		if len(body) > 600 {
			body = body[:300] + fmt.Sprintf("...(%d bytes)...", len(body)) + body[len(body)-100:]
		}
		fmt.Fprintf(&b, "     body=%q bodyerr=%v trailer=%v\n", body, x.BodyErr, x.Trailer)
	}
	fmt.Fprintf(&b, "  closed=%v err=%q", r.Closed, r.Err)
	return b.String()
}

func normHeader(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if k == "Date" {
			continue
		}
		m[k] = strings.Join(v, " | ")
	}
	return m
}

const probeReq = "GET /probe HTTP/1.1\r\nHost: probe\r\n\r\n"

func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// exchange sends c.req to addr, reads c.n final responses (and any 1xx), then
// sends a probe request to learn whether the connection is still usable.
func exchange(s *running, c *tcase) result {
	var res result
	conn, err := s.connect()
	if err != nil {
		res.Err = "dial: " + err.Error()
		return res
	}
	defer conn.Close()
	wait := c.wait
	if wait == 0 {
		wait = 5 * time.Second
	}
	_ = conn.SetDeadline(time.Now().Add(wait))
	go func() { // large bodies may block until the server reads
		if !c.dribble {
			_, _ = conn.Write([]byte(c.req))
			return
		}
		for i := range len(c.req) { // one segment per byte (TCP_NODELAY)
			if _, err := conn.Write([]byte{c.req[i]}); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	n := c.n
	if n == 0 {
		n = 1
	}
	methods := c.methods
	if methods == nil {
		m, _, _ := strings.Cut(c.req, " ")
		methods = []string{m}
	}
	sentBody := false
	for finals := 0; finals < n; {
		method := methods[min(finals, len(methods)-1)]
		hr, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			if isClosedErr(err) {
				res.Closed = true
			} else if isTimeout(err) {
				res.Err = "timeout waiting for response"
			} else {
				res.Err = "parse: " + err.Error()
			}
			return res
		}
		body, berr := io.ReadAll(hr.Body)
		r := resp{
			Code: hr.StatusCode, Proto: hr.Proto, Header: normHeader(hr.Header),
			TE: strings.Join(hr.TransferEncoding, ","), CL: hr.ContentLength,
			Body: string(body), BodyErr: berr != nil, Status: hr.Status, Close: hr.Close,
		}
		if len(hr.Trailer) > 0 {
			r.Trailer = normHeader(hr.Trailer)
		}
		res.Resps = append(res.Resps, r)
		if berr != nil {
			if isTimeout(berr) {
				res.Err = "timeout reading body"
			} else {
				res.Closed = true
			}
			return res
		}
		if hr.StatusCode >= 200 || hr.StatusCode == 101 {
			finals++
			// A body delimited by the end of the connection.
			if hr.ContentLength < 0 && len(hr.TransferEncoding) == 0 && method != "HEAD" && bodyAllowed(hr.StatusCode) {
				res.Closed = true
				return res
			}
		} else if hr.StatusCode == 100 && c.body100 != "" && !sentBody {
			sentBody = true
			if _, err := conn.Write([]byte(c.body100)); err != nil {
				res.Closed = true
				return res
			}
		}
	}
	if c.noProbe {
		return res
	}
	time.Sleep(c.pause)
	// Probe: is the connection still usable for one more request?
	if _, err := conn.Write([]byte(probeReq)); err != nil {
		res.Closed = true
		return res
	}
	hr, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		if isClosedErr(err) {
			res.Closed = true
		} else if isTimeout(err) {
			res.Err = "timeout waiting for probe response"
		} else {
			res.Err = "probe parse: " + err.Error()
		}
		return res
	}
	body, _ := io.ReadAll(hr.Body)
	if !bytes.Contains(body, []byte(`path="/probe"`)) {
		res.Err = fmt.Sprintf("extra response before probe: %d %q", hr.StatusCode, trunc(string(body), 200))
	}
	return res
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func bodyAllowed(code int) bool {
	return (code < 100 || code > 199) && code != 204 && code != 304
}

// ---------------------------------------------------------------- comparison

type cmpMode int

const (
	cmpExact cmpMode = iota // everything except Date, status text, header order
	cmpClass                // status class of every response and closed only
	cmpCode                 // exact status codes and closed only
)

type tcase struct {
	name    string
	req     string
	n       int      // final responses expected (default 1)
	methods []string // request method per response (default: first word of req)
	body100 string   // sent after a 100 Continue arrives
	noProbe bool
	wait    time.Duration
	dribble bool          // write the request one byte per segment
	pause   time.Duration // idle time before the probe request

	want int // expected reference status of the last response (sanity check of the test itself); 0 = any

	mode       cmpMode
	ignoreHdrs []string // response headers not compared
	ignoreBody bool
	allow      func(ref, eng result) bool // further accepted difference
	diff       string                     // documented difference (why the mode/allow is relaxed)
	bug        string                     // engine bug still open: the case is skipped
}

// serverGenerated reports whether a response came from the server itself
// (not from a handler): its body is free text, only the code matters.
func serverGenerated(r resp) bool {
	return r.Code >= 400 && !strings.HasPrefix(r.Body, "method=") && r.Header["X-Handler"] == ""
}

func compare(c *tcase, ref, eng result) string {
	var out []string
	if ref.Err != "" || eng.Err != "" {
		if ref.Err != eng.Err {
			out = append(out, fmt.Sprintf("err: ref=%q eng=%q", ref.Err, eng.Err))
		}
	}
	if ref.Closed != eng.Closed {
		out = append(out, fmt.Sprintf("closed: ref=%v eng=%v", ref.Closed, eng.Closed))
	}
	if len(ref.Resps) != len(eng.Resps) {
		out = append(out, fmt.Sprintf("responses: ref=%d eng=%d", len(ref.Resps), len(eng.Resps)))
		return strings.Join(out, "; ")
	}
	for i := range ref.Resps {
		a, b := ref.Resps[i], eng.Resps[i]
		switch {
		case c.mode == cmpClass:
			if a.Code/100 != b.Code/100 {
				out = append(out, fmt.Sprintf("#%d code class: ref=%d eng=%d", i, a.Code, b.Code))
			}
			continue
		case c.mode == cmpCode || serverGenerated(a):
			if a.Code != b.Code {
				out = append(out, fmt.Sprintf("#%d code: ref=%d eng=%d", i, a.Code, b.Code))
			}
			continue
		}
		if a.Code != b.Code {
			out = append(out, fmt.Sprintf("#%d code: ref=%d eng=%d", i, a.Code, b.Code))
		}
		if a.Proto != b.Proto {
			out = append(out, fmt.Sprintf("#%d proto: ref=%s eng=%s", i, a.Proto, b.Proto))
		}
		if a.Close != b.Close {
			out = append(out, fmt.Sprintf("#%d announces close: ref=%v eng=%v", i, a.Close, b.Close))
		}
		if a.TE != b.TE {
			out = append(out, fmt.Sprintf("#%d transfer-encoding: ref=%q eng=%q", i, a.TE, b.TE))
		}
		if a.CL != b.CL {
			out = append(out, fmt.Sprintf("#%d content-length: ref=%d eng=%d", i, a.CL, b.CL))
		}
		if d := diffMap(a.Header, b.Header, c.ignoreHdrs); d != "" {
			out = append(out, fmt.Sprintf("#%d header: %s", i, d))
		}
		if !c.ignoreBody {
			if a.Body != b.Body {
				out = append(out, fmt.Sprintf("#%d body differs", i))
			}
			if a.BodyErr != b.BodyErr {
				out = append(out, fmt.Sprintf("#%d body error: ref=%v eng=%v", i, a.BodyErr, b.BodyErr))
			}
		}
		if d := diffMap(a.Trailer, b.Trailer, nil); d != "" {
			out = append(out, fmt.Sprintf("#%d trailer: %s", i, d))
		}
	}
	return strings.Join(out, "; ")
}

func diffMap(a, b map[string]string, ignore []string) string {
	var out []string
	skip := func(k string) bool {
		for _, i := range ignore {
			if strings.EqualFold(i, k) {
				return true
			}
		}
		return false
	}
	for k, v := range a {
		if skip(k) {
			continue
		}
		if w, ok := b[k]; !ok {
			out = append(out, fmt.Sprintf("-%s: %s", k, v))
		} else if w != v {
			out = append(out, fmt.Sprintf("~%s: ref=%q eng=%q", k, v, w))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok && !skip(k) {
			out = append(out, fmt.Sprintf("+%s: %s", k, v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// ---------------------------------------------------------------- cases

const h = "Host: example.com\r\n"

func get(target string) string { return "GET " + target + " HTTP/1.1\r\n" + h + "\r\n" }

func post(path, extraHeaders, body string) string {
	return "POST " + path + " HTTP/1.1\r\n" + h + extraHeaders + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func chunked(path, extraHeaders, wire string) string {
	return "POST " + path + " HTTP/1.1\r\n" + h + extraHeaders + "Transfer-Encoding: chunked\r\n\r\n" + wire
}

var (
	hdr2M   = "X-Big: " + strings.Repeat("a", 2<<20) + "\r\n"
	body1M  = strings.Repeat("b", 1<<20)
	uri8k   = "/" + strings.Repeat("u", 8<<10)
	uri2M   = "/" + strings.Repeat("u", 2<<20)
	hdr16k  = "X-Big: " + strings.Repeat("a", 16<<10) + "\r\n"
	hdr2k   = "X-Small: " + strings.Repeat("a", 2<<10) + "\r\n"
	many100 = func() string {
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "X-H%d: v%d\r\n", i, i)
		}
		return b.String()
	}()
)

func mainCases() []tcase {
	cs := []tcase{
		// ---- methods, request targets
		{name: "get", req: get("/echo"), want: 200},
		{name: "get-query", req: get("/p?a=1&b=%20x&c&d=é"), want: 200},
		{name: "head-echo", req: "HEAD /echo HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "post-cl", req: post("/echo", "", "hello"), want: 200},
		{name: "put-cl", req: "PUT /echo HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabc", want: 200},
		{name: "delete-no-body", req: "DELETE /echo HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "post-no-length", req: "POST /echo HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "options-star", req: "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "options-path", req: "OPTIONS /p HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "method-lowercase", req: "get /p HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "method-custom", req: "PURGE /p HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "method-invalid-char", req: "G(T /p HTTP/1.1\r\n" + h + "\r\n", want: 400},
		{name: "absolute-form", req: "GET http://other.example:8080/p?q=1 HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "absolute-form-https", req: "GET https://other.example/p HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "absolute-form-no-host-header", req: "GET http://other.example/p HTTP/1.1\r\n\r\n", want: 400},
		{name: "connect-authority", req: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", noProbe: true, want: 200},
		{name: "connect-path", req: "CONNECT /p HTTP/1.1\r\n" + h + "\r\n", noProbe: true},
		{name: "pct-path", req: get("/a%2Fb/c%20d/%41"), want: 200},
		{name: "pct-invalid", req: get("/a%zz"), want: 400},
		{name: "path-sub-delims", req: get("/a!b'c(d)e*f[g]h?q=!'()*"), want: 200},
		{name: "path-unsafe-chars", req: get("/a\"b<c>d\\e^f`g{h|i}j"), want: 200},
		{name: "path-plain", req: get("/a-b_c.d~e$f&g+h,i/j:k;l=m@n"), want: 200},
		{name: "dot-segments", req: get("/a/../b/./c"), want: 200},
		{name: "fragment", req: get("/p?q#frag"), want: 200},
		{name: "double-slash", req: get("//p//q"), want: 200},
		{name: "target-no-slash", req: get("p"), want: 400},
		{name: "target-star-get", req: get("*")},
		{name: "uri-8k", req: get(uri8k), want: 200},
		{name: "uri-2M", req: get(uri2M), want: 431},
		{name: "host-port-upper", req: "GET / HTTP/1.1\r\nHost: EXAMPLE.com:8080\r\n\r\n", want: 200},
		{name: "host-ipv6", req: "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", want: 200},
		{name: "host-empty", req: "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
		{name: "host-missing-11", req: "GET / HTTP/1.1\r\n\r\n", want: 400},
		{name: "host-missing-10", req: "GET / HTTP/1.0\r\n\r\n", want: 200},
		{name: "host-twice", req: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: 400},
		{name: "host-invalid", req: "GET / HTTP/1.1\r\nHost: exa<mple\r\n\r\n", want: 400},
		{name: "host-userinfo", req: "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n"},
		{name: "host-port-only", req: "GET / HTTP/1.1\r\nHost: :80\r\n\r\n"},
		{name: "host-utf8", req: "GET / HTTP/1.1\r\nHost: exämple.com\r\n\r\n"},
		{name: "expect-100-body-sent-anyway", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", want: 200},
		{name: "expect-100-noread-body-sent", req: "POST /x/nobody HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", want: 200},
		{name: "host-space", req: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", want: 400},

		// ---- connection management
		{name: "http10", req: "GET /p HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "http10-keepalive", req: "GET /p HTTP/1.0\r\n" + h + "Connection: keep-alive\r\n\r\n", want: 200},
		{name: "http10-post-keepalive", req: "POST /p HTTP/1.0\r\n" + h + "Connection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", want: 200},
		{name: "http10-keepalive-second-line", req: "GET /p HTTP/1.0\r\n" + h + "Connection: x\r\nConnection: keep-alive\r\n\r\n", want: 200},
		{name: "http10-keepalive-space-list", req: "GET /p HTTP/1.0\r\n" + h + "Connection: x keep-alive\r\n\r\n", want: 200},
		{name: "http11-close-space-list", req: "GET /p HTTP/1.1\r\n" + h + "Connection: x close\r\n\r\n", want: 200},
		{name: "http11-close", req: "GET /p HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n", want: 200},
		{name: "http11-close-token-list", req: "GET /p HTTP/1.1\r\n" + h + "Connection: keep-alive, Close\r\n\r\n", want: 200},
		{name: "pipelined-2", req: get("/one") + get("/two"), n: 2, want: 200},
		{name: "pipelined-3-mixed", req: "HEAD /one HTTP/1.1\r\n" + h + "\r\n" + post("/two", "", "xyz") + get("/three"), n: 3, methods: []string{"HEAD", "POST", "GET"}, want: 200},
		{name: "pipelined-second-bad", req: get("/one") + "BROKEN\r\n\r\n", n: 2, want: 400},
		{name: "pipelined-after-close", req: "GET /one HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n" + get("/two"), n: 2, want: 200},
		{name: "leading-crlf", req: "\r\n" + get("/p"), methods: []string{"GET"},
			diff:  "RFC 9112 §2.2: a server SHOULD ignore empty lines before the request-line; net/http answers 400 unless the previous request was a POST",
			allow: engineAnswered(200, "/p")},
		{name: "leading-crlf-after-post", req: post("/a", "", "x") + "\r\n" + get("/b"), n: 2, methods: []string{"POST", "GET"}},

		// ---- request bodies
		{name: "cl-zero", req: post("/echo", "", ""), want: 200},
		{name: "cl-spaces", req: "POST / HTTP/1.1\r\n" + h + "Content-Length:  5 \r\n\r\nhello", want: 200},
		{name: "cl-dup-same", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", want: 200},
		{name: "cl-dup-differ", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", want: 400},
		{name: "cl-list", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 5\r\n\r\nhello", want: 400},
		{name: "cl-negative", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", want: 400},
		{name: "cl-plus", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\nhello", want: 400},
		{name: "cl-hex", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x5\r\n\r\nhello", want: 400},
		{name: "cl-overflow", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n", want: 400},
		{name: "cl-empty", req: "POST / HTTP/1.1\r\n" + h + "Content-Length:\r\n\r\n"},
		{name: "chunked", req: chunked("/echo", "", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), want: 200},
		{name: "chunked-ext", req: chunked("/echo", "", "5;name=val;x\r\nhello\r\n0;last\r\n\r\n"), want: 200},
		{name: "chunked-upper-hex", req: chunked("/echo", "", "A\r\n0123456789\r\n0\r\n\r\n"), want: 200},
		{name: "chunked-trailer-declared", req: chunked("/echo", "Trailer: X-T\r\n", "3\r\nabc\r\n0\r\nX-T: v\r\n\r\n"), want: 200},
		{name: "chunked-trailer-undeclared", req: chunked("/echo", "", "3\r\nabc\r\n0\r\nX-U: v\r\nX-W: w\r\n\r\n"), want: 200},
		{name: "chunked-invalid-size", req: chunked("/echo", "", "zz\r\nhello\r\n0\r\n\r\n"), want: 400},
		{name: "chunked-size-overflow", req: chunked("/echo", "", "fffffffffffffffff\r\nhello\r\n0\r\n\r\n"), want: 400},
		{name: "chunked-missing-crlf", req: chunked("/echo", "", "5\r\nhelloX0\r\n\r\n"), want: 400},
		{name: "chunked-ext-flood", req: chunked("/echo", "", strings.Repeat("1;e="+strings.Repeat("a", 3000)+"\r\nx\r\n", 10)+"0\r\n\r\n"), want: 400},
		{name: "chunked-ext-moderate", req: chunked("/echo", "", strings.Repeat("1;e="+strings.Repeat("a", 100)+"\r\nx\r\n", 10)+"0\r\n\r\n"), want: 200},
		{name: "chunked-size-leading-space", req: chunked("/echo", "", " 3\r\nabc\r\n0\r\n\r\n")},
		{name: "chunked-size-trailing-space", req: chunked("/echo", "", "3 \r\nabc\r\n0\r\n\r\n")},
		{name: "chunked-size-tab-ext", req: chunked("/echo", "", "3\t;x=y\r\nabc\r\n0\r\n\r\n"),
			diff: "RFC 9112 §7.1.1 allows BWS before ';' (chunk-ext); net/http rejects it", allow: engineAnswered(200, "/echo")},
		{name: "chunked-size-16-digits", req: chunked("/echo", "", "0000000000000003\r\nabc\r\n0\r\n\r\n")},
		{name: "chunked-size-negative", req: chunked("/echo", "", "-3\r\nabc\r\n0\r\n\r\n"), want: 400},
		{name: "chunked-trailer-ctl", req: chunked("/echo", "", "3\r\nabc\r\n0\r\nX-T: a\x01b\r\n\r\n")},
		{name: "chunked-trailer-bad-name", req: chunked("/echo", "", "3\r\nabc\r\n0\r\nX T: v\r\n\r\n"),
			diff: "net/http accepts a trailer name with a space (key \"X T\"); the engine refuses the body", allow: engineRejected(400)},
		{name: "chunked-trailer-forbidden-declared", req: chunked("/echo", "Trailer: Content-Length\r\n", "3\r\nabc\r\n0\r\nContent-Length: 9\r\n\r\n")},
		{name: "chunked-trailer-host", req: chunked("/echo", "", "3\r\nabc\r\n0\r\nHost: evil\r\nTransfer-Encoding: x\r\n\r\n")},
		{name: "chunked-data-too-long", req: chunked("/echo", "", "3\r\nabcd\r\n0\r\n\r\n"), want: 400},
		{name: "chunked-trailer-end-bare-lf", req: chunked("/echo", "", "3\r\nabc\r\n0\r\n\n") + get("/next"), n: 2,
			diff: "net/http ends the trailer section at a bare LF; the engine requires CRLF throughout chunked framing (stricter)", allow: engineRejected(400)},
		{name: "trailer-header-no-body", req: "GET /echo HTTP/1.1\r\n" + h + "Trailer: X-T\r\n\r\n", want: 200},
		{name: "trailer-header-with-cl", req: post("/echo", "Trailer: X-T\r\n", "abc"), want: 200},
		{name: "chunked-ext-bare-cr", req: chunked("/echo", "", "1;\r\r\nx\r\n0\r\n\r\n"), want: 400},
		{name: "chunked-ext-ctl", req: chunked("/echo", "", "1;a=\x01\r\nx\r\n0\r\n\r\n")},
		{name: "chunked-ext-quoted", req: chunked("/echo", "", "1;a=\"b c\"\r\nx\r\n0\r\n\r\n")},
		{name: "chunked-ext-lf-inside", req: chunked("/echo", "", "1;a=\"b\nc\"\r\nx\r\n0\r\n\r\n")},
		{name: "chunked-size-cr-only", req: chunked("/echo", "", "1\rx\r\n0\r\n\r\n")},
		{name: "chunked-bare-lf", req: chunked("/echo", "", "5\nhello\n0\n\n"), want: 400},
		{name: "chunked-te-case", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", want: 200},
		{name: "chunked-and-cl", req: "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			diff: clTEClose, allow: engineClosedAfter},
		{name: "chunked-and-cl-smuggle", req: "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n" + h + "\r\n",
			diff: clTEClose, allow: engineClosedAfter},
		{name: "chunked-and-cl-first", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			diff: clTEClose, allow: engineClosedAfter},
		{name: "te-gzip-chunked", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", want: 501},
		{name: "te-chunked-twice", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{name: "te-unknown", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: foo\r\n\r\nabc", want: 501},
		{name: "te-identity", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc"},
		{name: "te-http10", req: "POST /echo HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"},
		{name: "te-http10-keepalive", req: "POST /echo HTTP/1.0\r\n" + h + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
			diff: "RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing; the server MUST close after responding. net/http keeps an HTTP/1.0 keep-alive connection open", allow: engineClosedAfter},
		{name: "body-unread-small", req: post("/x/nobody", "", "0123456789"), want: 200},
		{name: "body-unread-small-chunked", req: chunked("/x/nobody", "", "5\r\nhello\r\n0\r\n\r\n"), want: 200},
		{name: "body-unread-1M", req: post("/x/nobody", "", body1M), want: 200},
		{name: "body-partly-read", req: post("/x/readhalf", "", "abcdefgh"), want: 200},
		{name: "expect-100-read", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", body100: "hello", want: 200},
		{name: "expect-100-noread", req: "POST /x/nobody HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", body100: "hello", want: 200},
		{name: "expect-100-cl0", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 0\r\n\r\n", want: 200},
		{name: "expect-100-token-list", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue, foo\r\nContent-Length: 5\r\n\r\n", body100: "hello", want: 200},
		{name: "expect-100-extra-word-http10", req: "GET /echo HTTP/1.0\r\nExpect: 100-Continue 0\r\n\r\n", want: 200},
		{name: "expect-unknown", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: teapot\r\nContent-Length: 0\r\n\r\n", want: 417},
		{name: "expect-100-http10", req: "POST /echo HTTP/1.0\r\n" + h + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"},

		// ---- malformed heads
		{name: "hdr-name-space", req: "GET / HTTP/1.1\r\n" + h + "Foo Bar: x\r\n\r\n", want: 400},
		{name: "hdr-space-before-colon", req: "GET / HTTP/1.1\r\n" + h + "Foo : x\r\n\r\n", want: 400},
		{name: "hdr-no-colon", req: "GET / HTTP/1.1\r\n" + h + "NoColon\r\n\r\n", want: 400},
		{name: "hdr-empty-name", req: "GET / HTTP/1.1\r\n" + h + ": x\r\n\r\n", want: 400},
		{name: "hdr-name-utf8", req: "GET / HTTP/1.1\r\n" + h + "X-É: x\r\n\r\n", want: 400},
		{name: "hdr-obs-fold", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\r\n  b\r\n\r\n",
			diff: "RFC 9112 §5.2: obs-fold may be rejected with 400; net/http joins the lines", allow: engineRejected(400)},
		{name: "hdr-ws-only-line", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\r\n \r\n\r\n",
			diff: "obs-fold: the engine trims the whitespace around a folded value (RFC 9112 §5.2, §5.5); net/http keeps a trailing space, so \"Host: h\\r\\n \\r\\n\" is a malformed Host to it", allow: engineServed("/")},
		{name: "hdr-ws-only-line-smuggle", req: "POST /a HTTP/1.1\r\n" + h + " \r\nContent-Length: 5\r\n\r\nhello" + get("/b"), n: 2, methods: []string{"POST", "GET"},
			diff: "obs-fold: the engine trims the whitespace around a folded value (RFC 9112 §5.2, §5.5); net/http keeps a trailing space, so \"Host: h\\r\\n \\r\\n\" is a malformed Host to it", allow: engineServed("/a", "/b")},
		{name: "hdr-ws-only-line-bare-lf", req: "GET /0 HTTP/1.0\r\nHost:x\n \n\r\n",
			diff: "obs-fold: the engine trims the whitespace around a folded value (RFC 9112 §5.2, §5.5); net/http keeps a trailing space, so \"Host: h\\r\\n \\r\\n\" is a malformed Host to it", allow: engineServed("/0")},
		{name: "hdr-obs-fold-tab", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\r\n\tb\r\n\r\n"},
		{name: "hdr-obs-fold-cl", req: "POST / HTTP/1.1\r\n" + h + "Content-Length: 1\r\n 0\r\n\r\n0123456789"},
		{name: "hdr-first-line-ws", req: "GET / HTTP/1.1\r\n X-A: a\r\n" + h + "\r\n", want: 400},
		{name: "hdr-ctl-value", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\x01b\r\n\r\n", want: 400},
		{name: "hdr-nul-value", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\x00b\r\n\r\n", want: 400},
		{name: "hdr-del-value", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\x7fb\r\n\r\n", want: 400},
		{name: "hdr-cr-value", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\rb\r\n\r\n", want: 400},
		{name: "hdr-tab-obs-text", req: "GET / HTTP/1.1\r\n" + h + "X-A: a\tb\xe9\xff c \t\r\n\r\n", want: 200},
		{name: "hdr-empty-value", req: "GET / HTTP/1.1\r\n" + h + "X-A:\r\nX-B: \r\n\r\n", want: 200},
		{name: "hdr-multi-same", req: "GET / HTTP/1.1\r\n" + h + "X-A: 1\r\nx-a: 2\r\nX-A: 3, 4\r\n\r\n", want: 200},
		{name: "hdr-non-canonical", req: "GET / HTTP/1.1\r\n" + h + "x-lower-CASE: v\r\nx_under_score: u\r\n\r\n", want: 200},
		{name: "hdr-100", req: "GET / HTTP/1.1\r\n" + h + many100 + "\r\n", want: 200},
		{name: "hdr-2M", req: "GET / HTTP/1.1\r\n" + h + hdr2M + "\r\n", want: 431},
		{name: "bare-lf", req: "GET /p HTTP/1.1\n" + "Host: example.com\nX-A: b\n\n", want: 200},
		{name: "bare-lf-chunked", req: "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\n\r\n", want: 200},
		{name: "bare-lf-chunked-empty", req: "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n0\r\n\r\n", want: 200},
		{name: "bare-lf-cl", req: "POST /echo HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc", want: 200},
		{name: "bare-lf-pipelined-crlf", req: "GET /a HTTP/1.1\nHost: x\n\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", n: 2, want: 200},
		{name: "bare-lf-smuggle", req: "POST /a HTTP/1.1\nHost: x\nContent-Length: 0\n\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", n: 2, methods: []string{"POST", "GET"}, want: 200},
		{name: "bare-lf-mixed", req: "GET /p HTTP/1.1\r\nHost: example.com\nX-A: b\r\n\n", want: 200},
		{name: "reqline-extra-token", req: "GET / x HTTP/1.1\r\n" + h + "\r\n", want: 400},
		{name: "reqline-double-space", req: "GET  / HTTP/1.1\r\n" + h + "\r\n", want: 400},
		{name: "reqline-no-version", req: "GET /\r\n" + h + "\r\n", want: 400},
		{name: "reqline-method-only", req: "GET\r\n" + h + "\r\n", want: 400},
		{name: "reqline-tab", req: "GET\t/\tHTTP/1.1\r\n" + h + "\r\n", want: 400},
		{name: "reqline-trailing-space", req: "GET / HTTP/1.1 \r\n" + h + "\r\n", want: 400},
		{name: "proto-lowercase", req: "GET / http/1.1\r\n" + h + "\r\n", want: 400},
		{name: "proto-2.0", req: "GET / HTTP/2.0\r\n" + h + "\r\n", want: 505},
		{name: "proto-1.2", req: "GET / HTTP/1.2\r\n" + h + "\r\n", want: 200},
		{name: "proto-0.9", req: "GET / HTTP/0.9\r\n" + h + "\r\n", want: 505},
		{name: "proto-garbage", req: "GET / HTTP/1.x\r\n" + h + "\r\n", want: 400},
		{name: "proto-leading-zero", req: "GET / HTTP/01.1\r\n" + h + "\r\n", want: 400},
		{name: "binary-garbage", req: "\x16\x03\x01\x00\x05hello\r\n\r\n", want: 400},

		// ---- responses
		{name: "resp-sniff", req: get("/x/sniff"), want: 200},
		{name: "resp-ctnil", req: get("/x/ctnil"), want: 200},
		{name: "resp-empty", req: get("/x/empty"), want: 200},
		{name: "resp-big-chunked", req: get("/x/big"), want: 200},
		{name: "resp-big-http10", req: "GET /x/big HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "resp-big-http10-keepalive", req: "GET /x/big HTTP/1.0\r\n" + h + "Connection: keep-alive\r\n\r\n", want: 200},
		{name: "resp-short-cl", req: get("/x/shortcl"), want: 200},
		{name: "resp-long-write", req: get("/x/longcl"), want: 200},
		{name: "resp-set-cl", req: get("/x/setcl"), want: 200},
		{name: "resp-cl0-overflow", req: get("/x/cloverflow/0"), want: 200,
			diff: "net/http counts the bytes of a Write refused with ErrContentLength and so closes a complete response; the engine keeps the connection", allow: engineKeptAlive},
		{name: "resp-cl2-overflow-then-fit", req: get("/x/cloverflow/2"), want: 200,
			diff: "after a refused Write net/http refuses every later one (its written count includes the refused bytes) and closes; the engine accepts a later Write that fits", allow: engineCompleted("hi")},
		{name: "resp-head-big", req: "HEAD /x/big HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "resp-head-small", req: "HEAD /x/sniff HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "resp-head-setcl", req: "HEAD /x/setcl HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "resp-204-body", req: get("/x/status/204"), want: 204},
		{name: "resp-304-body", req: get("/x/status/304"), want: 304},
		{name: "resp-299", req: get("/x/status/299"), want: 299},
		{name: "resp-599", req: get("/x/status/599"), want: 599},
		{name: "resp-418", req: get("/x/status/418"), want: 418},
		{name: "resp-103-early-hints", req: get("/x/early"), want: 200},
		{name: "resp-flush", req: get("/x/flush"), want: 200},
		{name: "resp-rc-flush", req: get("/x/rcflush"), want: 200},
		{name: "resp-trailers", req: get("/x/trailer"), want: 200},
		{name: "resp-header-then-trailer", req: get("/x/headertrailer"), want: 200,
			diff:  "a field set as a header and then declared in Trailer: net/http sends it in both sections, the engine only as the trailer",
			allow: func(ref, eng result) bool { return compare(&tcase{}, trailerOnlyOnce(ref, eng), eng) == "" }},
		{name: "resp-late-trailer-small", req: get("/x/latetrailer/10"), want: 200},
		{name: "resp-late-trailer-big", req: get("/x/latetrailer/10000"), want: 200},
		{name: "resp-trailers-http10", req: "GET /x/trailer HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "resp-conn-close", req: get("/x/close"), want: 200},
		{name: "resp-conn-close-http10", req: "GET /x/close HTTP/1.0\r\n" + h + "\r\n", want: 200,
			diff: "on HTTP/1.0 the engine drops a handler's \"Connection: close\" (a 1.0 response without \"keep-alive\" closes anyway); net/http sends it", allow: http10ConnClose},
		{name: "resp-conn-close-http10-keepalive", req: "GET /x/close HTTP/1.0\r\n" + h + "Connection: keep-alive\r\n\r\n", want: 200,
			diff: "on HTTP/1.0 the engine drops a handler's \"Connection: close\" (a 1.0 response without \"keep-alive\" closes anyway); net/http sends it", allow: http10ConnClose},
		{name: "resp-conn-close-head-http10", req: "HEAD /x/close HTTP/1.0\r\n" + h + "\r\n", want: 200,
			diff: "on HTTP/1.0 the engine drops a handler's \"Connection: close\" (a 1.0 response without \"keep-alive\" closes anyway); net/http sends it", allow: http10ConnClose},
		{name: "resp-crlf-value", req: get("/x/crlf"), want: 200,
			diff:  "net/http turns each CR and LF into a space, the engine may collapse CRLF into one; what matters is that no header is injected",
			allow: noInjectedHeader("X-Evil", "X-Evil2")},
		{name: "resp-multi-values", req: get("/x/multi"), want: 200},
		{name: "resp-double-writeheader", req: get("/x/doublewh"), want: 201},
		{name: "resp-handler-te", req: get("/x/te"), want: 200},
		{name: "panic", req: get("/x/panic")},
		{name: "panic-after-flush", req: get("/x/panicafter"), want: 200},
		{name: "abort-handler", req: get("/x/abort"), want: 200},
		{name: "abort-handler-early", req: get("/x/abortearly")},
		{name: "hijack", req: get("/x/hijack/5") + "EXTRA", want: 200},
		{name: "hijack-body-pipelined", req: "POST /x/hijack/9 HTTP/1.1\r\n" + h + "Content-Length: 4\r\n\r\nbody" + get("/n")[:9], want: 200},
		{name: "rc-deadlines", req: get("/x/deadlines"), want: 200},
		{name: "rc-read-deadline", req: "POST /x/rdl HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\n", want: 200},
		{name: "rc-write-deadline-past", req: get("/x/wdl")},
		{name: "rc-full-duplex", req: post("/x/fullduplex", "", "duplex"), want: 200},

		// ---- more bodies, buffer boundaries
		{name: "post-1M-read", req: post("/x/count", "", body1M), want: 200},
		{name: "chunked-1M-read", req: chunked("/x/count", "", chunks(body1M, 65536)), want: 200},
		{name: "chunked-1M-small-chunks", req: chunked("/x/count", "", chunks(body1M[:200<<10], 7)), want: 200},
		{name: "chunked-1M-unread", req: chunked("/x/nobody", "", chunks(body1M, 65536)), want: 200},
		{name: "chunked-zero", req: chunked("/echo", "", "0\r\n\r\n"), want: 200},
		{name: "chunked-then-pipelined", req: chunked("/echo", "", "3\r\nabc\r\n0\r\n\r\n") + get("/next"), n: 2, want: 200},
		{name: "chunked-on-get", req: "GET /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", want: 200},
		{name: "cl-on-get", req: "GET /echo HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabc", want: 200},
		{name: "cl-leading-zeros", req: "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 005\r\n\r\nhello", want: 200},
		{name: "expect-100-chunked", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n", body100: "3\r\nabc\r\n0\r\n\r\n", want: 200},
		{name: "expect-100-case", req: "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-Continue\r\nContent-Length: 2\r\n\r\n", body100: "hi", want: 200},
		{name: "head-1k", req: headOfSize(1024), want: 200},
		{name: "head-4095", req: headOfSize(4095), want: 200},
		{name: "head-4096", req: headOfSize(4096), want: 200},
		{name: "head-4097", req: headOfSize(4097), want: 200},
		{name: "head-8191", req: headOfSize(8191), want: 200},
		{name: "head-8192", req: headOfSize(8192), want: 200},
		{name: "head-8193", req: headOfSize(8193), want: 200},
		{name: "head-64k", req: headOfSize(64 << 10), want: 200},
		{name: "head-4096-then-body", req: strings.Replace(headOfSize(4096), "GET", "PUT", 1)[:4092] + "Content-Length: 4\r\n\r\nbody", want: 200},
		{name: "hdr-1000", req: "GET / HTTP/1.1\r\n" + h + strings.Repeat("X-Many: v\r\n", 1000) + "\r\n", want: 200},
		{name: "hdr-value-8k", req: "GET / HTTP/1.1\r\n" + h + "X-Long: " + strings.Repeat("v", 8<<10) + "\r\n\r\n", want: 200},
		{name: "hdr-trim-ws", req: "GET / HTTP/1.1\r\n" + h + "X-A:   v  w \t \r\n\r\n", want: 200},
		{name: "upgrade-websocket-echo", req: "GET /ws HTTP/1.1\r\n" + h + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", want: 200},
		{name: "absolute-userinfo", req: "GET http://user:pw@other.example/p HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "absolute-form-http10", req: "GET http://other.example/p HTTP/1.0\r\n\r\n", want: 200},
		{name: "connect-empty-target", req: "CONNECT  HTTP/1.1\r\n" + h + "\r\n", noProbe: true},
		{name: "connect-no-port", req: "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", noProbe: true},
		{name: "host-trailing-dot", req: "GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n", want: 200},
		{name: "host-bad-ipv6", req: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"},
		{name: "query-plus-semicolon", req: get("/p?a=1+2;b=3&c=%2B"), want: 200},
		{name: "keepalive-explicit-11", req: "GET / HTTP/1.1\r\n" + h + "Connection: keep-alive\r\n\r\n", want: 200},
		{name: "resp-big-cl", req: get("/x/bigcl"), want: 200},
		{name: "resp-100-from-handler", req: get("/x/status/100")},
		{name: "resp-bad-header-key", req: get("/x/badkey"), want: 200},
		{name: "resp-size-2048", req: get("/x/size/2048"), want: 200},
		{name: "resp-size-2049", req: get("/x/size/2049"), want: 200},
		{name: "resp-size-4096", req: get("/x/size/4096"), want: 200},
		{name: "resp-size-4097", req: get("/x/size/4097"), want: 200},
		{name: "resp-sizes-2000", req: get("/x/sizes/2000"), want: 200},
		{name: "resp-sizes-2100", req: get("/x/sizes/2100"), want: 200},
		{name: "resp-sizes-10000", req: get("/x/sizes/10000"), want: 200},
		{name: "resp-sizes-http10", req: "GET /x/sizes/10000 HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "resp-head-sizes", req: "HEAD /x/sizes/10000 HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "resp-flush-empty", req: get("/x/flushempty"), want: 200},
		{name: "resp-flush-http10", req: "GET /x/flush HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "resp-flush-http10-keepalive", req: "GET /x/flush HTTP/1.0\r\n" + h + "Connection: keep-alive\r\n\r\n", want: 200},
		{name: "resp-head-flush", req: "HEAD /x/flush HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "remote-addr", req: get("/x/remote"), want: 200},
		{name: "panic-after-writeheader", req: get("/x/panicwh")},
		{name: "abort-after-writeheader", req: get("/x/panicwh/abort")},
		{name: "hijack-after-writeheader", req: get("/x/hijackwh")},
		{name: "resp-204-with-cl", req: get("/x/cl204"), want: 204},
		{name: "resp-invalid-cl", req: get("/x/badcl"), want: 200,
			diff: "a handler's invalid Content-Length is dropped by both; net/http then chunks, the engine computes the length of the short body", allow: sameBodies},
		{name: "resp-dup-cl", req: get("/x/dupcl"), want: 200},
		{name: "resp-trailer-no-body", req: get("/x/trailernobody"), want: 200},
		{name: "resp-content-encoding-no-sniff", req: get("/x/ce"), want: 200},
		{name: "resp-head-handler-te", req: "HEAD /x/te HTTP/1.1\r\n" + h + "\r\n", want: 200},
		{name: "resp-handler-te-http10", req: "GET /x/te HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "ctx-done-keepalive", req: get("/x/ctx/0s"), want: 200},
		{name: "ctx-wait-keepalive", req: get("/x/ctx/100ms"), want: 200},
		{name: "ctx-wait-pipelined", req: get("/x/ctx/100ms") + get("/x/ctx/100ms") + get("/three"), n: 3, want: 200},
		{name: "ctx-wait-body", req: post("/x/ctx/100ms", "", "hello") + post("/x/ctx/0s", "", "again"), n: 2, want: 200},
		{name: "ctx-wait-http10", req: "GET /x/ctx/100ms HTTP/1.0\r\n" + h + "\r\n", want: 200},
		{name: "te-http10-no-cl", req: "POST /echo HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{name: "te-chunked-not-last", req: "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{name: "close-body-unread", req: "POST /x/nobody HTTP/1.1\r\n" + h + "Connection: close\r\nContent-Length: 5\r\n\r\nhello", want: 200},
	}
	cs = append(cs, dribbled(cs, "get", "post-cl", "chunked-trailer-undeclared", "chunked-ext", "pipelined-3-mixed",
		"expect-100-read", "bare-lf", "hdr-100", "absolute-form", "http10-keepalive", "cl-dup-differ",
		"te-gzip-chunked", "chunked-missing-crlf", "hdr-no-colon", "head-4097")...)
	return cs
}

// dribbled copies the named cases with the request written one byte at a time.
func dribbled(cs []tcase, names ...string) []tcase {
	var out []tcase
	for _, n := range names {
		found := false
		for _, c := range cs {
			if c.name == n {
				c.name += "-dribble"
				c.dribble = true
				out = append(out, c)
				found = true
			}
		}
		if !found {
			panic("dribbled: no case " + n)
		}
	}
	return out
}

// chunks encodes body in chunks of at most n bytes, then the last chunk.
func chunks(body string, n int) string {
	var b strings.Builder
	for len(body) > 0 {
		k := min(n, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
		body = body[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// headOfSize is a GET whose head (request line to the empty line) is n bytes.
func headOfSize(n int) string {
	base := "GET /b HTTP/1.1\r\n" + h + "X-Pad: "
	const end = "\r\n\r\n"
	return base + strings.Repeat("p", n-len(base)-len(end)) + end
}

// engineAnswered accepts an engine that served the request (the reference
// rejected it) with the given status and echoed path.
func engineAnswered(code int, path string) func(ref, eng result) bool {
	return func(ref, eng result) bool {
		return len(eng.Resps) == 1 && eng.Resps[0].Code == code && strings.Contains(eng.Resps[0].Body, fmt.Sprintf("path=%q", path)) && eng.Err == ""
	}
}

// engineServed accepts an engine that answered 200 to exactly these paths.
func engineServed(paths ...string) func(ref, eng result) bool {
	return func(ref, eng result) bool {
		if len(eng.Resps) != len(paths) || eng.Err != "" {
			return false
		}
		for i, p := range paths {
			if eng.Resps[i].Code != 200 || !strings.Contains(eng.Resps[i].Body, fmt.Sprintf("path=%q", p)) {
				return false
			}
		}
		return true
	}
}

// engineRejected accepts an engine that is stricter than the reference:
// it answers code and closes.
func engineRejected(code int) func(ref, eng result) bool {
	return func(ref, eng result) bool {
		return len(eng.Resps) == 1 && eng.Resps[0].Code == code && eng.Closed && eng.Err == ""
	}
}

// http10ConnClose accepts a missing "Connection: close" on an HTTP/1.0
// response that closes anyway.
func http10ConnClose(ref, eng result) bool {
	if !eng.Closed || len(eng.Resps) != len(ref.Resps) {
		return false
	}
	e := eng
	e.Resps = append([]resp(nil), eng.Resps...)
	for i := range e.Resps {
		if e.Resps[i].Proto != "HTTP/1.0" {
			return false
		}
		if rc := ref.Resps[i].Header["Connection"]; e.Resps[i].Header["Connection"] == "" && strings.Contains(rc, "close") {
			m := maps.Clone(e.Resps[i].Header)
			m["Connection"] = rc
			e.Resps[i].Header = m
		}
	}
	if len(ref.Resps) > 0 && ref.Resps[len(ref.Resps)-1].Close {
		e.Closed = ref.Closed // closing as announced is never wrong
	}
	return compare(&tcase{}, ref, e) == ""
}

const clTEClose = "RFC 9112 §6.1: a request with both Transfer-Encoding and Content-Length may be a smuggling attempt; the server MUST close after responding. net/http keeps the connection (and so answers a request smuggled behind the body); the engine announces Connection: close and closes"

// engineClosedAfter accepts an engine whose first response is the
// reference's, announced with "Connection: close", after which it closed
// (whatever the reference answered next on the same connection).
func engineClosedAfter(ref, eng result) bool {
	if len(ref.Resps) == 0 || len(eng.Resps) != 1 || !eng.Closed || !eng.Resps[0].Close || eng.Err != "" {
		return false
	}
	r, e := ref.Resps[0], eng.Resps[0]
	return r.Code == e.Code && r.Body == e.Body && r.BodyErr == e.BodyErr
}

// engineKeptAlive accepts an engine that answered exactly as the reference
// but kept the connection open where the reference closed it.
func engineKeptAlive(ref, eng result) bool {
	e := eng
	e.Closed = ref.Closed
	return ref.Closed && !eng.Closed && compare(&tcase{}, ref, e) == ""
}

// engineCompleted accepts an engine whose single 200 response carries body
// in full on a connection kept open.
func engineCompleted(body string) func(ref, eng result) bool {
	return func(ref, eng result) bool {
		return len(eng.Resps) == 1 && eng.Resps[0].Code == 200 && eng.Resps[0].Body == body && !eng.Resps[0].BodyErr && !eng.Closed && eng.Err == ""
	}
}

// sameBodies accepts a framing difference (Content-Length vs chunked) when
// statuses, bodies and connection reuse agree.
func sameBodies(ref, eng result) bool {
	if len(ref.Resps) != len(eng.Resps) || ref.Closed != eng.Closed || ref.Err != eng.Err {
		return false
	}
	for i, r := range eng.Resps {
		if r.Code != ref.Resps[i].Code || r.Body != ref.Resps[i].Body || r.BodyErr != ref.Resps[i].BodyErr {
			return false
		}
	}
	return true
}

// noInjectedHeader accepts any difference as long as the statuses match and
// none of the named headers appears on its own.
func noInjectedHeader(names ...string) func(ref, eng result) bool {
	return func(ref, eng result) bool {
		if len(ref.Resps) != len(eng.Resps) || ref.Closed != eng.Closed {
			return false
		}
		for i, r := range eng.Resps {
			if r.Code != ref.Resps[i].Code || r.Body != ref.Resps[i].Body {
				return false
			}
			for _, n := range names {
				if _, ok := r.Header[n]; ok {
					return false
				}
			}
		}
		return true
	}
}

// TestDiff runs the table against three engine set-ups: the defaults, idle
// connections parked in the poller early (the probe comes after a pause),
// and parking disabled.
func TestDiff(t *testing.T) {
	cases := mainCases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case %q", c.name)
		}
		seen[c.name] = true
	}
	for _, v := range []struct {
		name       string
		park, wait time.Duration
	}{
		{"default", 0, 0},
		{"parked", time.Millisecond, 30 * time.Millisecond},
		{"nopark", -1, 0},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ref, eng := startBoth(t, srvOpts{handler: testHandler(), parkAfter: v.park})
			for i := range cases {
				c := cases[i]
				c.pause = v.wait
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					runCase(t, &c, ref, eng)
				})
			}
		})
	}
}

func runCase(t *testing.T, c *tcase, ref, eng *running) {
	t.Helper()
	if c.bug != "" {
		t.Skip("engine bug: " + c.bug)
	}
	var rr, er result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); rr = exchange(ref, c) }()
	go func() { defer wg.Done(); er = exchange(eng, c) }()
	wg.Wait()
	if c.want != 0 {
		if len(rr.Resps) == 0 || rr.Resps[len(rr.Resps)-1].Code != c.want {
			t.Errorf("test assumption: net/http status is not %d:\n%s", c.want, rr)
		}
	}
	d := compare(c, rr, er)
	if d != "" && c.allow != nil && c.allow(rr, er) {
		t.Logf("accepted difference (%s): %s", c.diff, d)
		d = ""
	}
	if d != "" {
		t.Errorf("request %q\nmismatch: %s\nnet/http:\n%s\nhttp1:\n%s", trunc(c.req, 300), d, rr, er)
	} else if testing.Verbose() && os.Getenv("DIFF_VERBOSE") != "" {
		t.Logf("net/http:\n%s\nhttp1:\n%s", rr, er)
	}
}

// TestDiffMaxHeaderBytes uses a small limit on both servers; net/http allows
// 4 KiB of slack above MaxHeaderBytes (the engine copies that), so the
// sizes around 8 KiB probe the exact boundary.
func TestDiffMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	ref, eng := startBoth(t, srvOpts{handler: testHandler(), maxHeaderBytes: 4096})
	cases := []tcase{
		{name: "small", req: "GET / HTTP/1.1\r\n" + h + hdr2k + "\r\n", want: 200},
		{name: "16k", req: "GET / HTTP/1.1\r\n" + h + hdr16k + "\r\n", want: 431},
		{name: "uri-16k", req: get("/" + strings.Repeat("u", 16<<10)), want: 431},
		{name: "head-8000", req: headOfSize(8000)},
		{name: "head-8191", req: headOfSize(8191)},
		{name: "head-8192", req: headOfSize(8192)},
		{name: "head-8193", req: headOfSize(8193)},
		{name: "head-8300", req: headOfSize(8300)},
		{name: "post-head-8100-body", req: strings.Replace(headOfSize(8100), "GET", "PUT", 1)[:8096] + "Content-Length: 400\r\n\r\n" + strings.Repeat("b", 400)},
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.name, func(t *testing.T) { t.Parallel(); runCase(t, c, ref, eng) })
	}
}

// TestDiffPanicKeepsServing: after a panicking handler the server accepts and
// serves the next connection.
func TestDiffPanicKeepsServing(t *testing.T) {
	t.Parallel()
	ref, eng := startBoth(t, srvOpts{handler: testHandler()})
	for _, s := range []*running{ref, eng} {
		for _, p := range []string{"/x/panic", "/x/abortearly", "/x/panicafter"} {
			r := exchange(s, &tcase{req: get(p), noProbe: true})
			if r.Err != "" {
				t.Errorf("%s %s: %s", s.name, p, r.Err)
			}
			r = exchange(s, &tcase{req: get("/after")})
			if len(r.Resps) != 1 || r.Resps[0].Code != 200 || r.Closed {
				t.Errorf("%s: after %s the next connection got:\n%s", s.name, p, r)
			}
		}
	}
}

// ---------------------------------------------------------------- context, timeouts, shutdown

// TestDiffContextCanceledOnClientClose: the request context ends when the
// client goes away while the handler waits.
func TestDiffContextCanceledOnClientClose(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 2)
	ended := make(chan string, 2)
	hd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			ended <- "canceled: " + context.Cause(r.Context()).Error()
		case <-time.After(8 * time.Second):
			ended <- "not canceled"
		}
	})
	ref, eng := startBoth(t, srvOpts{handler: hd})
	for _, s := range []*running{ref, eng} {
		t.Run(s.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, get("/wait"))
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Fatal("handler not started")
			}
			c.Close()
			got := <-ended
			if !strings.HasPrefix(got, "canceled") {
				t.Errorf("context: %s", got)
			}
			t.Logf("%s", got)
		})
	}
}

// readUntilClosed reads until EOF/reset and reports what came, or "timeout".
func readUntilClosed(c net.Conn, d time.Duration) (string, bool) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if err != nil && isTimeout(err) {
		return string(b), false
	}
	return string(b), true
}

func statusOf(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	return line
}

func TestDiffIdleTimeout(t *testing.T) {
	t.Parallel()
	o := srvOpts{handler: testHandler(), idleTimeout: 200 * time.Millisecond}
	ref, eng := startBoth(t, o)
	o.parkAfter = time.Millisecond
	parked := start(t, "http1-parked", newEng(o))
	t.Cleanup(func() { parked.srv.Close() })
	for _, s := range []*running{ref, eng, parked} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, get("/idle"))
			br := bufio.NewReader(c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := br.Read(make([]byte, 1))
			if n != 0 || !isClosedErr(err) {
				t.Errorf("idle keep-alive connection not closed: n=%d err=%v", n, err)
			}
		})
	}
}

// TestDiffReadTimeout: half a request head, or half a body, then silence.
// diff: net/http closes silently on a read timeout; an engine may answer 408
// first. Both must close.
func TestDiffReadTimeout(t *testing.T) {
	t.Parallel()
	ref, eng := startBoth(t, srvOpts{handler: testHandler(), readTimeout: 200 * time.Millisecond})
	for _, tc := range []struct{ name, req string }{
		{"half-head", "GET / HTTP/1.1\r\nHost: x\r\nX-A: "},
		{"nothing", ""},
		{"half-body", "POST /x/nobody HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"},
	} {
		for _, s := range []*running{ref, eng} {
			t.Run(tc.name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				c, err := net.Dial("tcp", s.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				io.WriteString(c, tc.req)
				got, closed := readUntilClosed(c, 5*time.Second)
				if !closed {
					t.Errorf("connection not closed after ReadTimeout; got %q", trunc(got, 200))
				}
				st := statusOf(got)
				if st != "" && !strings.Contains(st, " 408") && !strings.Contains(st, " 200") && !strings.Contains(st, " 400") {
					t.Errorf("unexpected answer %q", st)
				}
				t.Logf("answer: %q", st)
			})
		}
	}
}

// TestDiffWriteTimeout: a handler that answers after WriteTimeout has passed
// gets nothing through; the client sees the connection closed.
func TestDiffWriteTimeout(t *testing.T) {
	t.Parallel()
	hd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond)
		w.Write([]byte(big64k))
	})
	ref, eng := startBoth(t, srvOpts{handler: hd, writeTimeout: 150 * time.Millisecond})
	for _, s := range []*running{ref, eng} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, get("/slow"))
			got, closed := readUntilClosed(c, 5*time.Second)
			if !closed {
				t.Errorf("connection not closed")
			}
			if strings.Contains(got, big64k) {
				t.Errorf("full response written after WriteTimeout: %q", statusOf(got))
			}
		})
	}
}

// TestDiffShutdown: Shutdown closes idle keep-alive connections at once,
// waits for an active request, and Serve returns http.ErrServerClosed.
func TestDiffShutdown(t *testing.T) {
	t.Parallel()
	for _, mk := range []struct {
		name string
		new  func(srvOpts) srv
	}{
		{"net/http", newRef},
		{"http1", newEng},
		{"http1-parked", func(o srvOpts) srv { o.parkAfter = time.Millisecond; return newEng(o) }},
	} {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			inHandler := make(chan struct{}, 1)
			hd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/block" {
					inHandler <- struct{}{}
					<-release
				}
				io.WriteString(w, "done "+r.URL.Path)
			})
			s := start(t, mk.name, mk.new(srvOpts{handler: hd}))
			defer s.srv.Close()

			idle, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.Close()
			io.WriteString(idle, get("/first"))
			ibr := bufio.NewReader(idle)
			_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
			r1, err := http.ReadResponse(ibr, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r1.Body)
			time.Sleep(30 * time.Millisecond) // long enough to park where parking is on

			active, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer active.Close()
			io.WriteString(active, get("/block"))
			select {
			case <-inHandler:
			case <-time.After(5 * time.Second):
				t.Fatal("handler not reached")
			}

			shut := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				shut <- s.srv.Shutdown(ctx)
			}()

			// The idle connection is closed.
			_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := ibr.Read(make([]byte, 1)); n != 0 || !isClosedErr(err) {
				t.Errorf("idle connection not closed by Shutdown: n=%d err=%v", n, err)
			}
			// Serve returns at once.
			select {
			case err := <-s.done:
				if !errors.Is(err, http.ErrServerClosed) {
					t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return after Shutdown")
			}
			// New connections are refused.
			if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				io.WriteString(c, get("/late"))
				if b, _ := io.ReadAll(c); len(b) > 0 {
					t.Errorf("request served after Shutdown: %q", statusOf(string(b)))
				}
				c.Close()
			}
			// Shutdown waits for the active request.
			select {
			case err := <-shut:
				t.Fatalf("Shutdown returned %v while a request was active", err)
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			_ = active.SetReadDeadline(time.Now().Add(5 * time.Second))
			r2, err := http.ReadResponse(bufio.NewReader(active), nil)
			if err != nil {
				t.Fatalf("active request lost: %v", err)
			}
			b, _ := io.ReadAll(r2.Body)
			if string(b) != "done /block" {
				t.Errorf("active body %q", b)
			}
			select {
			case err := <-shut:
				if err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Shutdown did not return after the active request ended")
			}
		})
	}
}

// TestDiffTLSServeConn: net/http serving a TLS listener (HTTP/1.1 only)
// against the engine's ServeConn given each *tls.Conn.
func TestDiffTLSServeConn(t *testing.T) {
	t.Parallel()
	cfg := selfSigned(t)
	o := srvOpts{handler: testHandler()}

	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := newRef(o).(*http.Server)
	rs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // HTTP/1 only
	ref := &running{name: "net/http", addr: rl.Addr().String(), srv: rs, done: make(chan error, 1)}
	go func() { ref.done <- rs.Serve(tls.NewListener(rl, cfg)) }()

	// The entrypoint completes the handshake (it needs ALPN to choose
	// HTTP/1 or h2) before ServeConn; "eng" does the same, "engFresh" hands
	// over a *tls.Conn whose handshake has not started, as net/http accepts.
	startEng := func(handshake bool, park time.Duration) *running {
		el, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		oo := o
		oo.parkAfter = park
		es := newEng(oo).(*http1.Server)
		r := &running{name: "http1", addr: el.Addr().String(), srv: es, done: make(chan error, 1)}
		go func() {
			for {
				c, err := el.Accept()
				if err != nil {
					return
				}
				go func() {
					tc := tls.Server(c, cfg)
					if handshake {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						if err := tc.HandshakeContext(ctx); err != nil {
							tc.Close()
							return
						}
					}
					es.ServeConn(tc)
				}()
			}
		}()
		t.Cleanup(func() { el.Close(); es.Close() })
		return r
	}
	eng, engFresh, engParked := startEng(true, 0), startEng(false, 0), startEng(true, time.Millisecond)
	t.Cleanup(func() { rs.Close() })
	for _, r := range []*running{ref, eng, engFresh, engParked} {
		r.dial = func() (net.Conn, error) {
			return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.addr,
				&tls.Config{InsecureSkipVerify: true, ServerName: "example.com", NextProtos: []string{"http/1.1"}})
		}
	}
	want := map[string]bool{"get": true, "post-cl": true, "chunked-trailer-undeclared": true, "pipelined-3-mixed": true,
		"http10": true, "http11-close": true, "hijack": true, "resp-big-chunked": true, "body-unread-1M": true,
		"expect-100-read": true, "resp-trailers": true, "hdr-2M": true, "post-1M-read": true, "panic": true,
		"ctx-done-keepalive": true, "ctx-wait-pipelined": true, "ctx-wait-body": true, "resp-flush": true}
	for _, c := range mainCases() {
		if !want[c.name] {
			continue
		}
		delete(want, c.name)
		t.Run(c.name, func(t *testing.T) { t.Parallel(); runCase(t, &c, ref, eng) })
		if c.name == "get" || c.name == "post-cl" {
			t.Run(c.name+"-fresh-handshake", func(t *testing.T) { t.Parallel(); runCase(t, &c, ref, engFresh) })
		}
		// Idle TLS connections parked in the poller, then woken by the probe.
		pc := c
		pc.pause = 30 * time.Millisecond
		t.Run(c.name+"-parked", func(t *testing.T) { t.Parallel(); runCase(t, &pc, ref, engParked) })
	}
	if len(want) > 0 {
		t.Errorf("unknown cases %v", want)
	}
}

// selfSigned makes a throwaway certificate for example.com.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.com"},
		DNSNames:     []string{"example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"http/1.1"},
	}
}

// TestDiffClose: Close ends active connections at once: the client sees
// the connection closed, the waiting handler's context ends, Serve returns
// http.ErrServerClosed.
func TestDiffClose(t *testing.T) {
	t.Parallel()
	for _, mk := range []struct {
		name string
		new  func(srvOpts) srv
	}{{"net/http", newRef}, {"http1", newEng}} {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			started := make(chan struct{}, 1)
			ended := make(chan struct{})
			hd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started <- struct{}{}
				select {
				case <-r.Context().Done():
					close(ended)
				case <-time.After(10 * time.Second):
				}
			})
			s := start(t, mk.name, mk.new(srvOpts{handler: hd}))
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, get("/wait"))
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Fatal("handler not reached")
			}
			if err := s.srv.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if got, closed := readUntilClosed(c, 5*time.Second); !closed || got != "" {
				t.Errorf("client: closed=%v got %q", closed, trunc(got, 100))
			}
			select {
			case <-ended:
			case <-time.After(5 * time.Second):
				t.Error("handler context not canceled by Close")
			}
			select {
			case err := <-s.done:
				if !errors.Is(err, http.ErrServerClosed) {
					t.Errorf("Serve returned %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return")
			}
		})
	}
}

// TestDiffConcurrentKeepAlive: many keep-alive connections, each with a
// series of requests separated by short pauses, so that engine connections
// park and resume while others are served. Every answer must be the right
// one and no connection may be dropped, on both servers.
func TestDiffConcurrentKeepAlive(t *testing.T) {
	t.Parallel()
	o := srvOpts{handler: testHandler()}
	ref, eng := startBoth(t, o)
	o.parkAfter = time.Millisecond
	parked := start(t, "http1-parked", newEng(o))
	t.Cleanup(func() { parked.srv.Close() })
	const conns, reqs = 24, 15
	for _, s := range []*running{ref, eng, parked} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			errs := make(chan string, conns)
			for i := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := net.Dial("tcp", s.addr)
					if err != nil {
						errs <- err.Error()
						return
					}
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(10 * time.Second))
					br := bufio.NewReader(c)
					for j := range reqs {
						path := fmt.Sprintf("/c%d/r%d", i, j)
						var req string
						if j%3 == 1 {
							req = post(path, "", strings.Repeat("x", j*100))
						} else {
							req = get(path)
						}
						if _, err := io.WriteString(c, req); err != nil {
							errs <- fmt.Sprintf("%s: write: %v", path, err)
							return
						}
						resp, err := http.ReadResponse(br, nil)
						if err != nil {
							errs <- fmt.Sprintf("%s: %v", path, err)
							return
						}
						b, err := io.ReadAll(resp.Body)
						if err != nil || resp.StatusCode != 200 || !bytes.Contains(b, []byte(fmt.Sprintf("path=%q", path))) {
							errs <- fmt.Sprintf("%s: %d %v %q", path, resp.StatusCode, err, trunc(string(b), 80))
							return
						}
						time.Sleep(time.Duration((i+j)%4) * time.Millisecond)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// ---------------------------------------------------------------- fuzz

var (
	fuzzOnce sync.Once
	fuzzRef  *running
	fuzzEng  *running
)

// rawExchange writes data, half-closes, and reads everything the server
// sends until it closes.
func rawExchange(addr string, data []byte) ([]byte, error) {
	return rawExchangeSplit(addr, data, 0)
}

// rawExchangeSplit writes data in two segments, data[:split] then the rest
// a moment later, so the server sees the bytes in two reads.
func rawExchangeSplit(addr string, data []byte, split int) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	go func() {
		if split > 0 && split < len(data) {
			_, _ = c.Write(data[:split])
			time.Sleep(2 * time.Millisecond)
			data = data[split:]
		}
		_, _ = c.Write(data)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	b, err := io.ReadAll(c)
	if err != nil && isTimeout(err) {
		return b, err
	}
	return b, nil
}

type fuzzResp struct {
	code int
	body string
	head string // framing and fields without Date, sorted
}

// finalResponses parses the final (non-1xx) responses in raw, in order, up
// to the first unparsable byte. Only the first request's method is known;
// later responses are read as answers to GET (callers avoid HEAD there).
func finalResponses(raw []byte, method string) []fuzzResp {
	br := bufio.NewReader(bytes.NewReader(raw))
	var out []fuzzResp
	for {
		r, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return out
		}
		if r.StatusCode >= 200 {
			out = append(out, fuzzResp{r.StatusCode, string(b), fmt.Sprintf("te=%q cl=%d close=%v %v", r.TransferEncoding, r.ContentLength, r.Close, normHeader(r.Header))})
			method = "GET"
		}
	}
}

// fuzzException lists inputs where the engine is allowed to be stricter than
// net/http (it rejects what net/http accepts).
func fuzzException(data []byte) string {
	head := data[:headEnd(data)]
	switch {
	case bytes.Contains(head, []byte("\n ")) || bytes.Contains(head, []byte("\n\t")):
		return "obs-fold"
	case bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")) &&
		(bytes.Contains(bytes.ToLower(head), []byte("content-length")) || bytes.Contains(head, []byte("HTTP/1.0"))):
		return "CL and TE, or TE on HTTP/1.0: the engine closes after the response (RFC 9112 §6.1)"
	case bytes.HasPrefix(data, []byte("\n")) || bytes.HasPrefix(data, []byte("\r\n")):
		return "leading empty line"
	case bytes.Contains(bytes.ToLower(head), []byte("chunked")) && hasBareLF(data[len(head):]):
		return "bare LF in chunked framing or trailers"
	case bytes.Contains(bytes.ToLower(head), []byte("chunked")) && badTrailerName(data[len(head):]):
		return "invalid trailer name"
	}
	return ""
}

// fuzzKnownBug names open engine bugs (see the top of the file) so the
// fuzzer looks for new ones.
func fuzzKnownBug(data []byte) string {
	return ""
}

// badTrailerName: some line after the head looks like a field whose name
// is not a token.
func badTrailerName(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if k, _, ok := bytes.Cut(line, []byte(":")); ok {
			for _, c := range k {
				if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte("\"(),/:;<=>?@[\\]{}"), c) >= 0 {
					return true
				}
			}
		}
	}
	return false
}

// headEnd is the offset just past the first empty line (CRLF or bare LF
// endings, as net/http reads them), or len(data).
func headEnd(data []byte) int {
	start := 0
	for start < len(data) && (data[start] == '\r' || data[start] == '\n') {
		start++ // leading empty lines are not the end of a head
	}
	for i := start; i < len(data); i++ {
		if data[i] != '\n' {
			continue
		}
		rest := data[i+1:]
		switch {
		case bytes.HasPrefix(rest, []byte("\n")):
			return i + 2
		case bytes.HasPrefix(rest, []byte("\r\n")):
			return i + 3
		}
	}
	return len(data)
}

func hasBareLF(b []byte) bool {
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

func FuzzDiffRequest(f *testing.F) {
	documented := map[string]string{}
	for _, c := range mainCases() {
		if len(c.req) < 4<<10 { // big seeds make minimisation crawl
			f.Add([]byte(c.req))
		}
		if c.diff != "" {
			documented[c.req] = c.diff
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOnce.Do(func() {
			// Never closed: lives as long as the fuzzing process.
			o := srvOpts{handler: http.HandlerFunc(echo), readTimeout: 3 * time.Second, maxHeaderBytes: 64 << 10}
			fuzzRef = start(t, "net/http", newRef(o))
			fuzzEng = start(t, "http1", newEng(o))
		})
		rraw, rerr := rawExchange(fuzzRef.addr, data)
		eraw, eerr := rawExchange(fuzzEng.addr, data)
		if eerr != nil && rerr == nil {
			t.Fatalf("engine hung (%v) on %q", eerr, data)
		}
		method, _, _ := bytes.Cut(bytes.TrimLeft(data, "\r\n"), []byte(" "))
		rr := finalResponses(rraw, string(method))
		er := finalResponses(eraw, string(method))
		// The engine must not depend on how the bytes are split into reads
		// (its head parser has a fast path for a fully buffered head).
		if len(data) > 1 {
			split := 1 + (int(data[len(data)-1])*31+len(data))%(len(data)-1)
			sraw, serr := rawExchangeSplit(fuzzEng.addr, data, split)
			if serr != nil && eerr == nil {
				t.Fatalf("engine hung (%v) when %q is split at %d", serr, data, split)
			}
			sr := finalResponses(sraw, string(method))
			if fmt.Sprint(sr) != fmt.Sprint(er) {
				t.Fatalf("engine answers differ when %q is split at %d:\nwhole: %v\nsplit: %v", data, split, er, sr)
			}
		}
		if len(rr) == 0 {
			return // net/http gave no parsable answer; only no-panic/no-hang is asserted
		}
		exc := fuzzException(data)
		if d, ok := documented[string(data)]; ok {
			exc = d
		}
		if bug := fuzzKnownBug(data); bug != "" {
			t.Skip("engine bug: " + bug)
		}
		// Later responses are compared only when no HEAD can hide in the
		// input (a HEAD answer cannot be parsed without knowing it is one).
		n := 1
		if !bytes.Contains(bytes.ToUpper(data), []byte("HEAD")) {
			n = len(rr)
		}
		for i := range n {
			r := rr[i]
			var e fuzzResp
			if i < len(er) {
				e = er[i]
			}
			switch {
			case exc != "":
				if r.code == 400 && e.code/100 == 2 && i == 0 && documented[string(data)] == "" && exc != "obs-fold" {
					t.Fatalf("response %d: net/http 400, engine %d for %q\nengine body: %s", i, e.code, data, e.body)
				}
				return // the first difference may shift everything after it
			case r.code/100 == 2:
				if e.code/100 != 2 {
					t.Fatalf("response %d: net/http %d, engine %d for %q\nengine raw: %q", i, r.code, e.code, data, trunc(string(eraw), 400))
				}
				if r.body != e.body {
					t.Fatalf("response %d: echo differs for %q\nnet/http: %s\nengine:   %s", i, data, r.body, e.body)
				}
				if r.head != e.head {
					t.Fatalf("response %d: head differs for %q\nnet/http: %s\nengine:   %s", i, data, r.head, e.head)
				}
			case r.code == 400 && e.code/100 == 2:
				t.Fatalf("response %d: net/http 400, engine %d for %q\nengine body: %s", i, e.code, data, e.body)
			}
		}
		// A request net/http never saw (it closed first) must not be served.
		if n == len(rr) && exc == "" && len(er) > len(rr) {
			for _, e := range er[len(rr):] {
				if e.code/100 == 2 {
					t.Fatalf("engine served %d requests, net/http %d, for %q\nextra: %s", len(er), len(rr), data, e.body)
				}
			}
		}
	})
}

// ---------------------------------------------------------------- response fuzz

var (
	scriptKeys   = []string{"Content-Type", "X-A", "Content-Length", "Transfer-Encoding", "Connection", "Trailer", "X-T", http.TrailerPrefix + "X-P", "Content-Encoding", "Date", "Set-Cookie"}
	scriptValues = []string{"", "v", "text/html", "0", "5", "100", "chunked", "close", "keep-alive", "X-T", "gzip", "a, b", "identity"}
	scriptCodes  = []int{200, 201, 204, 206, 299, 304, 400, 404, 500, 599, 103, 100}
)

// scriptHandler plays the response script the request body carries: each
// byte pair is an operation and its argument.
func scriptHandler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/script" {
		echo(w, r) // the probe
		return
	}
	script, _ := io.ReadAll(r.Body)
	for i := 0; i+1 < len(script); i += 2 {
		op, arg := script[i], int(script[i+1])
		switch op % 8 {
		case 0:
			w.Header().Set(scriptKeys[arg%len(scriptKeys)], scriptValues[(arg/len(scriptKeys))%len(scriptValues)])
		case 1:
			w.Header().Add(scriptKeys[arg%len(scriptKeys)], scriptValues[(arg/len(scriptKeys))%len(scriptValues)])
		case 2:
			w.Header().Del(scriptKeys[arg%len(scriptKeys)])
		case 3:
			w.WriteHeader(scriptCodes[arg%len(scriptCodes)])
		case 4:
			w.Write([]byte(big64k[:arg*37]))
		case 5:
			w.(http.Flusher).Flush()
		case 6:
			io.WriteString(w, big64k[:arg%8])
		case 7:
			w.Header()["X-Odd"] = []string{"a", strconv.Itoa(arg)}
		}
	}
}

// scriptRequest builds the request carrying script; the first byte picks
// the method and protocol.
func scriptRequest(sel byte, script []byte) (string, string) {
	method := []string{"GET", "HEAD", "POST"}[int(sel)%3]
	proto := []string{"HTTP/1.1", "HTTP/1.0"}[int(sel/3)%2]
	extra := ""
	if sel/6%2 == 1 {
		extra = "Connection: keep-alive\r\n"
	}
	return method, fmt.Sprintf("%s /script HTTP%s\r\n%s%sContent-Length: %d\r\n\r\n%s",
		method, strings.TrimPrefix(proto, "HTTP"), h, extra, len(script), script)
}

// FuzzDiffResponse drives both servers' ResponseWriter with the same
// arbitrary sequence of header changes, WriteHeader calls, writes and
// flushes, and compares what reaches the client, connection reuse included.
func FuzzDiffResponse(f *testing.F) {
	f.Add(byte(0), []byte{4, 1})                    // small body: Content-Length
	f.Add(byte(0), []byte{4, 100})                  // big body: chunked
	f.Add(byte(1), []byte{4, 100})                  // HEAD
	f.Add(byte(3), []byte{4, 100, 5, 0, 6, 3})      // HTTP/1.0
	f.Add(byte(9), []byte{5, 0, 6, 3})              // HTTP/1.0 keep-alive, flush
	f.Add(byte(0), []byte{0, 5, 0, 16, 6, 1})       // Trailer declared
	f.Add(byte(0), []byte{0, 7, 4, 2})              // TrailerPrefix
	f.Add(byte(0), []byte{3, 10, 3, 0, 6, 2})       // 103 then 200
	f.Add(byte(0), []byte{3, 2, 6, 3})              // 204 with a body write
	f.Add(byte(0), []byte{0, 2 + 11*4, 6, 7})       // Content-Length: 5, 7 bytes written
	f.Add(byte(2), []byte{0, 4 + 11*7, 4, 3, 6, 1}) // Connection: close
	f.Add(byte(0), []byte{0, 3 + 11*6, 4, 3})       // handler Transfer-Encoding: chunked
	ref, eng := startBoth(f, srvOpts{handler: http.HandlerFunc(scriptHandler)})
	f.Fuzz(func(t *testing.T, sel byte, script []byte) {
		if len(script) > 512 {
			return
		}
		method, req := scriptRequest(sel, script)
		c := &tcase{req: req, methods: []string{method}, wait: 3 * time.Second}
		var rr, er result
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); rr = exchange(ref, c) }()
		go func() { defer wg.Done(); er = exchange(eng, c) }()
		wg.Wait()
		rr = trailerOnlyOnce(oneContinue(rr), er)
		if d := compare(c, rr, er); d != "" {
			if responseFuzzAllowed(script, rr, er) {
				return
			}
			if bug := knownResponseBug(c, script, rr, er); bug != "" {
				t.Skip("engine bug: " + bug)
			}
			t.Fatalf("request %q\nmismatch: %s\nnet/http:\n%s\nhttp1:\n%s", req, d, rr, er)
		}
	})
}

// knownResponseBug names open engine bugs (top of the file) so the fuzzer
// looks for new ones.
func knownResponseBug(c *tcase, script []byte, ref, eng result) string {
	_, _, _, _ = c, script, ref, eng
	return ""
}

// sameCodes: same number of responses with the same statuses, the engine's
// parsable.
func sameCodes(ref, eng result) bool {
	if eng.Err != "" || len(eng.Resps) != len(ref.Resps) {
		return false
	}
	for i, r := range eng.Resps {
		if r.Code != ref.Resps[i].Code {
			return false
		}
	}
	return true
}

// oneContinue drops the repeated "100 Continue" answers of a handler that
// called WriteHeader(100) more than once: net/http sends each, the engine
// one per request (documented difference).
func oneContinue(ref result) result {
	r := ref
	r.Resps = nil
	seen100 := false
	for _, x := range ref.Resps {
		if x.Code == 100 {
			if seen100 {
				continue
			}
			seen100 = true
		}
		r.Resps = append(r.Resps, x)
	}
	return r
}

// trailerOnlyOnce: a field set as a header and then declared in "Trailer"
// goes out twice from net/http (header and trailer), once from the engine
// (trailer). Drop it from the reference's header where the engine's lacks it.
func trailerOnlyOnce(ref, eng result) result {
	r := ref
	r.Resps = append([]resp(nil), ref.Resps...)
	for i := range r.Resps {
		if i >= len(eng.Resps) {
			break
		}
		keys := slices.Collect(maps.Keys(r.Resps[i].Trailer))
		for _, d := range strings.FieldsFunc(r.Resps[i].Header["Trailer"], func(c rune) bool { return c == ',' || c == '|' || c == ' ' }) {
			keys = append(keys, http.CanonicalHeaderKey(d)) // declared (HEAD has no trailer section)
		}
		for _, k := range keys {
			if _, ok := r.Resps[i].Header[k]; ok {
				if _, ok := eng.Resps[i].Header[k]; !ok {
					m := maps.Clone(r.Resps[i].Header)
					delete(m, k)
					r.Resps[i].Header = m
				}
			}
		}
	}
	return r
}

// setsContentLength: the script sets a numeric Content-Length.
func setsContentLength(script []byte) bool {
	for i := 0; i+1 < len(script); i += 2 {
		op, arg := script[i]%8, int(script[i+1])
		if (op == 0 || op == 1) && scriptKeys[arg%len(scriptKeys)] == "Content-Length" {
			if _, err := strconv.ParseUint(scriptValues[(arg/len(scriptKeys))%len(scriptValues)], 10, 63); err == nil {
				return true
			}
		}
	}
	return false
}

// responseFuzzAllowed: documented differences on the response side.
func responseFuzzAllowed(script []byte, ref, eng result) bool {
	// net/http sends a handler's bogus Transfer-Encoding (e.g. "0") next
	// to its own "chunked": an unparsable response. The engine's must parse.
	if strings.HasPrefix(ref.Err, "parse:") && eng.Err == "" && len(eng.Resps) > 0 {
		return true
	}
	// "Connection: 5, close" from the handler: net/http announces the
	// close but reads only the first value and keeps the connection; the
	// engine closes as announced.
	if eng.Closed && !ref.Closed && len(ref.Resps) > 0 && ref.Resps[len(ref.Resps)-1].Close {
		eng.Closed = false
		if compare(&tcase{}, ref, eng) == "" {
			return true
		}
		if ref.Resps[0].Proto == "HTTP/1.0" {
			eng.Closed = true // so that http10ConnClose below can apply too
		}
	}
	if http10ConnClose(ref, eng) {
		return true
	}
	// resp-invalid-cl: a handler's non-numeric Content-Length is dropped;
	// net/http then chunks, the engine may frame by length.
	// Likewise a Transfer-Encoding other than a single "chunked": net/http
	// writes it and misframes, the engine ignores it. With both framing
	// headers set by the handler each server honours a different one: only
	// the statuses must agree.
	badCL, badTE := false, false
	for i := 0; i+1 < len(script); i += 2 {
		op, arg := script[i]%8, int(script[i+1])
		if op != 0 && op != 1 {
			continue
		}
		key, val := scriptKeys[arg%len(scriptKeys)], scriptValues[(arg/len(scriptKeys))%len(scriptValues)]
		if key == "Content-Length" {
			if _, err := strconv.ParseUint(val, 10, 63); err != nil {
				badCL = true
			}
		}
		if key == "Transfer-Encoding" && (op == 1 || val != "chunked") {
			badTE = true
		}
		if key == "Transfer-Encoding" && setsContentLength(script) && sameCodes(ref, eng) {
			return true // both framing headers: net/http lets Transfer-Encoding win, the engine Content-Length
		}
	}
	if (badCL || badTE) && sameBodies(ref, eng) {
		return true
	}
	if badTE && setsContentLength(script) && sameCodes(ref, eng) {
		return true
	}
	// resp-cl0-overflow and resp-cl2-overflow-then-fit: after a Write past
	// the declared Content-Length net/http closes (and refuses later
	// writes); the engine completes the response and keeps the connection.
	// So, with a declared Content-Length, only the statuses must agree and
	// the engine's answer must be well formed (the table cases pin the
	// ordinary Content-Length behaviour exactly).
	if setsContentLength(script) && eng.Err == "" && len(eng.Resps) == len(ref.Resps) {
		for i, r := range eng.Resps {
			if r.Code != ref.Resps[i].Code || r.BodyErr && !ref.Resps[i].BodyErr {
				return false
			}
		}
		return true
	}
	return false
}
