package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// bufferBeforeChunking is how much body a handler may write without a
// Content-Length before the server commits to chunked coding (as
// net/http): small answers get a Content-Length instead.
const bufferBeforeChunking = 2048

// response is the http.ResponseWriter of one request. Its head is
// serialised into the connection's write buffer when the handler calls
// WriteHeader (so later header changes are ignored, as with net/http);
// only the framing lines wait for the first body bytes or the handler's
// return.
type response struct {
	ex     *exchange
	c      *conn
	header http.Header

	status        int
	wroteHeader   bool  // the status line and fields are in the buffer
	committed     bool  // the head is complete
	contentLength int64 // declared or computed; -1 unknown
	written       int64
	chunked       bool
	closeAfter    bool // no further request on this connection
	isHead        bool
	noBody        bool // 1xx, 204, 304: no body at all
	hasType       bool
	hasDate       bool
	hasCE         bool
	te            string // Transfer-Encoding the handler set
	connection    []string
	trailers      bool     // declared or http.TrailerPrefix trailers
	declared      []string // declared trailer keys, canonical
	sentContinue  bool
	pending       []byte // body held back until the framing is known
	hijacked      bool
	handlerDone   bool
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.writeInterim(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.noBody = !bodyAllowed(code)
	h := w.header
	if decl, ok := h["Trailer"]; ok {
		w.trailers = true
		for _, d := range decl {
			for _, k := range strings.Split(d, ",") {
				if k = strings.TrimSpace(k); k != "" {
					w.declared = append(w.declared, http.CanonicalHeaderKey(k))
				}
			}
		}
	}
	bw := w.c.writer()
	writeStatusLine(bw, w.ex.req.ProtoMinor, code)
	for k, vv := range h {
		switch k {
		case "Content-Length":
			if w.noBody && code != http.StatusNotModified || len(vv) == 0 {
				continue
			}
			n, ok := parseContentLength(strings.TrimSpace(vv[0]))
			if !ok {
				continue // invalid: ignored, as net/http
			}
			if code == http.StatusNotModified {
				continue
			}
			w.contentLength = n
			writeField(bw, k, vv[:1])
			continue
		case "Transfer-Encoding":
			if len(vv) > 0 {
				w.te = vv[0]
			}
			continue
		case "Connection":
			w.connection = vv
			if httpguts.HeaderValuesContainsToken(vv, "close") {
				w.closeAfter = true
			}
			continue
		case "Content-Type":
			w.hasType = true
			if code == http.StatusNotModified {
				continue
			}
		case "Date":
			w.hasDate = true
		case "Content-Encoding":
			w.hasCE = len(vv) > 0 && vv[0] != ""
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			w.trailers = true
			continue
		}
		if w.declared != nil && slices.Contains(w.declared, k) {
			continue
		}
		writeField(bw, k, vv)
	}
}

// writeInterim sends a 1xx response (103 Early Hints, 100 Continue) at once.
func (w *response) writeInterim(code int) {
	if code == http.StatusContinue {
		if w.sentContinue {
			return
		}
		w.sentContinue = true
	}
	bw := w.c.writer()
	writeStatusLine(bw, w.ex.req.ProtoMinor, code)
	for k, vv := range w.header {
		if k == "Content-Length" || k == "Transfer-Encoding" {
			continue
		}
		writeField(bw, k, vv)
	}
	_, _ = bw.WriteString("\r\n")
	_ = bw.Flush()
}

// sendContinue answers "Expect: 100-continue" as the handler starts
// reading the body, unless it already answered.
func (w *response) sendContinue() {
	if w.wroteHeader || w.sentContinue || w.hijacked {
		return
	}
	w.sentContinue = true
	bw := w.c.writer()
	_, _ = bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	_ = bw.Flush()
}

func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.committed {
		if w.contentLength < 0 && len(w.pending)+len(p) <= bufferBeforeChunking {
			if w.pending == nil {
				w.pending = w.c.pendingBuf()
			}
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		if len(w.pending) > 0 {
			w.commit(w.pending)
		} else {
			w.commit(p)
		}
	}
	return w.writeBody(p)
}

// WriteString avoids a copy for io.WriteString callers.
func (w *response) WriteString(s string) (int, error) {
	if w.committed && !w.chunked && !w.noBody && !w.isHead && !w.hijacked &&
		(w.contentLength < 0 || w.written+int64(len(s)) <= w.contentLength) {
		w.written += int64(len(s))
		n, err := w.c.writer().WriteString(s)
		return n, w.writeErr(err)
	}
	return w.Write([]byte(s))
}

func (w *response) writeBody(p []byte) (int, error) {
	if w.isHead {
		return len(p), nil // HEAD: the body is dropped, as net/http
	}
	bw := w.c.writer()
	if w.chunked {
		writeChunkHeader(bw, len(p))
		n, err := bw.Write(p)
		_, _ = bw.WriteString("\r\n")
		return n, w.writeErr(err)
	}
	n, err := bw.Write(p)
	return n, w.writeErr(err)
}

func (w *response) writeErr(err error) error {
	if err != nil {
		w.closeAfter = true
	}
	return err
}

// commit decides the framing and completes the head; first is the first
// body bytes (for content sniffing), or nil.
func (w *response) commit(first []byte) {
	w.committed = true
	req := w.ex.req
	http11 := req.ProtoMinor >= 1
	addLength := false
	sniff := ""
	if !w.noBody {
		if w.contentLength < 0 {
			switch {
			case w.te != "" && w.isHead:
				// HEAD: neither framing header, as net/http.
			case w.te != "":
				if w.te == "identity" || !http11 {
					w.closeAfter = true // delimited by the close
				} else {
					w.chunked = true
				}
			case w.handlerDone && !w.trailers && (!w.isHead || w.written > 0 && w.written <= bufferBeforeChunking):
				if w.isHead {
					w.contentLength = w.written
				} else {
					w.contentLength = int64(len(w.pending))
				}
				addLength = true
			case w.isHead:
			case http11:
				w.chunked = true
			default:
				w.closeAfter = true
			}
		}
		if !w.hasType && w.te == "" && !w.hasCE && len(first) > 0 {
			sniff = http.DetectContentType(first)
		}
	}

	// Connection management.
	if w.c.srv.closing.Load() || http11 && w.ex.conn.wantsClose || w.c.keepAliveSpent() {
		w.closeAfter = true
	}
	if b := w.ex.body; b != nil {
		// As net/http, the body is settled before the head goes out, so
		// a close it forces is announced — but only once the handler
		// returned: draining under a running handler would deadlock a
		// full-duplex exchange.
		if w.handlerDone {
			if !b.drain() {
				w.closeAfter = true
			}
		} else if b.forcesClose() {
			w.closeAfter = true
		}
	}
	if w.ex.body != nil && w.ex.body.expect && !w.sentContinue {
		w.closeAfter = true // the client may never send the body
	}
	if !http11 && (!w.ex.conn.wants10KeepAlive || !w.noBody && !w.isHead && w.contentLength < 0) {
		w.closeAfter = true // HTTP/1.0 keeps alive only when asked, with a length
	}

	bw := w.c.writer()
	if !w.hasDate {
		_, _ = bw.Write(dateLine())
	}
	if addLength {
		_, _ = bw.WriteString("Content-Length: ")
		var b [20]byte
		_, _ = bw.Write(strconv.AppendInt(b[:0], w.contentLength, 10))
		_, _ = bw.WriteString("\r\n")
	}
	if sniff != "" {
		_, _ = bw.WriteString("Content-Type: ")
		_, _ = bw.WriteString(sniff)
		_, _ = bw.WriteString("\r\n")
	}
	if w.chunked {
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case w.closeAfter:
		if http11 {
			_, _ = bw.WriteString("Connection: close\r\n")
		}
	case w.connection != nil:
		writeField(bw, "Connection", w.connection)
	case !http11:
		_, _ = bw.WriteString("Connection: keep-alive\r\n")
	}
	_, _ = bw.WriteString("\r\n")
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = p[:0]
		_, _ = w.writeBody(p)
	}
}

// finish completes the response after the handler returned.
func (w *response) finish() error {
	if w.hijacked {
		return nil
	}
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pending)
	}
	bw := w.c.writer()
	if w.chunked {
		_, _ = bw.WriteString("0\r\n")
		// Declared trailers, and http.TrailerPrefix ones set at any time
		// (httputil.ReverseProxy adds unannounced upstream trailers so).
		w.writeTrailers()
		_, _ = bw.WriteString("\r\n")
	}
	if !w.noBody && !w.isHead && w.contentLength >= 0 && w.written < w.contentLength {
		w.closeAfter = true // the framing promised more than was sent
	}
	return w.writeErr(bw.Flush())
}

// writeTrailers writes the declared trailer fields and those set with
// http.TrailerPrefix.
func (w *response) writeTrailers() {
	bw := w.c.writer()
	for _, k := range w.declared {
		if vv, ok := w.header[k]; ok && httpguts.ValidTrailerHeader(k) {
			writeField(bw, k, vv)
		}
	}
	for k, vv := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			writeField(bw, k[len(http.TrailerPrefix):], vv)
		}
	}
}

// Flush sends what is buffered, committing to chunked coding if the
// length is not known yet.
func (w *response) Flush() { _ = w.FlushError() }

func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pending)
	}
	if d := w.c.srv.WriteTimeout; d > 0 {
		// A flushing handler streams (SSE, long poll): writeTimeout
		// bounds each flush, so a client that stops reading is cut but
		// a stream that flows is not.
		_ = w.c.nc.SetWriteDeadline(time.Now().Add(d))
	}
	if err := w.c.writer().Flush(); err != nil {
		return w.writeErr(err)
	}
	// A streaming response waits between flushes, often for long (an
	// event stream): the writer goes back to the pool meanwhile, and
	// the hold-back buffer too (committed: it is not used again).
	w.c.releaseWriter()
	w.pending = nil
	w.c.releasePend()
	return nil
}

// Hijack hands the connection to the handler (WebSocket, h2c upgrade).
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader && !w.committed {
		w.commit(nil)
	}
	if err := w.c.writer().Flush(); err != nil {
		return nil, nil, err
	}
	w.ex.ctx.stopWatch()
	c := w.c
	c.reclaimReader()
	w.pending = nil
	c.releasePend()
	// The connection stays in the server's set as a tunnel: Close (the
	// end of a graceful shutdown) and the idle sweep close it.
	t := &tunnel{Conn: c.nc, c: c, ctx: &w.ex.ctx}
	if s := c.srv; s.WebSocketPingInterval > 0 && isWebSocket(w.ex.req.Header["Upgrade"]) {
		t.ping = newWSPinger(t, s.WebSocketPingInterval, s.WebSocketPingTimeout)
	}
	c.tun = t // published by the CAS below
	if !c.state.CompareAndSwap(stActive, stHijacked) {
		c.tun = nil
		return nil, nil, errors.New("http1: connection is closing")
	}
	w.hijacked = true
	c.report(connreg.StateTunnel)
	_ = c.nc.SetDeadline(time.Time{})
	// The buffers go to the handler, now over the tunnel (so that what
	// passes through them counts as activity), with what was read ahead
	// still buffered.
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		c.br.Reset(io.MultiReader(bytes.NewReader(bytes.Clone(b)), t))
		_, _ = c.br.Peek(n)
	} else {
		c.br.Reset(t)
	}
	c.bw.Reset(t) // flushed above
	rw := bufio.NewReadWriter(c.br, c.bw)
	c.br, c.bw = nil, nil // the handler owns them now
	c.srv.addTunnel(t)
	return t, rw, nil
}

func (w *response) SetReadDeadline(t time.Time) error  { return w.c.nc.SetReadDeadline(t) }
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// EnableFullDuplex: the server never drains the request body before the
// response starts, so reading and writing may already interleave.
func (w *response) EnableFullDuplex() error { return nil }

// writeField writes "k: v" lines; CR and LF in values become spaces so a
// value cannot split the response, and invalid names are dropped, as
// net/http does.
func writeField(bw *bufio.Writer, k string, vv []string) {
	if !fieldNameOK(k) {
		return
	}
	for _, v := range vv {
		_, _ = bw.WriteString(k)
		_, _ = bw.WriteString(": ")
		if strings.IndexByte(v, '\n') >= 0 || strings.IndexByte(v, '\r') >= 0 {
			v = strings.TrimSpace(newlineToSpace.Replace(v))
		}
		_, _ = bw.WriteString(v)
		_, _ = bw.WriteString("\r\n")
	}
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

func fieldNameOK(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if b := k[i]; b <= ' ' || b >= 0x7f || b == ':' {
			return false
		}
	}
	return true
}

func writeChunkHeader(bw *bufio.Writer, n int) {
	var b [18]byte
	_, _ = bw.Write(append(strconv.AppendInt(b[:0], int64(n), 16), '\r', '\n'))
}

func bodyAllowed(code int) bool {
	return (code < 100 || code > 199) && code != http.StatusNoContent && code != http.StatusNotModified
}
