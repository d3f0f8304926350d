package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
)

const (
	maxHeadSize    = 1 << 20  // response head limit (slow path beyond the read buffer)
	maxTrailerSize = 64 << 10 // chunked trailer section limit
	max1xx         = 10       // informational responses tolerated before the final one
)

// badResponseError is a malformed backend response: always 502.
type badResponseError struct{ msg string }

func (e *badResponseError) Error() string { return "malformed backend response: " + e.msg }

func badResponse(format string, args ...any) error {
	return &badResponseError{msg: fmt.Sprintf(format, args...)}
}

// noResponseError: the connection failed before the first response byte. On a
// reused connection this usually means the backend had closed it while idle.
type noResponseError struct{ err error }

func (e *noResponseError) Error() string { return "backend sent no response: " + e.err.Error() }
func (e *noResponseError) Unwrap() error { return e.err }

// field is one header line; both strings point into the head's single allocation.
type field struct{ name, value string }

// Body framing of a response.
const (
	bodyNone = iota
	bodyLength
	bodyChunked
	bodyEOF // delimited by connection close
)

// respHead is a parsed response head.
type respHead struct {
	status        int
	minor         int
	fixed         [24]field // fields, while they fit
	nFixed        int
	extra         []field // all fields, once they do not
	contentLength int64   // -1: absent
	chunked       bool
	keepAlive     bool // HTTP/1.0 "Connection: keep-alive"
	close         bool // "Connection: close" or HTTP/1.0 without keep-alive
	upgrade       string
	contentType   string
	trailer       bool // a Trailer header announces trailer fields
	hasCC         bool // Cache-Control present
	pragmaNoCache bool
	connTokens    [4]string // raw Connection header values
	nConn         int
}

// fields returns the header fields in order.
func (h *respHead) fields() []field {
	if h.extra != nil {
		return h.extra
	}
	return h.fixed[:h.nFixed]
}

func (h *respHead) addField(f field) {
	if h.extra == nil && h.nFixed < len(h.fixed) {
		h.fixed[h.nFixed] = f
		h.nFixed++
		return
	}
	if h.extra == nil {
		h.extra = make([]field, h.nFixed, 2*len(h.fixed))
		copy(h.extra, h.fixed[:])
	}
	h.extra = append(h.extra, f)
}

// listedInConnection reports whether name (canonical) is a token of the Connection header.
func (h *respHead) listedInConnection(name string) bool {
	for _, v := range h.connTokens[:h.nConn] {
		if tokenListContains(v, name) {
			return true
		}
	}
	return false
}

// readHead reads one response head (status line through the blank line) and
// returns it as a single string. On the fast path it sits in the read buffer and
// costs exactly one allocation. Waits go through ex.peek, so an interrupted wait
// never loses bytes.
func (ex *exchange) readHead() (string, error) {
	if _, err := ex.peek(1); err != nil {
		if ex.headErr != nil && errors.Is(err, ex.headErr) {
			return "", err
		}
		return "", &noResponseError{err: err}
	}
	br := ex.c.br
	var acc []byte // slow path: a head larger than the read buffer
	lineStart := 0 // start of the current line in acc
	scanned := 0   // bytes of the buffer holding complete lines
	for {
		buf, _ := br.Peek(br.Buffered())
		for {
			i := bytes.IndexByte(buf[scanned:], '\n')
			if i < 0 {
				break
			}
			end := scanned + i + 1
			blank := isBlankLine(buf[scanned:end])
			if acc != nil {
				acc = append(acc, buf[scanned:end]...)
				blank = isBlankLine(acc[lineStart:])
				lineStart = len(acc)
			}
			if blank {
				if acc == nil && scanned == 0 {
					return "", badResponse("empty status line")
				}
				var s string
				if acc == nil {
					s = string(buf[:end])
				} else {
					s = string(acc)
				}
				_, _ = br.Discard(end)
				return s, nil
			}
			scanned = end
		}
		if br.Buffered() >= br.Size() {
			// Move what we have out of the buffer and keep going.
			if acc == nil {
				acc = make([]byte, 0, 2*len(buf))
				acc = append(acc, buf[:scanned]...)
				lineStart = scanned
			}
			acc = append(acc, buf[scanned:]...)
			if len(acc) > maxHeadSize {
				return "", badResponse("head larger than %d bytes", maxHeadSize)
			}
			_, _ = br.Discard(len(buf))
			scanned = 0
			if _, err := ex.peek(1); err != nil {
				return "", fmt.Errorf("reading response head: %w", unexpectedEOF(err))
			}
			br = ex.c.br // an idle wait may have swapped the buffers
			continue
		}
		if _, err := ex.peek(br.Buffered() + 1); err != nil {
			return "", fmt.Errorf("reading response head: %w", unexpectedEOF(err))
		}
	}
}

func isBlankLine(b []byte) bool {
	return len(b) == 1 || (len(b) == 2 && b[0] == '\r')
}

// cutLine splits off the first line (without its CRLF or LF).
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseHead parses a head read by readHead into h.
func parseHead(s string, h *respHead) error {
	h.reset()
	line, rest := cutLine(s)
	// "HTTP/1.1 200 OK": the reason phrase is optional, its separator too.
	if len(line) < 12 || line[:7] != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return badResponse("status line %q", truncate(line))
	}
	switch line[7] {
	case '0':
		h.minor = 0
	case '1':
		h.minor = 1
	default:
		return badResponse("unsupported version %q", truncate(line[:8]))
	}
	code := 0
	for _, c := range []byte(line[9:12]) {
		if c < '0' || c > '9' {
			return badResponse("status code %q", truncate(line))
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return badResponse("status code %d", code)
	}
	h.status = code

	var te string
	nTE := 0
	for rest != "" {
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badResponse("obsolete line folding")
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return badResponse("header line %q", truncate(line))
		}
		name, ok := canonicalKey(line[:colon])
		if !ok {
			return badResponse("header name %q", truncate(line[:colon]))
		}
		if !validFieldValue(line[colon+1:]) {
			// A CR, NUL or other control byte: net/http's client refuses
			// it too, and relayed it could split the client's response.
			return badResponse("header value of %s", name)
		}
		value := textproto.TrimString(line[colon+1:])
		switch name {
		case "Content-Length":
			n, ok := parseContentLength(value)
			if !ok {
				return badResponse("Content-Length %q", truncate(value))
			}
			if h.contentLength >= 0 && h.contentLength != n {
				return badResponse("conflicting Content-Length")
			}
			if h.contentLength >= 0 {
				continue // identical repeat: keep one
			}
			h.contentLength = n
		case "Transfer-Encoding":
			te = value
			nTE++
		case "Connection":
			if h.nConn == len(h.connTokens) {
				return badResponse("too many Connection headers")
			}
			h.connTokens[h.nConn] = value
			h.nConn++
		case "Upgrade":
			h.upgrade = value
		case "Content-Type":
			h.contentType = value
		case "Trailer":
			h.trailer = true
		case "Cache-Control":
			h.hasCC = true
		case "Pragma":
			h.pragmaNoCache = value == "no-cache"
		}
		h.addField(field{name: name, value: value})
	}

	for _, v := range h.connTokens[:h.nConn] {
		if tokenListContains(v, "close") {
			h.close = true
		}
		if tokenListContains(v, "keep-alive") {
			h.keepAlive = true
		}
	}
	if h.minor == 0 && !h.keepAlive {
		h.close = true
	}

	if nTE > 0 && h.minor == 0 {
		// RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding
		// has faulty framing.
		return badResponse("Transfer-Encoding in an HTTP/1.0 response")
	}
	if nTE > 0 {
		if nTE > 1 || !strings.EqualFold(te, "chunked") {
			return badResponse("unsupported Transfer-Encoding %q", truncate(te))
		}
		h.chunked = true
		if h.contentLength >= 0 {
			// Both framings: chunked wins and the connection is not trusted after.
			h.contentLength = -1
			h.close = true
		}
	}
	return nil
}

func (h *respHead) reset() {
	*h = respHead{contentLength: -1}
}

// framing decides how the response body is delimited (RFC 9112 section 6.3).
func (h *respHead) framing(method string) int {
	switch {
	case method == "HEAD", h.status < 200, h.status == 204, h.status == 304:
		return bodyNone
	case h.chunked:
		return bodyChunked
	case h.contentLength >= 0:
		return bodyLength
	default:
		return bodyEOF
	}
}

func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// tokenListContains reports whether the comma-separated list v holds token (ASCII case-insensitive).
func tokenListContains(v, token string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(textproto.TrimString(t), token) {
			return true
		}
	}
	return false
}

// headerValuesContainToken is tokenListContains over several header lines.
func headerValuesContainToken(vv []string, token string) bool {
	for _, v := range vv {
		if tokenListContains(v, token) {
			return true
		}
	}
	return false
}

// validFieldValue: no control byte but HTAB (RFC 9110 section 5.5), the
// check net/http's client makes; a table, as this runs on every field.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isValueByte[s[i]] {
			return false
		}
	}
	return true
}

var isValueByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= ' ' && c != 0x7f || c == '\t'
	}
	return t
}()

var isTokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// canonicalKey validates a header name and returns its canonical form without
// allocating when it already is canonical or is a common header.
func canonicalKey(s string) (string, bool) {
	upper, fold := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isTokenByte[c] {
			// Checked to the last byte: a name needing case folding is
			// no less invalid for it ("TrA x" is not a field name).
			return s, false
		}
		if (upper && 'a' <= c && c <= 'z') || (!upper && 'A' <= c && c <= 'Z') {
			fold = true
		}
		upper = c == '-'
	}
	if fold {
		return canonicalSlow(s), true
	}
	return s, true
}

func canonicalSlow(s string) string {
	var stack [64]byte
	var b []byte
	if len(s) <= len(stack) {
		b = stack[:len(s)]
	} else {
		b = make([]byte, len(s))
	}
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if v, ok := commonHeaders[string(b)]; ok {
		return v
	}
	return string(b)
}

var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Connection",
		"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
		"Content-Range", "Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires",
		"Keep-Alive", "Last-Modified", "Link", "Location", "Pragma", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Via",
		"Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options", "X-Powered-By",
		"X-Request-Id", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
		"Grpc-Status", "Grpc-Message", "Alt-Svc",
	} {
		m[k] = k
	}
	return m
}()

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
