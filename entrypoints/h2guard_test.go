package entrypoints

import (
	"bytes"
	"net"
	"testing"

	"golang.org/x/net/http2"
)

// frames returns the client preface followed by n frames written by fn.
func frames(t testing.TB, n int, fn func(fr *http2.Framer, i int)) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&b, nil)
	for i := range n {
		fn(fr, i)
	}
	return b.Bytes()
}

func newTestGuard() *h2Guard {
	c1, c2 := net.Pipe()
	_ = c2.Close()
	return newH2Guard(c1, c1, "test")
}

// feed scans b in chunks of size k (frame headers split across reads).
func feed(g *h2Guard, b []byte, k int) bool {
	for len(b) > 0 {
		n := min(k, len(b))
		if !g.scan(b[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

func TestH2GuardFloods(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		frame func(fr *http2.Framer, i int)
		flood bool
	}{
		{"SETTINGS", 2 * h2FloodBurst, func(fr *http2.Framer, _ int) { _ = fr.WriteSettings() }, true},
		{"PING", 2 * h2FloodBurst, func(fr *http2.Framer, _ int) { _ = fr.WritePing(false, [8]byte{}) }, true},
		{"WINDOW_UPDATE", 2 * h2FloodBurst, func(fr *http2.Framer, _ int) { _ = fr.WriteWindowUpdate(0, 1) }, true},
		{"empty DATA", 2 * h2FloodBurst, func(fr *http2.Framer, _ int) { _ = fr.WriteData(1, false, nil) }, true},
		{"rapid reset", 2 * h2FloodBurst, func(fr *http2.Framer, i int) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: []byte{0x82}, EndStream: true, EndHeaders: true})
			_ = fr.WriteRSTStream(uint32(2*i+1), http2.ErrCodeCancel)
		}, true},
		// Requests with a body and a few control frames each: never.
		{"requests", 20 * h2FloodBurst, func(fr *http2.Framer, i int) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: []byte{0x83}, EndHeaders: true})
			_ = fr.WriteData(uint32(2*i+1), false, bytes.Repeat([]byte("x"), 100))
			_ = fr.WriteData(uint32(2*i+1), true, nil)
			_ = fr.WritePriority(uint32(2*i+1), http2.PriorityParam{Weight: 3})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := frames(t, tc.n, tc.frame)
			for _, k := range []int{1, 7, 9, 4096, len(b)} {
				g := newTestGuard()
				if got := !feed(g, b, k); got != tc.flood {
					t.Fatalf("chunks of %d: flood %v, want %v", k, got, tc.flood)
				}
			}
		})
	}
}

// Window updates in proportion to what the server wrote are not a flood.
func TestH2GuardWindowUpdatesFollowWrites(t *testing.T) {
	g := newTestGuard()
	b := frames(t, 10*h2FloodBurst, func(fr *http2.Framer, _ int) { _ = fr.WriteWindowUpdate(0, 4<<10) })
	const frameLen = 9 + 4
	if !g.scan(b[:h2ClientPrefaceLen]) {
		t.Fatal("preface")
	}
	for b = b[h2ClientPrefaceLen:]; len(b) > 0; b = b[frameLen:] {
		g.written.Add(4 << 10) // the server sent 4 KiB, the client gives the window back
		if !g.scan(b[:frameLen]) {
			t.Fatal("window updates following the data taken for a flood")
		}
	}
}

func TestH2GuardNoAlloc(t *testing.T) {
	b := frames(t, 100, func(fr *http2.Framer, i int) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: []byte{0x82}, EndStream: true, EndHeaders: true})
		_ = fr.WriteWindowUpdate(0, 1)
	})
	g := newTestGuard()
	if n := testing.AllocsPerRun(100, func() {
		g.preface = h2ClientPrefaceLen
		_ = feed(g, b, 9)
	}); n != 0 {
		t.Fatalf("%v allocations per scan", n)
	}
}

// BenchmarkH2GuardScan: the guard's cost per frame for a normal stream of
// frames (HEADERS, DATA, WINDOW_UPDATE), read as x/net reads them (9-byte
// header, then the payload).
func BenchmarkH2GuardScan(b *testing.B) {
	const n = 1000
	buf := frames(b, n, func(fr *http2.Framer, i int) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: bytes.Repeat([]byte{0x82}, 40), EndHeaders: true})
		_ = fr.WriteData(uint32(2*i+1), true, bytes.Repeat([]byte("x"), 1000))
		_ = fr.WriteWindowUpdate(0, 1000)
	})[h2ClientPrefaceLen:]
	g := newTestGuard()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		g.preface, g.credit = 0, h2FloodBurst
		rest := buf
		for len(rest) > 0 {
			_ = g.scan(rest[:9])
			l := int(rest[0])<<16 | int(rest[1])<<8 | int(rest[2])
			rest = rest[9:]
			if l > 0 {
				_ = g.scan(rest[:l])
				rest = rest[l:]
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*3*n), "ns/frame")
}
