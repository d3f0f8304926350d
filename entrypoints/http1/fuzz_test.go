package http1

// Direct fuzz targets on the engine's request parser: the head reader (fast
// and slow paths), the head parser and the request body decoders (length and
// chunked), run on bytes in memory with no socket, so the fuzzer runs them
// at millions of executions where the differential targets in diff_test.go
// (loopback sockets) manage thousands.
//
// The reference is net/http: http.ReadRequest plus the checks net/http's
// server adds on top of it (protocol version, Host, header bytes, Expect),
// that is exactly what Traefik accepts. Differences are allowed only where
// the engine is documented to be stricter (refuseOK) or where both refuse.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// chopReader returns at most n bytes per Read, to exercise the slow path of
// readHead and every partial-read path of the body decoders.
type chopReader struct {
	b []byte
	n int
}

func (r *chopReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n, len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

// engineResult is everything the engine derives from one request.
type engineResult struct {
	stage   string // "head", "parse", "body" or "" (accepted whole)
	err     error
	req     *http.Request
	p       parsed
	body    []byte
	trailer http.Header
	rest    []byte // bytes left after the request (the next request)
}

const fuzzMaxHeader = 8 << 10

// engineParse runs one request through readHead, parseHead and the body
// decoder, reading at most chop bytes per Read.
func engineParse(data []byte, chop int) engineResult {
	var res engineResult
	src := &chopReader{b: data, n: chop}
	c := &conn{srv: &Server{MaxHeaderBytes: fuzzMaxHeader}, br: bufio.NewReaderSize(src, 4096)}
	head, err := c.readHead()
	if err != nil {
		res.stage, res.err = "head", err
		return res
	}
	ex := &exchange{}
	ex.ctx.c = c
	var r http.Request
	p, err := c.parseHead(head, &r, &ex.url)
	if err != nil {
		res.stage, res.err = "parse", err
		return res
	}
	res.p = p
	ex.req = &r
	res.req = &r
	if p.chunked || p.contentLength > 0 {
		ex.bodyVal = body{ex: ex, br: c.br, remaining: p.contentLength, chunked: p.chunked}
		if p.chunked {
			ex.bodyVal.remaining = 0
		}
		b, err := io.ReadAll(&ex.bodyVal)
		res.body = b
		if err != nil {
			res.stage, res.err = "body", err
			return res
		}
	}
	res.trailer = r.Trailer
	rest, _ := io.ReadAll(io.MultiReader(bytes.NewReader(bufferedBytes(c.br)), src))
	res.rest = rest
	return res
}

func bufferedBytes(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return bytes.Clone(b)
}

// refResult is what net/http's server would make of the same bytes.
type refResult struct {
	err     error
	req     *http.Request
	body    []byte
	bodyErr error
}

func refParse(data []byte) refResult {
	var res refResult
	br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
	r, err := http.ReadRequest(br)
	if err != nil {
		res.err = err
		return res
	}
	// The checks net/http's server makes after ReadRequest (server.go).
	// ReadRequest drops the Host field: read the head again for it.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	_, _ = tp.ReadLine()
	mh, _ := tp.ReadMIMEHeader()
	hosts, haveHost := mh["Host"]
	switch {
	case r.ProtoMajor != 1:
		res.err = errors.New("505")
	case r.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && r.Method != "CONNECT":
		res.err = errors.New("missing Host")
	case len(hosts) > 1:
		res.err = errors.New("too many Host headers")
	case len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]):
		res.err = errors.New("malformed Host header")
	}
	for k, vv := range r.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			res.err = errors.New("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				res.err = errors.New("invalid header value")
			}
		}
	}
	if ex := r.Header.Get("Expect"); ex != "" && (!hasToken(ex, "100-continue") || !r.ProtoAtLeast(1, 1) || r.ContentLength == 0) {
		res.err = errors.New("417")
	}
	if res.err != nil {
		return res
	}
	delete(r.Header, "Host")
	res.req = r
	res.body, res.bodyErr = io.ReadAll(r.Body)
	return res
}

// refuseOK names inputs the engine refuses on purpose although net/http
// (so Traefik) accepts them: the engine is the stricter parser there.
func refuseOK(data []byte, e engineResult) string {
	head := data
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		head = data[:i]
	}
	lower := bytes.ToLower(head)
	switch {
	case e.stage == "head" && errors.Is(e.err, errHeadTooLarge):
		return "head size limit (net/http counts differently)"
	case e.stage == "body" && bytes.Contains(lower, []byte("chunked")):
		return "chunked framing refused (bare LF, bare CR, too much non-data, bad trailer)"
	case e.stage == "parse" && bytes.Contains(lower, []byte("trailer")):
		return "bad declared trailer key"
	}
	return ""
}

// FuzzRequestHead: any bytes through the engine's request parser, read
// whole and in small pieces. Asserts:
//   - no panic; the result does not depend on how the bytes arrive (the
//     head reader's fast path and slow path agree, and so do the body
//     decoders);
//   - what the engine accepts, net/http's server accepts, and both see the
//     same method, target, URL, version, Host, header fields, framing
//     (Content-Length / chunked), Close, body and trailers;
//   - never both framings downstream: a chunked request carries no
//     Content-Length and ContentLength -1;
//   - the bytes left after the request (what would be read as the next
//     request) are the same for both parsers.
func FuzzRequestHead(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, chop uint8) {
		if len(data) > 64<<10 {
			return
		}
		whole := engineParse(data, len(data)+1)
		piece := engineParse(data, 1+int(chop%17))
		if whole.stage != piece.stage || (whole.err == nil) != (piece.err == nil) {
			t.Fatalf("result depends on segmentation for %q: whole %s/%v, pieces of %d %s/%v",
				data, whole.stage, whole.err, 1+chop%17, piece.stage, piece.err)
		}
		if whole.err == nil && (!bytes.Equal(whole.body, piece.body) || !bytes.Equal(whole.rest, piece.rest) ||
			!reflect.DeepEqual(whole.trailer, piece.trailer)) {
			t.Fatalf("body/rest depend on segmentation for %q", data)
		}
		if whole.stage == "head" || whole.stage == "parse" {
			var he *httpError
			if whole.stage == "parse" && !errors.As(whole.err, &he) {
				t.Fatalf("parse error %T is not an httpError: %v", whole.err, whole.err)
			}
		}
		if whole.req != nil {
			r := whole.req
			if whole.p.chunked && (r.ContentLength != -1 || r.Header["Content-Length"] != nil || r.Header["Transfer-Encoding"] != nil) {
				t.Fatalf("chunked request keeps another framing for %q: %d %v", data, r.ContentLength, r.Header)
			}
			if r.Header["Host"] != nil {
				t.Fatalf("Host left in the header for %q", data)
			}
		}

		ref := refParse(data)
		switch {
		case whole.err == nil && ref.err != nil:
			t.Fatalf("engine accepts, net/http refuses (%v): %q", ref.err, data)
		case whole.err != nil && (whole.stage == "head" || whole.stage == "parse") && ref.err == nil:
			if refuseOK(data, whole) == "" {
				t.Fatalf("engine refuses (%s: %v), net/http accepts: %q", whole.stage, whole.err, data)
			}
			return
		case whole.req == nil || ref.req == nil:
			return
		}
		e, g := whole.req, ref.req
		if e.Method != g.Method || e.RequestURI != g.RequestURI || e.Proto != g.Proto || e.ProtoMinor != g.ProtoMinor ||
			e.Host != g.Host || e.URL.String() != g.URL.String() || e.URL.RawPath != g.URL.RawPath || e.URL.Path != g.URL.Path {
			t.Fatalf("request line differs for %q\nengine:   %s %q %q %s host %q\nnet/http: %s %q %q %s host %q",
				data, e.Method, e.RequestURI, e.URL, e.Proto, e.Host, g.Method, g.RequestURI, g.URL, g.Proto, g.Host)
		}
		if !reflect.DeepEqual(e.Header, g.Header) {
			t.Fatalf("header differs for %q\nengine:   %v\nnet/http: %v", data, e.Header, g.Header)
		}
		if e.ContentLength != g.ContentLength || !slices.Equal(e.TransferEncoding, g.TransferEncoding) || e.Close != g.Close {
			t.Fatalf("framing differs for %q\nengine:   cl %d te %v close %v\nnet/http: cl %d te %v close %v",
				data, e.ContentLength, e.TransferEncoding, e.Close, g.ContentLength, g.TransferEncoding, g.Close)
		}
		switch {
		case whole.err == nil && ref.bodyErr != nil:
			t.Fatalf("engine reads the body %q, net/http fails (%v): %q", whole.body, ref.bodyErr, data)
		case whole.err != nil && ref.bodyErr == nil:
			if refuseOK(data, whole) == "" {
				t.Fatalf("engine fails on the body (%v), net/http reads %q: %q", whole.err, ref.body, data)
			}
		case whole.err == nil:
			if !bytes.Equal(whole.body, ref.body) {
				t.Fatalf("body differs for %q\nengine:   %q\nnet/http: %q", data, whole.body, ref.body)
			}
			if !sameTrailer(whole.trailer, g.Trailer) {
				t.Fatalf("trailer differs for %q\nengine:   %v\nnet/http: %v", data, whole.trailer, g.Trailer)
			}
		}
	})
}

// sameTrailer: equal, an empty map counting as none.
func sameTrailer(a, b http.Header) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// FuzzChunkedBody: any bytes after a chunked request head. The decoded
// body, trailers and the bytes left for the next request must match
// net/http's chunked reader whenever the engine accepts (never a body the
// reference would not produce: the smuggling shape), and must not depend
// on segmentation.
func FuzzChunkedBody(f *testing.F) {
	for _, s := range chunkedSeeds {
		f.Add([]byte(s), uint8(3))
	}
	const head = "POST /c HTTP/1.1\r\nHost: a\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n"
	f.Fuzz(func(t *testing.T, chunked []byte, chop uint8) {
		if len(chunked) > 64<<10 {
			return
		}
		data := append([]byte(head), chunked...)
		whole := engineParse(data, len(data)+1)
		piece := engineParse(data, 1+int(chop%17))
		if (whole.err == nil) != (piece.err == nil) || !bytes.Equal(whole.body, piece.body) || !bytes.Equal(whole.rest, piece.rest) {
			t.Fatalf("chunked decoding depends on segmentation for %q: %v / %v", chunked, whole.err, piece.err)
		}
		if whole.stage == "head" || whole.stage == "parse" {
			t.Fatalf("fixed head refused: %v", whole.err)
		}
		if whole.err != nil {
			return
		}
		ref := refParse(data)
		if ref.err != nil || ref.bodyErr != nil {
			t.Fatalf("engine decodes %q (rest %q), net/http refuses (%v %v): %q", whole.body, whole.rest, ref.err, ref.bodyErr, chunked)
		}
		if !bytes.Equal(whole.body, ref.body) {
			t.Fatalf("body differs for %q\nengine:   %q\nnet/http: %q", chunked, whole.body, ref.body)
		}
		if !sameTrailer(whole.trailer, ref.req.Trailer) {
			t.Fatalf("trailer differs for %q\nengine:   %v\nnet/http: %v", chunked, whole.trailer, ref.req.Trailer)
		}
	})
}

var requestSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n",
	"GET http://b.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n",
	"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
	"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	"POST / HTTP/1.1\r\nHost: a\r\nExpect: bogus\r\n\r\n",
	"GET /%2F%2e%2E/a HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a!b'c HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //evil.example/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
}

var chunkedSeeds = []string{
	"0\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\n",
	"5;a=b;c\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
	"5\nhello\n0\n\n",
	"5\r\nhello\n0\r\n\r\n",
	"5\rhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",
	" 5\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n",
	"-5\r\nhello\r\n0\r\n\r\n",
	"fffffffffffffffff\r\n",
	"8000000000000000\r\n",
	"5\r\nhelloXX0\r\n\r\n",
	"5\r\nhel",
	"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n",
	"0\r\nBad Name: x\r\n\r\n",
	"0\r\nX-T: a\x00b\r\n\r\n",
	"0\r\nContent-Length: 5\r\n\r\n",
	"1;" + strings.Repeat("x", 5000) + "\r\na\r\n0\r\n\r\n",
	"0\r\nX-T: 1\r\nX-T: 2\r\n\r\n",
}
