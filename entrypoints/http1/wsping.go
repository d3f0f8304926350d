package http1

import (
	"sync"
	"sync/atomic"
	"time"
)

// WebSocket ping liveness (transport.webSocketPing, a Switchyard
// extension). A WebSocket tunnel whose client sent nothing for Interval
// gets a Ping control frame, injected into the stream towards the client
// at a frame boundary; when nothing at all comes back from the client
// within Timeout, the tunnel is closed (both sides). The client's Pong
// goes on to the backend like any frame (RFC 6455 §5.5.3 allows an
// unsolicited Pong). One timer per tunnel, armed only when the option is
// set; it fires once per Interval while the client is quiet.

// wsFrames follows the frame headers of a WebSocket byte stream, written
// as it passes, to know whether it stands between two frames.
// The stream starts with the HTTP/1.1 101 head (the handler writes it
// through the tunnel): frames begin after its blank line.
type wsFrames struct {
	headEnd int // bytes of "\r\n\r\n" matched; 4: in frames
	hdr     [14]byte
	n       int    // header bytes gathered
	payload uint64 // payload bytes of the current frame still to pass
}

// atBoundary: past the head, no frame started and not finished.
func (f *wsFrames) atBoundary() bool { return f.headEnd == 4 && f.n == 0 && f.payload == 0 }

// headerLen is the length of a header whose first two bytes are known.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4 // masking key (server-to-client frames have none, but be exact)
	}
	return n
}

// advance accounts for p, the next bytes of the stream.
func (f *wsFrames) advance(p []byte) {
	for f.headEnd < 4 && len(p) > 0 {
		if c := p[0]; c == "\r\n\r\n"[f.headEnd] {
			f.headEnd++
		} else if c == '\r' {
			f.headEnd = 1
		} else {
			f.headEnd = 0
		}
		p = p[1:]
	}
	for len(p) > 0 {
		if f.payload > 0 {
			k := uint64(len(p))
			if k > f.payload {
				k = f.payload
			}
			f.payload -= k
			p = p[k:]
			continue
		}
		// In a header.
		f.hdr[f.n] = p[0]
		f.n++
		p = p[1:]
		if f.n < 2 || f.n < headerLen(f.hdr[1]) {
			continue
		}
		var l uint64
		switch f.hdr[1] & 0x7f {
		case 126:
			l = uint64(f.hdr[2])<<8 | uint64(f.hdr[3])
		case 127:
			for _, b := range f.hdr[2:10] {
				l = l<<8 | uint64(b)
			}
		default:
			l = uint64(f.hdr[1] & 0x7f)
		}
		f.n, f.payload = 0, l
	}
}

// wsPingFrame is an unmasked Ping without payload (server to client).
var wsPingFrame = []byte{0x89, 0x00}

// wsPinger watches one tunnel.
type wsPinger struct {
	t                 *tunnel
	interval, timeout time.Duration

	mu     sync.Mutex // serializes writes to the client: the relay's and ours
	frames wsFrames

	heard  atomic.Int64 // unix nanoseconds of the last byte read from the client
	sentAt int64        // the outstanding Ping (0: none); timer goroutine only
	timer  *time.Timer
	done   atomic.Bool
}

func newWSPinger(t *tunnel, interval, timeout time.Duration) *wsPinger {
	p := &wsPinger{t: t, interval: interval, timeout: timeout}
	p.heard.Store(time.Now().UnixNano())
	p.timer = time.AfterFunc(interval, p.tick)
	return p
}

// write sends b to the client, following its frames.
func (p *wsPinger) write(b []byte) (int, error) {
	p.mu.Lock()
	n, err := p.t.Conn.Write(b)
	p.frames.advance(b[:n])
	p.mu.Unlock()
	return n, err
}

// heardFrom records bytes read from the client.
func (p *wsPinger) heardFrom() { p.heard.Store(time.Now().UnixNano()) }

func (p *wsPinger) stop() {
	p.done.Store(true)
	p.timer.Stop()
}

func (p *wsPinger) tick() {
	if p.done.Load() {
		return
	}
	now := time.Now()
	heard := time.Unix(0, p.heard.Load())
	if p.sentAt != 0 {
		if heard.UnixNano() >= p.sentAt {
			p.sentAt = 0 // answered (a Pong, or anything else)
		} else if wait := time.Unix(0, p.sentAt).Add(p.timeout).Sub(now); wait > 0 {
			p.timer.Reset(wait)
			return
		} else {
			p.giveUp("no answer to ping")
			return
		}
	}
	if next := heard.Add(p.interval).Sub(now); next > 0 {
		p.timer.Reset(next)
		return
	}
	// Quiet for an interval: ping, at a frame boundary. A write in
	// progress or a frame half sent: try again shortly.
	if !p.mu.TryLock() {
		if now.Sub(heard) >= p.interval+p.timeout {
			p.giveUp("writes to the client blocked") // and nothing heard from it
			return
		}
		p.timer.Reset(p.interval / 8)
		return
	}
	if !p.frames.atBoundary() {
		p.mu.Unlock()
		p.timer.Reset(p.interval / 8)
		return
	}
	// A client that does not read cannot block us past the timeout.
	_ = p.t.SetWriteDeadline(now.Add(p.timeout))
	_, err := p.t.Conn.Write(wsPingFrame)
	_ = p.t.SetWriteDeadline(time.Time{})
	p.mu.Unlock()
	if err != nil {
		p.giveUp("ping not sent: " + err.Error())
		return
	}
	p.t.touch()
	p.sentAt = now.UnixNano()
	p.timer.Reset(p.timeout)
}

// giveUp closes the tunnel; the proxy then closes the backend side.
func (p *wsPinger) giveUp(why string) {
	p.t.c.srv.logger().Debug("http: closing WebSocket", "reason", why, "remote", p.t.c.remoteAddr,
		"interval", p.interval.String(), "timeout", p.timeout.String())
	_ = p.t.Close()
}

// isWebSocket: the hijacked request asked for a WebSocket.
func isWebSocket(upgrade []string) bool {
	for _, v := range upgrade {
		if asciiEqualFold(v, "websocket") {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
