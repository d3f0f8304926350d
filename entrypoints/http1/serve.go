package http1

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"
)

// exchange is everything one request needs, allocated at once.
type exchange struct {
	req     *http.Request
	conn    parsed // the request's framing and connection wishes
	w       response
	ctx     reqContext
	url     url.URL
	body    *body
	bodyVal body
}

func (ex *exchange) bodyDone() { ex.ctx.setBodyRead() }

// serveRequest reads one request, runs the handler and completes the
// response. false: the connection is done (closed or hijacked).
func (c *conn) serveRequest() bool {
	// Reading and parsing happen in a frame of their own that is gone
	// while the handler runs: a handler that waits for hours (a stream,
	// a tunnel) keeps only the frames on the way to it, and the runtime
	// sizes its stack to four times their depth.
	ex := c.readRequest()
	if ex == nil {
		return false
	}
	if !c.runHandler(ex) {
		return false
	}
	w := &ex.w
	if w.hijacked {
		// As net/http: the request's context ends with the handler
		// (or earlier, when the hijacked connection is closed).
		ex.ctx.cancel()
		return false
	}
	if err := w.finish(); err != nil {
		c.close()
		return false
	}
	ex.ctx.finish()
	if w.closeAfter {
		if ex.body != nil && !ex.body.closeConsumed() {
			c.closeLingering()
		} else {
			c.close()
		}
		return false
	}
	if ex.body != nil && !ex.body.drain() {
		c.closeLingering()
		return false
	}
	if c.state.Load() != stActive {
		c.close() // Close() raced with this request
		return false
	}
	return true
}

// readRequest reads and parses one request; nil: the connection is done
// (rejected or closed).
//
//go:noinline
func (c *conn) readRequest() *exchange {
	s := c.srv
	if s.ReadTimeout > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(s.ReadTimeout))
	} else {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	head, err := c.readHead()
	if err != nil {
		c.reject(err)
		return nil
	}
	ex := &exchange{}
	ex.ctx.c = c
	var tmp http.Request
	p, err := c.parseHead(head, &tmp, &ex.url)
	if err != nil {
		c.reject(err)
		return nil
	}
	if s.WriteTimeout > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
	tmp.RemoteAddr = c.remoteAddr
	if c.tc != nil && c.tlsState == nil {
		st := c.tc.ConnectionState()
		c.tlsState = &st
	} else if c.tst != nil && c.tlsState == nil {
		st := c.tst.TLSConnectionState()
		c.tlsState = &st
	}
	tmp.TLS = c.tlsState
	switch {
	case p.chunked || p.contentLength > 0:
		ex.bodyVal = body{ex: ex, br: c.br, remaining: p.contentLength, chunked: p.chunked, expect: p.expectCont}
		if p.chunked {
			ex.bodyVal.remaining = 0
		}
		ex.body = &ex.bodyVal
		tmp.Body = ex.body
	default:
		tmp.Body = http.NoBody
		ex.ctx.bodyRead = true
	}
	r := tmp.WithContext(&ex.ctx)
	ex.req = r
	ex.conn = p
	c.lastPOST = r.Method == http.MethodPost
	c.served++
	ex.w = response{ex: ex, c: c, header: make(http.Header, 8), contentLength: -1, isHead: r.Method == http.MethodHead}
	return ex
}

// runHandler calls the handler, turning a panic into a closed connection
// (and a log line, unless it is http.ErrAbortHandler). false: stop.
func (c *conn) runHandler(ex *exchange) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ex.ctx.finish()
			if v != http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logger().Error("http: panic serving", "remote", c.remoteAddr, "panic", v, "stack", string(buf))
			}
			if !ex.w.hijacked {
				c.close()
			}
			ok = false
		}
	}()
	r := ex.req
	if r.RequestURI == "*" && r.Method == http.MethodOptions {
		serveGlobalOptions(&ex.w, r)
		return true
	}
	c.srv.Handler.ServeHTTP(&ex.w, r)
	return true
}

// serveGlobalOptions answers "OPTIONS *" for the server as a whole, as
// net/http (and so Traefik) does: 200 with an empty body.
func serveGlobalOptions(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4<<10))
	}
	w.Header().Set("Content-Length", "0")
}

// reject answers a request the server cannot accept and closes.
func (c *conn) reject(err error) {
	var he *httpError
	if !errors.As(err, &he) {
		// Read errors (timeout, reset, EOF mid-head): nothing to answer.
		var ph errPartialHead
		if errors.As(err, &ph) && isTimeout(ph.err) {
			he = &httpError{http.StatusRequestTimeout, "request timeout"}
		} else {
			c.close()
			return
		}
	}
	text := http.StatusText(he.code)
	msg := strconv.Itoa(he.code) + " " + text
	if he.code == http.StatusBadRequest && he.msg != "" {
		msg += ": " + he.msg
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	bw := c.bw
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.WriteString(strconv.Itoa(he.code))
	_, _ = bw.WriteString(" ")
	_, _ = bw.WriteString(text)
	_, _ = bw.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")
	_, _ = bw.WriteString(msg)
	_ = bw.Flush()
	c.closeLingering()
}

// closeLingering half-closes, then briefly reads what the client still
// sends, so the kernel does not answer unread input with a reset that
// would destroy the response in flight (as net/http's closeWriteAndWait).
func (c *conn) closeLingering() {
	if c.bw != nil {
		_ = c.bw.Flush()
	}
	if cw, ok := c.nc.(closeWriter); ok {
		_ = cw.CloseWrite()
		_ = c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, 256<<10))
	}
	c.close()
}
