package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// writeHead writes the request line and headers into the connection's buffer,
// straight from the client request: nothing is cloned or modified in place.
func (ex *exchange) writeHead() error {
	r := ex.r
	bw := ex.c.bw
	if !validHeaderName(r.Method) {
		return &statusError{code: http.StatusBadRequest, err: fmt.Errorf("invalid method %q", r.Method)}
	}
	if q := r.URL.RawQuery; q != "" && (!validHeaderValue(q) || strings.IndexByte(q, ' ') >= 0) {
		return &statusError{code: http.StatusBadRequest, err: errors.New("invalid query")}
	}
	_, _ = bw.WriteString(r.Method)
	_ = bw.WriteByte(' ')
	ex.writeTarget(bw)
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	host := ex.p.host
	if ex.p.passHost && r.Host != "" {
		host = r.Host
	}
	if !validHeaderValue(host) {
		return &statusError{code: http.StatusBadRequest, err: fmt.Errorf("invalid Host %q", host)}
	}
	_, _ = bw.WriteString(host)
	_, _ = bw.WriteString("\r\n")

	connVals := r.Header["Connection"]
	for k, vv := range r.Header {
		if skipRequestHeader(k) || (len(connVals) > 0 && headerValuesContainToken(connVals, k)) {
			continue
		}
		if !validHeaderName(k) {
			return &statusError{code: http.StatusBadGateway, err: fmt.Errorf("invalid header name %q", k)}
		}
		wk := k
		if ex.upType != "" {
			wk = webSocketKey(k)
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return &statusError{code: http.StatusBadGateway, err: fmt.Errorf("invalid value for header %q", k)}
			}
			_, _ = bw.WriteString(wk)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(v)
			_, _ = bw.WriteString("\r\n")
		}
	}

	if err := ex.writeXFF(bw, connVals); err != nil {
		return err
	}
	if headerValuesContainToken(r.Header["Te"], "trailers") {
		_, _ = bw.WriteString("Te: trailers\r\n")
	}
	if ex.upType != "" {
		_, _ = bw.WriteString("Connection: Upgrade\r\nUpgrade: ")
		_, _ = bw.WriteString(ex.upType)
		_, _ = bw.WriteString("\r\n")
	}
	switch ex.reqBody {
	case reqLength:
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), r.ContentLength, 10))
		_, _ = bw.WriteString("\r\n")
	case reqChunked:
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			_, _ = bw.WriteString("Trailer: ")
			first := true
			for k := range r.Trailer {
				if !validHeaderName(k) {
					return &statusError{code: http.StatusBadGateway, err: fmt.Errorf("invalid trailer name %q", k)}
				}
				if !first {
					_, _ = bw.WriteString(", ")
				}
				first = false
				_, _ = bw.WriteString(k)
			}
			_, _ = bw.WriteString("\r\n")
		}
	default:
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			_, _ = bw.WriteString("Content-Length: 0\r\n")
		}
	}
	_, _ = bw.WriteString("\r\n")
	return nil
}

// writeTarget writes the origin-form request target.
func (ex *exchange) writeTarget(bw *bufio.Writer) {
	u := ex.r.URL
	if u.Opaque != "" {
		_, _ = bw.WriteString(u.RequestURI())
		return
	}
	path := u.EscapedPath()
	if ex.p.preserve {
		path = joinPaths(ex.p.prefix, path)
	}
	if path == "" {
		path = "/"
	} else if path[0] != '/' && path != "*" {
		_ = bw.WriteByte('/')
	}
	_, _ = bw.WriteString(path)
	q := u.RawQuery
	if q == "" {
		if u.ForceQuery {
			_ = bw.WriteByte('?')
		}
		return
	}
	_ = bw.WriteByte('?')
	// As Traefik does: ';' is not a query separator for Go any more; make it '&'.
	for {
		i := strings.IndexByte(q, ';')
		if i < 0 {
			_, _ = bw.WriteString(q)
			return
		}
		_, _ = bw.WriteString(q[:i])
		_ = bw.WriteByte('&')
		q = q[i+1:]
	}
}

// joinPaths joins the server URL path and the request path with one slash.
func joinPaths(a, b string) string {
	if a == "" {
		return b
	}
	aslash := strings.HasSuffix(a, "/")
	bslash := strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}

// writeXFF appends the client address to X-Forwarded-For, folding prior values.
func (ex *exchange) writeXFF(bw *bufio.Writer, connVals []string) error {
	r := ex.r
	prior, present := r.Header["X-Forwarded-For"]
	if present && prior == nil {
		return nil // nil means "do not send", as in net/http/httputil
	}
	if len(connVals) > 0 && headerValuesContainToken(connVals, "X-Forwarded-For") {
		prior = nil
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	if len(prior) == 0 && ip == "" {
		return nil
	}
	_, _ = bw.WriteString("X-Forwarded-For: ")
	for i, v := range prior {
		if !validHeaderValue(v) {
			return &statusError{code: http.StatusBadGateway, err: fmt.Errorf("invalid X-Forwarded-For value")}
		}
		if i > 0 {
			_, _ = bw.WriteString(", ")
		}
		_, _ = bw.WriteString(v)
	}
	if ip != "" {
		if len(prior) > 0 {
			_, _ = bw.WriteString(", ")
		}
		_, _ = bw.WriteString(ip)
	}
	_, _ = bw.WriteString("\r\n")
	return nil
}

// skipRequestHeader: headers never copied as is (hop-by-hop, or written by us).
func skipRequestHeader(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "X-Forwarded-For":
		return true
	}
	return false
}

// webSocketKey restores the RFC 6455 spelling some servers insist on.
func webSocketKey(k string) string {
	switch k {
	case "Sec-Websocket-Key":
		return "Sec-WebSocket-Key"
	case "Sec-Websocket-Extensions":
		return "Sec-WebSocket-Extensions"
	case "Sec-Websocket-Accept":
		return "Sec-WebSocket-Accept"
	case "Sec-Websocket-Protocol":
		return "Sec-WebSocket-Protocol"
	case "Sec-Websocket-Version":
		return "Sec-WebSocket-Version"
	}
	return k
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isTokenByte[k[i]] {
			return false
		}
	}
	return true
}

// validHeaderValue rejects what could split the message: CR, LF and NUL.
func validHeaderValue(v string) bool {
	return strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, 0) < 0
}

// writeBody streams the client body to the backend.
func (ex *exchange) writeBody() error {
	r := ex.r
	bw := ex.c.bw
	buf := ex.c.buf
	chunked := ex.reqBody == reqChunked
	if ex.probe >= 0 {
		_, _ = bw.WriteString("1\r\n")
		_ = bw.WriteByte(byte(ex.probe))
		_, _ = bw.WriteString("\r\n")
	}
	var written int64
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			ex.bodyRead = true
			if !chunked && written+int64(n) > r.ContentLength {
				n = int(r.ContentLength - written)
			}
			if chunked {
				writeChunkHeader(bw, n)
			}
			if _, err := bw.Write(buf[:n]); err != nil {
				return &backendWriteError{err: err}
			}
			if chunked {
				_, _ = bw.WriteString("\r\n")
			}
			written += int64(n)
		}
		if rerr == io.EOF || (!chunked && written == r.ContentLength) {
			break
		}
		if rerr != nil {
			return &clientBodyError{err: rerr}
		}
	}
	if !chunked && written < r.ContentLength {
		return &clientBodyError{err: io.ErrUnexpectedEOF}
	}
	if chunked {
		_, _ = bw.WriteString("0\r\n")
		for k, vv := range r.Trailer {
			for _, v := range vv {
				if !validHeaderValue(v) {
					return &statusError{code: http.StatusBadGateway, err: fmt.Errorf("invalid value for trailer %q", k)}
				}
				_, _ = bw.WriteString(k)
				_, _ = bw.WriteString(": ")
				_, _ = bw.WriteString(v)
				_, _ = bw.WriteString("\r\n")
			}
		}
		_, _ = bw.WriteString("\r\n")
	}
	if ex.c.w.writes > 0 && ex.c.answered() {
		// The backend answered (or closed) before it had the whole body: it
		// may not have read it, so the connection is not reused.
		ex.closeAfter = true
	}
	if err := bw.Flush(); err != nil {
		return &backendWriteError{err: err}
	}
	return nil
}
