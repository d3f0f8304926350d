package http1

import (
	"bufio"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// statusLines holds "HTTP/1.1 200 OK\r\n" for every code, built once.
var statusLines = func() (t [2][1000]string) {
	for code := 100; code < 1000; code++ {
		text := http.StatusText(code)
		if text == "" {
			text = "status code " + strconv.Itoa(code)
		}
		t[0][code] = "HTTP/1.0 " + strconv.Itoa(code) + " " + text + "\r\n"
		t[1][code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
	}
	return t
}()

// writeStatusLine answers with the request's minor version, as net/http.
func writeStatusLine(bw *bufio.Writer, minor, code int) {
	v := 1
	if minor == 0 {
		v = 0
	}
	_, _ = bw.WriteString(statusLines[v][code])
}

type dateVal struct {
	sec  int64
	line []byte // "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"
}

var dateCache atomic.Pointer[dateVal]

// dateLine returns the Date header line, formatted once per second.
func dateLine() []byte {
	now := time.Now()
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.sec == sec {
		return d.line
	}
	b := make([]byte, 0, 40)
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, '\r', '\n')
	dateCache.Store(&dateVal{sec: sec, line: b})
	return b
}

// pendPool holds the hold-back buffers of connections that do not need
// one now (parked, streaming, hijacked).
var pendPool = sync.Pool{New: func() any { b := make([]byte, 0, bufferBeforeChunking); return &b }}

// pendingBuf is the connection's hold-back buffer for small bodies, kept
// from one request to the next until releasePend.
func (c *conn) pendingBuf() []byte {
	if c.pend == nil {
		c.pend = pendPool.Get().(*[]byte)
	}
	return (*c.pend)[:0]
}

// releasePend gives the hold-back buffer back: the response using it is
// committed (its bytes went to the writer) or the connection waits.
func (c *conn) releasePend() {
	if c.pend != nil {
		pendPool.Put(c.pend)
		c.pend = nil
	}
}
