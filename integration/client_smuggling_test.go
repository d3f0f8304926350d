package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The client half of issue 13's "must hold 1": raw requests through the
// real binary to a recording backend. Each case says what RFC 9110/9112
// require (and how net/http, so Traefik, behaves where the RFC leaves a
// choice); the test asserts the statuses, whether the connection closed,
// exactly what reached the backend, and that no response answers another
// request.

// record is one request as the backend received it.
type record struct {
	method, uri, host, proto string
	cl                       int64
	te                       []string
	header                   http.Header
	body                     string
	bodyErr                  bool
}

type recorder struct {
	mu   sync.Mutex
	recs []record
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.recs = append(rc.recs, record{r.Method, r.RequestURI, r.Host, r.Proto, r.ContentLength, r.TransferEncoding, r.Header.Clone(), string(b), err != nil})
	rc.mu.Unlock()
	fmt.Fprintf(w, "uri=%s", r.RequestURI)
}

// of returns the records whose target starts with prefix.
func (rc *recorder) of(prefix string) []record {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []record
	for _, r := range rc.recs {
		if strings.HasPrefix(r.uri, prefix) || strings.Contains(r.uri, "://") && strings.Contains(r.uri, prefix) {
			out = append(out, r)
		}
	}
	return out
}

type smugCase struct {
	name string
	// req is sent as is, with {p} replaced by "/<name>" (the case's
	// path, so the backend's records can be told apart).
	req string
	// want: the statuses of the responses, in order.
	want []int
	// closed: the connection must be closed after the last response;
	// otherwise it must stay open with nothing more to read.
	closed bool
	// paths: for each 2xx response, the target it must answer (suffix
	// after {p}); default "" for every one.
	paths []string
	// backend checks what reached the backend (nil: nothing may).
	backend func(recs []record) string
	// either: a case where RFC 9112 lets the server refuse or normalise;
	// a refusal (4xx/5xx then close, nothing forwarded) is accepted as
	// well as want/backend.
	either bool
	rfc    string
}

const crlf = "\r\n"

// one expects exactly one request at the backend, checked by f.
func one(f func(r record) string) func([]record) string {
	return func(recs []record) string {
		if len(recs) != 1 {
			return fmt.Sprintf("%d requests reached the backend, want 1", len(recs))
		}
		return f(recs[0])
	}
}

func bodyIs(body string) func([]record) string {
	return one(func(r record) string {
		if r.body != body || r.bodyErr {
			return fmt.Sprintf("backend body %q (err %v), want %q", r.body, r.bodyErr, body)
		}
		if r.header.Get("Content-Length") != "" && len(r.te) > 0 {
			return "backend received both Content-Length and Transfer-Encoding"
		}
		return ""
	})
}

func reject(code int, rfc string) smugCase {
	return smugCase{want: []int{code}, closed: true, rfc: rfc}
}

func smugglingCases() []smugCase {
	h := "Host: a" + crlf
	post := func(hdrs, body string) string {
		return "POST {p} HTTP/1.1" + crlf + h + hdrs + crlf + body
	}
	named := func(name string, c smugCase) smugCase { c.name = name; return c }
	return []smugCase{
		// Content-Length.
		named("cl-dup-same", smugCase{req: post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), want: []int{200}, backend: bodyIs("abc"),
			rfc: "RFC 9110 §8.6: identical repeated values may be accepted as one"}),
		named("cl-dup-conflict", reject(400, "RFC 9112 §6.3.5: differing lengths are unrecoverable: 400 and close")).with(post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd")),
		named("cl-list", reject(400, "RFC 9112 §6.3.5 (net/http refuses a list)")).with(post("Content-Length: 3, 3\r\n", "abc")),
		named("cl-negative", reject(400, "RFC 9110 §8.6: 1*DIGIT")).with(post("Content-Length: -1\r\n", "abc")),
		named("cl-plus", reject(400, "RFC 9110 §8.6: 1*DIGIT")).with(post("Content-Length: +3\r\n", "abc")),
		named("cl-hex", reject(400, "RFC 9110 §8.6: 1*DIGIT")).with(post("Content-Length: 0x3\r\n", "abc")),
		named("cl-inner-space", reject(400, "RFC 9110 §8.6: 1*DIGIT")).with(post("Content-Length: 3 3\r\n", "abc")),
		named("cl-overflow", reject(400, "RFC 9112 §6.3.5: a length that cannot be parsed")).with(post("Content-Length: 99999999999999999999999\r\n", "abc")),
		named("cl-empty", reject(400, "RFC 9110 §8.6: 1*DIGIT")).with(post("Content-Length: \r\n", "abc")),
		named("cl-leading-zeros", smugCase{req: post("Content-Length: 003\r\n", "abc"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9110 §8.6: 1*DIGIT"}),

		// Content-Length with Transfer-Encoding.
		named("cl-te", smugCase{req: post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), want: []int{200}, closed: true, backend: bodyIs("abc"),
			rfc: "RFC 9112 §6.1, §6.3.3: chunked wins, the length is not forwarded, and the server MUST close after responding"}),
		named("te-cl", smugCase{req: post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "3\r\nabc\r\n0\r\n\r\n"), want: []int{200}, closed: true, backend: bodyIs("abc"),
			rfc: "RFC 9112 §6.1"}),
		named("cl-te-smuggle", smugCase{req: post("Content-Length: 40\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nGET {p}/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"), want: []int{200}, closed: true, backend: bodyIs(""),
			rfc: "RFC 9112 §6.1: closed after the response, so the request behind the body is never answered"}),
		named("cl0-te", smugCase{req: post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), want: []int{200}, closed: true, backend: bodyIs("abc"), rfc: "RFC 9112 §6.1"}),

		// Transfer-Encoding lists and codings.
		named("te-gzip-chunked", reject(501, "RFC 9112 §6.1: a coding the server does not understand: 501 (net/http)")).with(post("Transfer-Encoding: gzip, chunked\r\n", "3\r\nabc\r\n0\r\n\r\n")),
		named("te-chunked-gzip", reject(501, "RFC 9112 §6.3.4: chunked not final is unframed; refused (net/http: 501)")).with(post("Transfer-Encoding: chunked, gzip\r\n", "3\r\nabc\r\n0\r\n\r\n")),
		named("te-unknown", reject(501, "RFC 9112 §6.1: 501")).with(post("Transfer-Encoding: foo\r\n", "abc")),
		named("te-identity", reject(501, "identity is no longer a transfer coding (RFC 9112 §7)")).with(post("Transfer-Encoding: identity\r\nContent-Length: 3\r\n", "abc")),
		named("te-chunked-twice", reject(501, "two codings (net/http: 501)")).with(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n")),
		named("te-xchunked", reject(501, "RFC 9112 §6.1")).with(post("Transfer-Encoding: xchunked\r\n", "3\r\nabc\r\n0\r\n\r\n")),
		named("te-case", smugCase{req: post("Transfer-Encoding: ChUnKeD\r\n", "3\r\nabc\r\n0\r\n\r\n"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §7: coding names are case-insensitive"}),
		named("te-ows", smugCase{req: post("Transfer-Encoding:  chunked \r\n", "3\r\nabc\r\n0\r\n\r\n"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §5.1: OWS around the value"}),
		named("te-http10", smugCase{req: "POST {p} HTTP/1.0\r\n" + h + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", want: []int{200}, closed: true, backend: bodyIs("abc"),
			rfc: "RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding is faulty framing: close after responding (the length is used, as net/http)"}),
		named("te-http10-nocl", smugCase{req: "POST {p} HTTP/1.0\r\n" + h + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", want: []int{200}, closed: true, backend: bodyIs(""),
			rfc: "RFC 9112 §6.1: no chunked in HTTP/1.0; closed after, so the chunks are never read as a request"}),

		// Chunked framing.
		named("chunk-size-invalid", reject(400, "RFC 9112 §7.1: chunk-size = 1*HEXDIG")).with(post("Transfer-Encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n")),
		named("chunk-size-0x", reject(400, "RFC 9112 §7.1")).with(post("Transfer-Encoding: chunked\r\n", "0x3\r\nabc\r\n0\r\n\r\n")),
		named("chunk-size-negative", reject(400, "RFC 9112 §7.1")).with(post("Transfer-Encoding: chunked\r\n", "-3\r\nabc\r\n0\r\n\r\n")),
		named("chunk-size-overflow", reject(400, "RFC 9112 §7.1: a size that overflows is an error (recipients MUST anticipate large values)")).with(post("Transfer-Encoding: chunked\r\n", "1000000000000000003\r\nabc\r\n0\r\n\r\n")),
		named("chunk-size-overflow-wrap", reject(400, "RFC 9112 §7.1: must not wrap to a small size")).with(post("Transfer-Encoding: chunked\r\n", "10000000000000003\r\nabc\r\n0\r\n\r\n")),
		named("chunk-data-too-long", reject(400, "RFC 9112 §7.1: CRLF must follow chunk-data")).with(post("Transfer-Encoding: chunked\r\n", "3\r\nabcd\r\n0\r\n\r\n")),
		named("chunk-ext", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3;a=b\r\nabc\r\n0\r\n\r\n"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §7.1.1: unknown extensions are ignored"}),
		named("chunk-ext-quoted", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3;a=\"b c\"\r\nabc\r\n0\r\n\r\n"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §7.1.1"}),
		named("chunk-ext-bare-lf", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3;a\nabc\r\n0\r\n\r\n"), either: true, want: []int{200}, backend: bodyIs("abc"),
			rfc: "RFC 9112 §7.1: a bare LF inside the chunk line: refused, or the whole line ignored"}),
		named("chunk-ext-ctl", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3;a=\x01\r\nabc\r\n0\r\n\r\n"), either: true, want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §7.1.1"}),
		named("chunk-bare-lf", reject(400, "RFC 9112 §7.1: chunked framing requires CRLF (the engine is strict)")).with(post("Transfer-Encoding: chunked\r\n", "3\nabc\n0\n\n")),
		named("chunk-bare-cr", reject(400, "RFC 9112 §2.2: a bare CR")).with(post("Transfer-Encoding: chunked\r\n", "3\rabc\r\n0\r\n\r\n")),
		named("chunk-trailer", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nX-T: v\r\n\r\n"), want: []int{200}, backend: bodyIs("abc"), rfc: "RFC 9112 §7.1.2"}),

		// Line endings.
		named("bare-lf-head", smugCase{req: "GET {p} HTTP/1.1\n" + "Host: a\n\n", want: []int{200}, backend: bodyIs(""),
			rfc: "RFC 9112 §2.2: a recipient MAY accept a bare LF as a line terminator (net/http does)"}),
		named("bare-cr-value", reject(400, "RFC 9112 §2.2: a bare CR MUST be refused or replaced by SP")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n"),
		named("bare-cr-eol", reject(400, "RFC 9112 §2.2")).with("GET {p} HTTP/1.1\rHost: a\r\n\r\n"),

		// Line folding and whitespace.
		named("obs-fold", smugCase{req: "GET {p} HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n", want: []int{200}, either: true,
			backend: one(func(r record) string {
				if v := r.header.Get("X-A"); v != "a b" {
					return fmt.Sprintf("X-A %q, want the fold replaced by one SP", v)
				}
				return ""
			}), rfc: "RFC 9112 §5.2: obs-fold is refused (400) or replaced by SP before forwarding"}),
		named("fold-first-header", reject(400, "RFC 9112 §2.2: whitespace before the first field line MUST be refused (or the line ignored)")).with("GET {p} HTTP/1.1\r\n Host: a\r\n\r\n"),
		named("fold-content-length", reject(400, "RFC 9112 §5.2 then §6.3: a folded length is not a length")).with(post("Content-Length: 3\r\n 3\r\n", "abc")),
		named("fold-transfer-encoding", smugCase{req: post("Transfer-Encoding: \r\n chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), either: true, want: []int{200}, backend: bodyIs("abc"),
			rfc: "RFC 9112 §5.2: never forwarded with an ambiguous framing"}),
		named("space-before-colon", reject(400, "RFC 9112 §5.1: whitespace between name and colon MUST be refused with 400")).with("GET {p} HTTP/1.1\r\nHost : a\r\n\r\n"),
		named("space-before-colon-cl", reject(400, "RFC 9112 §5.1")).with(post("Content-Length : 3\r\n", "abc")),
		named("leading-space-request-line", reject(400, "RFC 9112 §3")).with(" GET {p} HTTP/1.1\r\nHost: a\r\n\r\n"),
		named("leading-empty-line", reject(400, "RFC 9112 §2.2 allows ignoring it; net/http (so Traefik) refuses")).with("\r\nGET {p} HTTP/1.1\r\nHost: a\r\n\r\n"),

		// Field names and values.
		named("name-with-space", reject(400, "RFC 9110 §5.1: field-name = token")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n"),
		named("name-non-token", reject(400, "RFC 9110 §5.1")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n"),
		named("name-nul", reject(400, "RFC 9110 §5.1")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX\x00A: b\r\n\r\n"),
		named("name-empty", reject(400, "RFC 9110 §5.1")).with("GET {p} HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"),
		named("name-utf8", reject(400, "RFC 9110 §5.1")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX-\xc3\xa9: b\r\n\r\n"),
		named("value-nul", reject(400, "RFC 9110 §5.5: NUL MUST be refused or replaced")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n"),
		named("value-del", reject(400, "RFC 9110 §5.5: field-vchar excludes CTLs")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n"),
		named("value-obs-text", smugCase{req: "GET {p} HTTP/1.1\r\nHost: a\r\nX-A: caf\xe9\r\n\r\n", want: []int{200},
			backend: one(func(r record) string {
				if r.header.Get("X-A") != "caf\xe9" {
					return fmt.Sprintf("X-A %q", r.header.Get("X-A"))
				}
				return ""
			}), rfc: "RFC 9110 §5.5: obs-text is allowed in values"}),

		// Targets and Host.
		named("absolute-form", smugCase{req: "GET http://other.example{p}/x HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200}, paths: []string{"/x"},
			backend: one(func(r record) string {
				if r.host != "other.example" || r.uri != "/absolute-form/x" {
					return fmt.Sprintf("backend saw Host %q target %q, want the absolute URI's authority and origin-form", r.host, r.uri)
				}
				return ""
			}), rfc: "RFC 9112 §3.2.2: the absolute URI wins and Host is replaced"}),
		named("absolute-form-no-host", reject(400, "RFC 9112 §3.2: Host is required in HTTP/1.1 even with an absolute URI (net/http)")).with("GET http://other.example{p} HTTP/1.1\r\n\r\n"),
		named("authority-form-get", smugCase{req: "GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{404}, either: true,
			rfc: "RFC 9112 §3.2.3: authority-form is only for CONNECT; \"a:443\" parses as an absolute URI of scheme \"a\" without a path (net/http too): no router matches, nothing is forwarded"}),
		named("connect", smugCase{req: "CONNECT backend.example:443 HTTP/1.1\r\nHost: backend.example:443\r\n\r\n", want: []int{404}, either: true,
			rfc: "CONNECT is not forwarded (no router matches a target without a path): no tunnel is opened"}),
		named("two-hosts", reject(400, "RFC 9112 §3.2: more than one Host: 400")).with("GET {p} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
		named("no-host-11", reject(400, "RFC 9112 §3.2: HTTP/1.1 without Host: 400")).with("GET {p} HTTP/1.1\r\n\r\n"),
		named("no-host-10", smugCase{req: "GET {p} HTTP/1.0\r\n\r\n", want: []int{200}, closed: true, backend: bodyIs(""), rfc: "HTTP/1.0 needs no Host; closes without keep-alive"}),
		named("host-invalid", reject(400, "RFC 9110 §7.2: Host = uri-host [ \":\" port ]")).with("GET {p} HTTP/1.1\r\nHost: a b\r\n\r\n"),
		named("target-space", reject(400, "RFC 9112 §3: one SP between parts")).with("GET {p} x HTTP/1.1\r\nHost: a\r\n\r\n"),
		named("target-ctl", reject(400, "RFC 9112 §3.2")).with("GET {p}\x01 HTTP/1.1\r\nHost: a\r\n\r\n"),

		// Methods and versions.
		named("method-invalid", reject(400, "RFC 9110 §9: method = token")).with("G(T {p} HTTP/1.1\r\nHost: a\r\n\r\n"),
		named("method-double-space", reject(400, "RFC 9112 §3: one SP")).with("GET  {p} HTTP/1.1\r\nHost: a\r\n\r\n"),
		named("method-tab", reject(400, "RFC 9112 §3: SP, not HTAB")).with("GET\t{p}\tHTTP/1.1\r\nHost: a\r\n\r\n"),
		named("version-2", reject(505, "HTTP/2.0 on an HTTP/1 connection: 505 (net/http)")).with("GET {p} HTTP/2.0\r\nHost: a\r\n\r\n"),
		named("version-1.2", smugCase{req: "GET {p} HTTP/1.2\r\nHost: a\r\n\r\n", want: []int{200}, backend: bodyIs(""), rfc: "RFC 9110 §2.5: a higher minor version is served as HTTP/1.1"}),
		named("version-lowercase", reject(400, "RFC 9112 §2.3: HTTP-name is case-sensitive")).with("GET {p} http/1.1\r\nHost: a\r\n\r\n"),
		named("version-missing-minor", reject(400, "RFC 9112 §2.3")).with("GET {p} HTTP/1\r\nHost: a\r\n\r\n"),
		named("version-missing", reject(400, "RFC 9112 §3: HTTP/0.9 is not served")).with("GET {p}\r\nHost: a\r\n\r\n"),
		named("expect-unknown", reject(417, "RFC 9110 §10.1.1: an unknown expectation may be answered 417 (net/http)")).with("GET {p} HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n"),

		// Sizes (maxHeaderBytes is 8 KiB here).
		named("request-line-huge", reject(431, "net/http answers 431 to a head over its limit, request line included (RFC 9112 §3 allows 414)")).with("GET {p}/" + strings.Repeat("a", 20000) + " HTTP/1.1\r\nHost: a\r\n\r\n"),
		named("head-huge", reject(431, "RFC 6585 §5: 431")).with("GET {p} HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("b", 100)+"\r\n", 150) + "\r\n"),
		named("header-line-huge", reject(431, "RFC 6585 §5")).with("GET {p} HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 20000) + "\r\n\r\n"),

		// Pipelining.
		named("pipelined-behind-cl-body", smugCase{req: post("Content-Length: 3\r\n", "abc") + "GET {p}/second HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200, 200}, paths: []string{"", "/second"},
			backend: func(recs []record) string {
				if len(recs) != 2 || recs[0].body != "abc" || recs[1].uri != "/pipelined-behind-cl-body/second" || recs[1].body != "" {
					return fmt.Sprintf("backend saw %+v", recs)
				}
				return ""
			}, rfc: "RFC 9112 §9.3.2: pipelined requests answered in order"}),
		named("pipelined-behind-chunked-body", smugCase{req: post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n") + "GET {p}/second HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200, 200}, paths: []string{"", "/second"},
			backend: func(recs []record) string {
				if len(recs) != 2 || recs[0].body != "abc" || recs[1].uri != "/pipelined-behind-chunked-body/second" {
					return fmt.Sprintf("backend saw %+v", recs)
				}
				return ""
			}, rfc: "RFC 9112 §9.3.2"}),
		named("pipelined-inside-cl-body", smugCase{req: post("Content-Length: 23\r\n", "GET /inner HTTP/1.1\r\n\r\n"), want: []int{200},
			backend: bodyIs("GET /inner HTTP/1.1\r\n\r\n"), rfc: "RFC 9112 §6.2: the body is exactly Content-Length bytes, whatever they look like"}),
		named("pipelined-after-rejected", smugCase{req: "GET {p} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET {p}/next HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{400}, closed: true,
			rfc: "after a refused request the connection closes: nothing behind it is served"}),
		named("pipelined-three", smugCase{req: "GET {p}/1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD {p}/2 HTTP/1.1\r\nHost: a\r\n\r\nGET {p}/3 HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200, 200, 200}, paths: []string{"/1", "/2", "/3"},
			backend: func(recs []record) string {
				if len(recs) != 3 {
					return fmt.Sprintf("%d requests at the backend", len(recs))
				}
				return ""
			}, rfc: "RFC 9112 §9.3.2"}),
	}
}

// with sets the request of a case built by reject.
func (c smugCase) with(req string) smugCase { c.req = req; return c }

// TestClientSmuggling runs every case against the real binary.
func TestClientSmuggling(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	e := newEnv(t)
	e.SetURL("target", startHandler(t, rec))
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    http:
      maxHeaderBytes: 8192
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	cases := smugglingCases()
	if len(cases) < 45 {
		t.Fatalf("%d cases, want at least 45", len(cases))
	}
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case %s", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			p := "/" + c.name
			err, statuses := runSmug(e.Addr("web"), p, c, rec)
			if c.either {
				t.Logf("statuses %v (refusal or normalisation both allowed)", statuses)
			}
			if err != "" {
				t.Errorf("%s\n  request: %q\n  rfc: %s", err, trunc(strings.ReplaceAll(c.req, "{p}", p), 300), c.rfc)
			}
		})
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// runSmug sends one case and checks it; "" when it holds. It also
// returns the statuses received.
func runSmug(addr, p string, c smugCase, rec *recorder) (string, []int) {
	var got []int
	msg := runSmugInto(addr, p, c, rec, &got)
	return msg, got
}

func runSmugInto(addr, p string, c smugCase, rec *recorder, gotp *[]int) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(c.req, "{p}", p)); err != nil {
		return "write: " + err.Error()
	}
	br := bufio.NewReader(conn)
	methods := requestMethods(strings.ReplaceAll(c.req, "{p}", p))
	var got []int
	defer func() { *gotp = got }()
	var closeAnnounced bool
	for i := range len(c.want) {
		var req *http.Request
		if i < len(methods) && methods[i] == http.MethodHead {
			req = &http.Request{Method: http.MethodHead}
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if c.either && len(got) == 1 && got[0] >= 400 {
				break
			}
			return fmt.Sprintf("response %d: %v (statuses so far %v, want %v)", i, err, got, c.want)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
		closeAnnounced = resp.Close
		if resp.StatusCode/100 == 2 && req == nil {
			want := p
			if i < len(c.paths) {
				want += c.paths[i]
			}
			if !strings.HasSuffix(string(body), want) {
				return fmt.Sprintf("response %d answers %q, want the request for %s", i, body, want)
			}
		}
		if resp.StatusCode >= 400 && c.either {
			break
		}
	}
	refused := c.either && len(got) == 1 && got[0] >= 400
	if !refused && !slices.Equal(got, c.want) {
		return fmt.Sprintf("statuses %v, want %v", got, c.want)
	}
	switch {
	case refused:
		// Refused by the parser (then closed) or by routing (kept):
		// either way nothing more may arrive.
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if b, err := br.ReadByte(); err == nil {
			return fmt.Sprintf("extra bytes after the refusal: %q", b)
		}
	case c.closed:
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := br.ReadByte(); err == nil {
			return fmt.Sprintf("connection not closed: more data %q", b)
		} else if isTimeoutErr(err) {
			return "connection not closed"
		}
		if !closeAnnounced && len(got) > 0 && got[len(got)-1] < 400 {
			return "connection closed without Connection: close"
		}
	default:
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if b, err := br.ReadByte(); err == nil {
			return fmt.Sprintf("extra bytes after the expected responses: %q", b)
		} else if !isTimeoutErr(err) {
			return "connection closed, want it kept open: " + err.Error()
		}
	}
	// The backend: what reached it, and nothing else.
	time.Sleep(20 * time.Millisecond)
	recs := rec.of(p)
	switch {
	case refused || c.backend == nil:
		if len(recs) != 0 {
			return fmt.Sprintf("%d requests reached the backend, want none: %+v", len(recs), recs)
		}
	default:
		if msg := c.backend(recs); msg != "" {
			return "backend: " + msg
		}
	}
	return ""
}

// requestMethods lists the methods of the requests in raw (first word of
// each request line it can find), for reading HEAD answers.
func requestMethods(raw string) []string {
	var out []string
	for _, line := range strings.Split(raw, "\n") {
		for _, m := range []string{"GET", "HEAD", "POST", "CONNECT"} {
			if strings.HasPrefix(line, m+" ") && strings.Contains(line, "HTTP/") {
				out = append(out, m)
			}
		}
	}
	return out
}
