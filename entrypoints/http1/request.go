package http1

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// httpError is a request the server answers itself, then closes.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }

var (
	errHeadTooLarge  = &httpError{http.StatusRequestHeaderFieldsTooLarge, "request header too large"}
	errUnsupportedTE = &httpError{http.StatusNotImplemented, "unsupported transfer encoding"}
)

// readHead reads the request line and header lines, up to and including
// the empty line; lines may end in CRLF or a bare LF. An empty line before
// the request line is refused with 400 as net/http (so Traefik) does,
// except up to four CR/LF bytes after a POST body (RFC 9112 §2.2 allows
// either). The result is valid until the next read.
func (c *conn) readHead() (string, error) {
	if c.lastPOST {
		// Old clients follow a POST body with a stray CRLF; net/http
		// skips up to four such bytes, so we do too.
		c.lastPOST = false
		if b, _ := c.br.Peek(4); len(b) > 0 {
			n := 0
			for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
				n++
			}
			_, _ = c.br.Discard(n)
		}
	}
	// Fast path: the whole head is already buffered.
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		if b[0] != '\r' && b[0] != '\n' {
			if end := headEnd(b); end > 0 {
				if end > c.srv.maxHeaderBytes()+4096 {
					return "", errHeadTooLarge
				}
				head := string(b[:end])
				_, _ = c.br.Discard(end)
				return head, nil
			}
		}
	}
	limit := c.srv.maxHeaderBytes() + 4096 // as net/http: slack for the request line
	buf := c.scratch[:0]
	lineStart := 0
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(buf)+len(frag) > limit {
			return "", errHeadTooLarge
		}
		buf = append(buf, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			c.scratch = buf[:0]
			if len(buf) == 0 {
				return "", err // closed between requests
			}
			return "", errPartialHead{err}
		}
		line := buf[lineStart:]
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			if lineStart == 0 {
				// net/http (so Traefik) rejects an empty request line.
				return "", badRequest("malformed HTTP request")
			}
			c.scratch = buf[:0]
			return string(buf), nil
		}
		lineStart = len(buf)
	}
}

// headEnd returns the length of the head at the start of b (through the
// first empty line, CRLF or bare LF), or -1 if b does not hold it all. It
// must find the FIRST empty line: a later one belongs to a pipelined
// request or a body, and taking it would smuggle that into this head.
func headEnd(b []byte) int {
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		j += i
		switch {
		case j+1 < len(b) && b[j+1] == '\n':
			return j + 2
		case j+2 < len(b) && b[j+1] == '\r' && b[j+2] == '\n':
			return j + 3
		case j+2 >= len(b):
			return -1
		}
		i = j + 1
	}
}

type errPartialHead struct{ err error }

func (e errPartialHead) Error() string { return "partial request head: " + e.err.Error() }
func (e errPartialHead) Unwrap() error { return e.err }

// parsed is what parseHead returns besides the request fields.
type parsed struct {
	wantsClose       bool // close after the response (HTTP/1.1)
	wants10KeepAlive bool // HTTP/1.0 client asking for keep-alive
	chunked          bool
	contentLength    int64
	expectCont       bool
}

// parseHead fills r from the raw head (request line + headers); the
// strings share one allocation.
func (c *conn) parseHead(head string, r *http.Request, u *url.URL) (parsed, error) {
	var p parsed
	nl := strings.IndexByte(head, '\n')
	line := trimCR(head[:nl])
	rest := head[nl+1:]

	method, after, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(after, " ")
	if !ok1 || !ok2 {
		return p, badRequest("malformed HTTP request")
	}
	if !validMethod(method) {
		return p, badRequest("invalid method")
	}
	major, minor, ok := parseVersion(proto)
	if !ok {
		return p, badRequest("malformed HTTP version")
	}
	if major != 1 {
		return p, &httpError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	r.Method = method
	r.Proto = proto
	r.ProtoMajor, r.ProtoMinor = major, minor
	r.RequestURI = target

	if err := parseTarget(method, target, u); err != nil {
		return p, err
	}
	r.URL = u

	// Headers: count lines to size the map and share one []string.
	n := strings.Count(rest, "\n") - 1
	if n < 0 {
		n = 0
	}
	h := make(http.Header, n)
	values := make([]string, n)
	vi := 0
	lastKey := ""
	for {
		nl := strings.IndexByte(rest, '\n')
		if nl < 0 {
			break
		}
		line := trimCR(rest[:nl])
		rest = rest[nl+1:]
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding: joined to the previous value with
			// one space, as net/http does.
			if lastKey == "" {
				return p, badRequest("malformed MIME header: leading space")
			}
			if cont := trimOWS(line); cont != "" {
				vv := h[lastKey]
				if vv[len(vv)-1] == "" {
					vv[len(vv)-1] = cont // as net/http: no leading space
				} else {
					vv[len(vv)-1] += " " + cont
				}
				if !httpguts.ValidHeaderFieldValue(vv[len(vv)-1]) {
					return p, badRequest("invalid header value")
				}
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return p, badRequest("malformed MIME header line: " + truncate(line))
		}
		key := line[:colon]
		if !validHeaderName(key) {
			return p, badRequest("invalid header name")
		}
		val := trimOWS(line[colon+1:])
		if !httpguts.ValidHeaderFieldValue(val) {
			return p, badRequest("invalid header value")
		}
		key = canonicalKey(key)
		lastKey = key
		if vi < len(values) {
			values[vi] = val
			if vv, ok := h[key]; ok {
				h[key] = append(vv, val)
			} else {
				h[key] = values[vi : vi+1 : vi+1]
			}
			vi++
		} else {
			h[key] = append(h[key], val)
		}
	}
	r.Header = h

	// Host.
	hosts, haveHost := h["Host"]
	switch {
	case len(hosts) > 1:
		return p, badRequest("too many Host headers")
	case len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]):
		return p, badRequest("malformed Host header")
	case !haveHost && minor >= 1 && method != "CONNECT":
		return p, badRequest("missing required Host header")
	}
	r.Host = u.Host
	if r.Host == "" && len(hosts) == 1 {
		r.Host = hosts[0]
	}
	delete(h, "Host")

	// Connection semantics.
	conn := h["Connection"]
	if minor == 0 {
		r.Close = !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else {
		r.Close = len(conn) > 0 && httpguts.HeaderValuesContainsToken(conn, "close")
	}
	// What the server itself decides from, as net/http: the first
	// Connection value with the looser token match.
	p.wantsClose = r.Close
	if len(conn) > 0 {
		p.wantsClose = p.wantsClose || hasToken(conn[0], "close")
		p.wants10KeepAlive = minor == 0 && hasToken(conn[0], "keep-alive")
	}
	// Pragma: no-cache implies Cache-Control: no-cache (RFC 7234 §5.4).
	if pr, ok := h["Pragma"]; ok && len(pr) > 0 && pr[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}

	// Body framing (RFC 9112 §6).
	if te, ok := h["Transfer-Encoding"]; ok {
		if minor == 0 {
			// HTTP/1.0 has no chunked coding: ignore it, as net/http,
			// but the framing is faulty, so the connection closes after
			// the response (RFC 9112 §6.1).
			delete(h, "Transfer-Encoding")
			p.wants10KeepAlive = false
		} else {
			if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
				return p, errUnsupportedTE
			}
			delete(h, "Transfer-Encoding")
			if _, ok := h["Content-Length"]; ok {
				// Chunked wins and the length never goes downstream;
				// such a message may be a smuggling attempt, so the
				// connection closes after the response (RFC 9112
				// §6.1), which announces it.
				delete(h, "Content-Length")
				p.wantsClose = true
			}
			p.chunked = true
			p.contentLength = -1
			r.TransferEncoding = chunkedTE
		}
	}
	if !p.chunked {
		if cls := h["Content-Length"]; len(cls) > 0 {
			first := textproto.TrimString(cls[0])
			for _, v := range cls[1:] {
				if textproto.TrimString(v) != first {
					return p, badRequest("message cannot contain multiple Content-Length headers")
				}
			}
			n, ok := parseContentLength(first)
			if !ok {
				return p, badRequest("bad Content-Length")
			}
			if len(cls) > 1 {
				h["Content-Length"] = cls[:1]
			}
			p.contentLength = n
		}
	}
	r.ContentLength = p.contentLength

	if ex, ok := h["Expect"]; ok && len(ex) > 0 {
		if hasToken(ex[0], "100-continue") {
			p.expectCont = minor >= 1 && p.contentLength != 0
		} else if ex[0] != "" {
			return p, &httpError{http.StatusExpectationFailed, "unsupported Expect"}
		}
	}
	// Declared trailers: the keys go to r.Trailer (filled as the body is
	// read), not to the header.
	if decl, ok := h["Trailer"]; ok && p.chunked {
		// (without chunked coding net/http leaves the field in place)
		delete(h, "Trailer")
		r.Trailer = http.Header{}
		for _, d := range decl {
			for _, k := range strings.Split(d, ",") {
				k = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(k))
				switch k {
				case "":
					continue
				case "Transfer-Encoding", "Trailer", "Content-Length":
					return p, badRequest("bad trailer key")
				}
				r.Trailer[k] = nil
			}
		}
	}
	return p, nil
}

var chunkedTE = []string{"chunked"}

// parseTarget parses the request target into u (origin, absolute,
// authority and asterisk forms) as url.ParseRequestURI would, with a
// fast path for the common origin form.
func parseTarget(method, target string, u *url.URL) error {
	if target != "" && target[0] == '/' && plainPath(target) {
		if i := strings.IndexByte(target, '?'); i >= 0 {
			u.Path, u.RawQuery = target[:i], target[i+1:]
			if u.RawQuery == "" {
				u.ForceQuery = true
			}
		} else {
			u.Path = target
		}
		return nil
	}
	authority := method == "CONNECT" && !strings.HasPrefix(target, "/")
	raw := target
	if authority {
		raw = "http://" + target
	}
	pu, err := url.ParseRequestURI(raw)
	if err != nil {
		return badRequest("invalid request URI")
	}
	*u = *pu
	if authority {
		u.Scheme = ""
	}
	return nil
}

// plainPath: url.ParseRequestURI would take the target as is: a path of
// bytes it neither decodes nor re-escapes (so RawPath stays empty), then
// an optional query of visible ASCII.
func plainPath(s string) bool {
	i := 0
	for ; i < len(s) && s[i] != '?'; i++ {
		if !pathSafe[s[i]] {
			return false
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
}

var pathSafe = func() (t [256]bool) {
	for _, r := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@" {
		t[r] = true
	}
	return t
}()

func parseVersion(v string) (int, int, bool) {
	switch v {
	case "HTTP/1.1":
		return 1, 1, true
	case "HTTP/1.0":
		return 1, 0, true
	}
	return http.ParseHTTPVersion(v)
}

func parseContentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}

func validHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		if !httpguts.IsTokenRune(rune(k[i])) {
			return false
		}
	}
	return true
}

func trimCR(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\r' {
		return s[:n-1]
	}
	return s
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// canonicalKey returns the canonical form of a valid header name; the
// common ones come from a table, so they neither allocate nor hold on to
// the request's head.
func canonicalKey(k string) string {
	if v, ok := commonKeys[k]; ok {
		return v
	}
	upper := true
	for i := 0; i < len(k); i++ {
		b := k[i]
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			return textproto.CanonicalMIMEHeaderKey(k)
		}
		upper = b == '-'
	}
	return k
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Cdn-Loop", "Connection", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Cookie",
		"Date", "Dnt", "Etag", "Expect", "Forwarded", "From", "Host", "If-Match",
		"If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Keep-Alive",
		"Origin", "Pragma", "Priority", "Proxy-Authorization", "Range", "Referer", "Te",
		"Trailer", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests", "User-Agent",
		"Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
		"X-Forwarded-Server", "X-Real-Ip", "X-Request-Id", "Traceparent", "Tracestate",
		"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions",
		"Sec-Websocket-Protocol", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sec-Fetch-User", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Http2-Settings",
		"Grpc-Timeout", "Grpc-Encoding", "Grpc-Accept-Encoding",
	} {
		m[k] = k
		m[strings.ToLower(k)] = k
	}
	return m
}()

// hasToken finds token in v, case-insensitively, between boundaries of
// space, comma or tab: the loose match net/http applies to Expect.
func hasToken(v, token string) bool {
	for sp := 0; sp+len(token) <= len(v); sp++ {
		if sp > 0 && !tokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !tokenBoundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func tokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }
