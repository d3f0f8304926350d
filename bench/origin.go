package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// originEnv makes the harness binary (or the test binary) serve as the idle
// origin instead: a separate process, so its memory is never counted as the
// proxy's, listening on the comma-separated addresses of the variable.
const originEnv = "SWITCHYARD_BENCH_ORIGIN"

// runOriginIfAsked serves the origin and never returns when originEnv is set.
func runOriginIfAsked() {
	addrs := os.Getenv(originEnv)
	if addrs == "" {
		return
	}
	if err := serveOrigin(strings.Split(addrs, ",")); err != nil {
		log.Fatalf("bench origin: %v", err)
	}
	os.Exit(0)
}

// origin holds SSE streams and WebSocket tunnels without a goroutine each:
// the handler hijacks the connection, writes the one event or message and
// parks the socket in held. 20,000 held streams cost it about 20,000 file
// descriptors and a few MiB. GET /close-held closes them all (the harness
// calls it between scenarios).
type origin struct {
	mu   sync.Mutex
	held []net.Conn
}

// originBody answers GET / (1 KiB, as the nginx backend of S1).
var originBody = []byte(strings.Repeat("x", 1023) + "\n")

func serveOrigin(addrs []string) error {
	o := &origin{}
	mux := http.NewServeMux()
	mux.HandleFunc("/sse", o.sse)
	mux.HandleFunc("/ws", o.ws)
	mux.HandleFunc("/close-held", o.closeHeld)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(originBody)
	})
	errc := make(chan error, len(addrs))
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
		go func() { errc <- srv.Serve(ln) }()
	}
	return <-errc
}

func (o *origin) hold(c net.Conn) {
	o.mu.Lock()
	o.held = append(o.held, c)
	o.mu.Unlock()
}

func (o *origin) closeHeld(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	held := o.held
	o.held = nil
	o.mu.Unlock()
	for _, c := range held {
		c.Close()
	}
	fmt.Fprintf(w, "closed %d\n", len(held))
}

// sse answers one event in a chunked text/event-stream response, then
// keeps the stream open and silent.
func (o *origin) sse(w http.ResponseWriter, _ *http.Request) {
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ev := "data: hello\n\n"
	fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(ev), ev)
	if rw.Flush() != nil {
		c.Close()
		return
	}
	o.hold(c)
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ws accepts a WebSocket, reads the client's one message and answers with
// one of its own, then keeps the tunnel open and silent.
func (o *origin) ws(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a WebSocket request", http.StatusBadRequest)
		return
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(key))
	if rw.Flush() != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := readWSFrame(rw.Reader); err != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := c.Write(wsFrame([]byte("hello"), false)); err != nil {
		c.Close()
		return
	}
	o.hold(c)
}

// wsFrame is one final text frame; clients mask theirs (RFC 6455 5.3).
func wsFrame(payload []byte, mask bool) []byte {
	b := []byte{0x81, byte(len(payload))} // payloads here are < 126 bytes
	if !mask {
		return append(b, payload...)
	}
	b[1] |= 0x80
	key := [4]byte{1, 2, 3, 4}
	b = append(b, key[:]...)
	for i, p := range payload {
		b = append(b, p^key[i%4])
	}
	return b
}

// readWSFrame reads one frame and returns its (unmasked) payload.
func readWSFrame(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > 1<<16 {
		return nil, fmt.Errorf("websocket frame of %d bytes", n)
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return p, nil
}
