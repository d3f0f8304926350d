package entrypoints

import (
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// Flood detection for HTTP/2 connections, in the spirit of nginx's and
// Envoy's: frames that cost the server work but carry no request or body
// (SETTINGS, PING, WINDOW_UPDATE, PRIORITY, RST_STREAM, CONTINUATION,
// empty DATA, unknown types) draw on a per-connection budget. The budget
// refills with time, with requests (each HEADERS frame) and with response
// bytes written (a client that downloads sends WINDOW_UPDATEs in
// proportion). Stream errors x/net blames on the client (streams over
// maxConcurrentStreams, frames on closed streams...) draw on it too. A
// connection that overdraws it gets GOAWAY (ENHANCE_YOUR_CALM) and is
// closed.
//
// A normal client never comes near it: browsers send a handful of such
// frames per connection and per request; WINDOW_UPDATEs follow the bytes
// we send. A flood of 100,000 frames a second is cut after ~1,000 frames,
// i.e. in milliseconds.
const (
	// h2FloodBurst: control frames a connection may send at once, and the
	// most its budget holds.
	h2FloodBurst = 1000
	// h2FloodRate: control frames a second a connection may sustain on
	// top of what its requests and responses earn.
	h2FloodRate = 100
	// h2FloodBytesPerCredit: response bytes that earn one control frame.
	h2FloodBytesPerCredit = 1024
	// h2FloodCloseDelay: after the GOAWAY is queued, the socket is closed
	// this much later whatever the client does.
	h2FloodCloseDelay = 100 * time.Millisecond
)

// h2ClientPrefaceLen is len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").
const h2ClientPrefaceLen = 24

const (
	h2FlagEndStream = 0x1
	h2FlagPadded    = 0x8
)

// guardEpoch is the origin of the guard's monotonic clock.
var guardEpoch = time.Now()

// errH2Flood is what the server's frame reader gets once the budget is
// overdrawn: x/net answers a ConnectionError with GOAWAY of that code and
// stops reading.
var errH2Flood = http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)

// h2Guard sits between x/net's server and the connection. It follows the
// frame headers in the bytes the server reads (O(1) per frame, no
// allocation, no syscall) and counts what they cost.
type h2Guard struct {
	net.Conn
	raw   net.Conn       // the socket itself (under TLS)
	name  string         // entrypoint, for the log
	entry *connreg.Entry // in the entrypoint's registry: active or idle (ConnState)

	written atomic.Int64 // bytes the server wrote (its writer goroutine)
	penalty atomic.Int32 // stream errors x/net blamed on the client (its serve goroutine)

	// Owned by the server's reading goroutine (one Read at a time).
	preface  int     // preface bytes still to pass
	hdr      [9]byte // a frame header split across reads
	hdrN     int     // bytes of hdr filled
	skip     uint32  // payload bytes of the current frame still to pass
	credit   int32   // the budget
	lastTime int64   // ns since guardEpoch, last time refill
	lastW    int64   // written at the last refill
	deadline bool    // a preface read deadline is armed
	tripped  bool
}

func newH2Guard(c, raw net.Conn, name string) *h2Guard {
	return &h2Guard{
		Conn:     c,
		raw:      raw,
		name:     name,
		preface:  h2ClientPrefaceLen,
		credit:   h2FloodBurst,
		lastTime: int64(time.Since(guardEpoch)),
	}
}

func (g *h2Guard) Read(p []byte) (int, error) {
	if g.tripped {
		return 0, errH2Flood
	}
	n, err := g.Conn.Read(p)
	if n > 0 && !g.scan(p[:n]) {
		g.trip()
		return 0, errH2Flood
	}
	return n, err
}

func (g *h2Guard) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	g.written.Add(int64(n))
	return n, err
}

// scan follows the frame boundaries through b; false: the budget is gone.
func (g *h2Guard) scan(b []byte) bool {
	for len(b) > 0 {
		switch {
		case g.preface > 0:
			k := min(g.preface, len(b))
			g.preface -= k
			b = b[k:]
			if g.preface == 0 && g.deadline {
				g.deadline = false
				_ = g.SetReadDeadline(time.Time{})
			}
		case g.skip > 0:
			k := int(min(g.skip, uint32(len(b))))
			g.skip -= uint32(k)
			b = b[k:]
		case g.hdrN == 0 && len(b) >= len(g.hdr):
			if !g.frame(b[:len(g.hdr)]) {
				return false
			}
			b = b[len(g.hdr):]
		default:
			k := copy(g.hdr[g.hdrN:], b)
			g.hdrN += k
			b = b[k:]
			if g.hdrN == len(g.hdr) {
				g.hdrN = 0
				if !g.frame(g.hdr[:]) {
					return false
				}
			}
		}
	}
	return true
}

// countError is x/net's CountError hook for this connection: every error
// it counts is the client's doing (a stream over the limit, a frame on a
// closed or idle stream, a bad frame...). Each costs 2, charged at the
// next frame read.
func (g *h2Guard) countError(string) { g.penalty.Add(1) }

// frame accounts for one frame header.
func (g *h2Guard) frame(h []byte) bool {
	length := uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
	flags := h[4]
	g.skip = length
	var cost int32
	if p := g.penalty.Load(); p != 0 {
		g.penalty.Add(-p)
		cost = 2 * p
	}
	switch http2.FrameType(h[3]) {
	case http2.FrameData:
		// Empty, or nothing but padding, and not ending the stream.
		if flags&h2FlagEndStream == 0 && (length == 0 || flags&h2FlagPadded != 0 && length <= 256) {
			cost++
		}
	case http2.FrameHeaders:
		// A request earns back what a typical one costs (a PRIORITY, a
		// WINDOW_UPDATE); rapid reset (HEADERS + RST_STREAM) still drains.
		if cost == 0 {
			g.credit = min(g.credit+1, h2FloodBurst)
			return true
		}
		cost--
	case http2.FrameRSTStream:
		cost += 2
	default:
		// SETTINGS, PING, WINDOW_UPDATE, PRIORITY, PRIORITY_UPDATE,
		// CONTINUATION, GOAWAY, PUSH_PROMISE, unknown types.
		cost++
	}
	if cost == 0 {
		return true
	}
	g.credit -= cost
	if g.credit >= 0 {
		return true
	}
	return g.refill()
}

// refill adds what time and the bytes written have earned since the last
// refill; it runs only when the budget is overdrawn, so a connection that
// never gets there never reads the clock.
func (g *h2Guard) refill() bool {
	now := int64(time.Since(guardEpoch))
	if t := (now - g.lastTime) * h2FloodRate / int64(time.Second); t > 0 {
		g.credit = int32(min(int64(g.credit)+t, h2FloodBurst))
		g.lastTime += t * int64(time.Second) / h2FloodRate
	}
	w := g.written.Load()
	if k := (w - g.lastW) / h2FloodBytesPerCredit; k > 0 {
		g.credit = int32(min(int64(g.credit)+k, h2FloodBurst))
		g.lastW += k * h2FloodBytesPerCredit
	}
	return g.credit >= 0
}

// trip stops reading: x/net sends GOAWAY(ENHANCE_YOUR_CALM); the socket is
// closed shortly after whatever the client does.
func (g *h2Guard) trip() {
	g.tripped = true
	slog.Debug("http2: control frame flood, closing the connection", "entrypoint", g.name, "remote", g.raw.RemoteAddr().String())
	raw := g.raw
	time.AfterFunc(h2FloodCloseDelay, func() { _ = raw.Close() })
}
