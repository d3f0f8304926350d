package relay

import (
	"io"
	"net"
	"testing"
)

// benchPipe measures bulk throughput client → backend through run.
func benchPipe(b *testing.B, run func(a, b net.Conn)) {
	cp, a, bb, bp := setup(b)
	go run(a, bb)
	chunk := make([]byte, 64<<10)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bp)
		close(done)
	}()
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := cp.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	_ = cp.CloseWrite()
	<-done
}

func BenchmarkRelay(b *testing.B) {
	benchPipe(b, func(a, bb net.Conn) { New(a, bb, -1, 0).Run() })
}

// BenchmarkSplice is what tcpsvc.Pipe did before: io.Copy, spliced.
func BenchmarkSplice(b *testing.B) {
	benchPipe(b, func(a, bb net.Conn) {
		go func() { _, _ = io.Copy(a, bb) }()
		_, _ = io.Copy(bb, a)
		_ = bb.(*net.TCPConn).CloseWrite()
	})
}

// BenchmarkRelaySmall: 512-byte messages, the echo/chat pattern.
func BenchmarkRelaySmall(b *testing.B) {
	cp, a, bb, bp := setup(b)
	go New(a, bb, -1, 0).Run()
	msg := make([]byte, 512)
	buf := make([]byte, 512)
	b.SetBytes(512)
	b.ResetTimer()
	for range b.N {
		if _, err := cp.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(bp, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSpliceSmall(b *testing.B) {
	cp, a, bb, bp := setup(b)
	go func() { _, _ = io.Copy(bb, a) }()
	msg := make([]byte, 512)
	buf := make([]byte, 512)
	b.SetBytes(512)
	b.ResetTimer()
	for range b.N {
		if _, err := cp.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(bp, buf); err != nil {
			b.Fatal(err)
		}
	}
}
