package proxy

// Direct fuzz targets on the upstream client's response parser: the head
// reader and parser, the framing decision (RFC 9112 section 6.3) and the
// body decoders, on bytes in memory. The reference is net/http's client
// (http.ReadResponse, what Traefik's transport uses): what the proxy
// accepts it must read exactly as net/http does, and where it keeps the
// connection for another request the next response must start at the same
// byte for both (a disagreement there is a response desync: one client
// receiving bytes meant for another).

import (
	"bufio"
	"bytes"
	"context"
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

// respResult is what the proxy made of one backend response.
type respResult struct {
	err      error
	status   int
	mode     int
	cl       int64
	close    bool
	body     []byte
	trailer  http.Header
	rest     []byte // bytes after the response: the next response on this connection
	fields   []field
	upgraded bool
}

// readResponse runs the exchange's head reader, parser, framing decision and
// body decoder over resp, read at most size bytes at a time.
func readResponse(t testing.TB, resp, method string, size int) respResult {
	var res respResult
	tr, err := NewTransport(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := newFastProxy(mustURL(t, "http://backend"), tr, defaultOpts())
	req, _ := http.NewRequestWithContext(context.Background(), method, "/", nil)
	src := strings.NewReader(resp)
	ex := exchange{p: p, rw: newFakeRW(), r: req, ctx: req.Context(), probe: -1}
	ex.c = &conn{nc: &memConn{r: &smallReader{r: src, n: size}}, pool: p.pool}
	ex.c.attachBufs()
	if err := ex.readFinalHead(); err != nil {
		res.err = err
		return res
	}
	h := &ex.head
	res.status, res.cl, res.close = h.status, h.contentLength, h.close
	res.fields = slices.Clone(h.fields())
	if h.status == http.StatusSwitchingProtocols {
		res.upgraded = true
		return res
	}
	res.mode = h.framing(method)
	b := body{mode: res.mode, left: h.contentLength}
	for {
		p, err := ex.nextBody(&b)
		res.body = append(res.body, p...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.err = err
			return res
		}
		if len(res.body) > 1<<20 {
			t.Fatalf("body decoder loops: %d bytes from a %d-byte input", len(res.body), len(resp))
		}
	}
	for _, f := range b.trailer {
		if res.trailer == nil {
			res.trailer = http.Header{}
		}
		res.trailer[f.name] = append(res.trailer[f.name], f.value)
	}
	buffered, _ := ex.c.br.Peek(ex.c.br.Buffered())
	rest, _ := io.ReadAll(src)
	res.rest = append(bytes.Clone(buffered), rest...)
	return res
}

// refResponse is net/http's reading of the same bytes (1xx skipped, as its
// Transport does).
type refResponse struct {
	err   error
	res   *http.Response
	body  []byte
	bErr  error
	rest  []byte
	reuse bool
}

func readRefResponse(resp, method string) refResponse {
	var out refResponse
	src := strings.NewReader(resp)
	br := bufio.NewReaderSize(src, 4096)
	for i := 0; ; i++ {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			out.err = err
			return out
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols || i == max1xx-1 {
			out.res = res
			break
		}
	}
	out.body, out.bErr = io.ReadAll(out.res.Body)
	buffered, _ := br.Peek(br.Buffered())
	rest, _ := io.ReadAll(src)
	out.rest = append(bytes.Clone(buffered), rest...)
	// net/http's Transport keeps a connection when the response did not
	// ask to close and its end is known (not delimited by EOF).
	r := out.res
	bodyless := method == http.MethodHead || r.StatusCode == 204 || r.StatusCode == 304 || r.StatusCode < 200
	out.reuse = !r.Close && (bodyless || r.ContentLength >= 0 || slices.Equal(r.TransferEncoding, []string{"chunked"}))
	return out
}

// sameTrailer compares trailers, ignoring the keys net/http announces with
// no value (those declared in Trailer but never sent).
func sameTrailer(a, b http.Header) bool {
	strip := func(h http.Header) http.Header {
		out := http.Header{}
		for k, v := range h {
			if len(v) > 0 {
				out[k] = v
			}
		}
		return out
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// checkFields: every field the parser keeps is a token name in canonical
// form with a value net/http would accept, so nothing reaches the client
// or a middleware that could split or smuggle a header.
func checkFields(t *testing.T, in string, fields []field) {
	t.Helper()
	for _, f := range fields {
		if !httpguts.ValidHeaderFieldName(f.name) || textproto.CanonicalMIMEHeaderKey(f.name) != f.name {
			t.Fatalf("field name %q kept from %q", f.name, in)
		}
		if !httpguts.ValidHeaderFieldValue(f.value) {
			t.Fatalf("field value %q (of %s) kept from %q", f.value, f.name, in)
		}
	}
}

// FuzzResponseHead: arbitrary backend bytes after a GET or a HEAD.
// Asserts: no panic or loop; the same result whatever the segmentation;
// kept fields are valid; never both framings (chunked drops
// Content-Length and marks the connection not reusable when both came);
// a response the proxy accepts is accepted by net/http with the same
// status, framing, body and trailers; when the proxy would reuse the
// connection, net/http would too, and the next response starts at the
// same byte.
func FuzzResponseHead(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add(s, false, uint8(5))
		if strings.Contains(s, "Content-Length: 5") {
			f.Add(s, true, uint8(5))
		}
	}
	f.Fuzz(func(t *testing.T, resp string, head bool, chop uint8) {
		if len(resp) > 64<<10 {
			return
		}
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		whole := readResponse(t, resp, method, len(resp)+1)
		piece := readResponse(t, resp, method, 1+int(chop%13))
		if (whole.err == nil) != (piece.err == nil) || whole.status != piece.status || whole.mode != piece.mode ||
			!bytes.Equal(whole.body, piece.body) || !bytes.Equal(whole.rest, piece.rest) {
			t.Fatalf("result depends on segmentation for %q: whole %v %d %q, pieces %v %d %q",
				resp, whole.err, whole.status, whole.body, piece.err, piece.status, piece.body)
		}
		checkFields(t, resp, whole.fields)
		if whole.status != 0 && (whole.status < 100 || whole.status > 999) {
			t.Fatalf("status %d from %q", whole.status, resp)
		}
		if whole.mode == bodyChunked && whole.cl != -1 {
			t.Fatalf("chunked response keeps Content-Length %d: %q", whole.cl, resp)
		}
		if whole.err != nil || whole.upgraded {
			return
		}
		ref := readRefResponse(resp, method)
		if ref.err != nil || ref.bErr != nil {
			t.Fatalf("proxy reads %d %q, net/http fails (%v %v): %q", whole.status, whole.body, ref.err, ref.bErr, resp)
		}
		r := ref.res
		if r.StatusCode != whole.status {
			t.Fatalf("status %d, net/http %d: %q", whole.status, r.StatusCode, resp)
		}
		chunked := slices.Equal(r.TransferEncoding, []string{"chunked"})
		switch whole.mode {
		case bodyChunked:
			if !chunked {
				t.Fatalf("proxy reads chunked, net/http %v: %q", r.TransferEncoding, resp)
			}
		case bodyLength:
			if chunked || r.ContentLength != whole.cl {
				t.Fatalf("proxy reads %d bytes by length, net/http cl %d te %v: %q", whole.cl, r.ContentLength, r.TransferEncoding, resp)
			}
		case bodyEOF:
			if chunked || r.ContentLength != -1 {
				t.Fatalf("proxy reads to EOF, net/http cl %d te %v: %q", r.ContentLength, r.TransferEncoding, resp)
			}
		}
		if !bytes.Equal(whole.body, ref.body) {
			t.Fatalf("body differs for %q\nproxy:    %q\nnet/http: %q", resp, whole.body, ref.body)
		}
		if !sameTrailer(whole.trailer, r.Trailer) {
			t.Fatalf("trailer differs for %q\nproxy:    %v\nnet/http: %v", resp, whole.trailer, r.Trailer)
		}
		reuse := whole.mode != bodyEOF && !whole.close
		if reuse && !ref.reuse {
			t.Fatalf("proxy would reuse the connection, net/http would not: %q", resp)
		}
		if reuse && !bytes.Equal(whole.rest, ref.rest) {
			t.Fatalf("next response starts at a different byte for %q\nproxy:    %q\nnet/http: %q", resp, whole.rest, ref.rest)
		}
	})
}

// FuzzChunkedResponse: arbitrary bytes after a chunked response head: the
// decoded body and trailers match net/http's chunked reader whenever the
// proxy accepts, and the bytes left for the next response are the same.
func FuzzChunkedResponse(f *testing.F) {
	for _, s := range chunkedResponseSeeds {
		f.Add(s, uint8(2))
	}
	const head = "HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n"
	f.Fuzz(func(t *testing.T, chunked string, chop uint8) {
		if len(chunked) > 64<<10 {
			return
		}
		resp := head + chunked
		whole := readResponse(t, resp, http.MethodGet, len(resp)+1)
		piece := readResponse(t, resp, http.MethodGet, 1+int(chop%13))
		if (whole.err == nil) != (piece.err == nil) || !bytes.Equal(whole.body, piece.body) || !bytes.Equal(whole.rest, piece.rest) {
			t.Fatalf("chunked decoding depends on segmentation for %q: %v / %v", chunked, whole.err, piece.err)
		}
		if whole.err != nil {
			return
		}
		ref := readRefResponse(resp, http.MethodGet)
		if ref.err != nil || ref.bErr != nil {
			t.Fatalf("proxy decodes %q, net/http fails (%v %v): %q", whole.body, ref.err, ref.bErr, chunked)
		}
		if !bytes.Equal(whole.body, ref.body) || !bytes.Equal(whole.rest, ref.rest) {
			t.Fatalf("chunked %q\nproxy:    body %q rest %q\nnet/http: body %q rest %q", chunked, whole.body, whole.rest, ref.body, ref.rest)
		}
		if !sameTrailer(whole.trailer, ref.res.Trailer) {
			t.Fatalf("trailer differs for %q\nproxy:    %v\nnet/http: %v", chunked, whole.trailer, ref.res.Trailer)
		}
	})
}

var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nA: b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nbody",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\n\r\nrest",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
	"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\n\r\n",
	"HTTP/1.1 200OK\r\n\r\n",
	"HTTP/1.1 99 Low\r\n\r\n",
	"HTTP/1.1 1000 High\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: x-a\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
	"\r\nHTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
}

var chunkedResponseSeeds = []string{
	"0\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\n",
	"5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
	"5\nhello\n0\n\n",
	"5\rhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",
	" 5\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n",
	"-5\r\nhello\r\n0\r\n\r\n",
	"fffffffffffffffff\r\n",
	"5\r\nhelloXX0\r\n\r\n",
	"5\r\nhel",
	"0\r\nBad Name: x\r\n\r\n",
	"0\r\nX-T: a\x00b\r\n\r\n",
	"0\r\nContent-Length: 5\r\n\r\n",
	"0\r\nX-T: 1\r\nX-T: 2\r\n\r\n",
	"1;" + strings.Repeat("x", 5000) + "\r\na\r\n0\r\n\r\n",
}
