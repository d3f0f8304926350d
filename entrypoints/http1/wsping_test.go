package http1

import (
	"bytes"
	"encoding/binary"
	"testing"
)

const head101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"

func wsFrame(opcode byte, payload []byte, masked bool) []byte {
	b := []byte{0x80 | opcode}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, payload...)
}

// TestWSFramesBoundaries feeds a head and frames of every length form,
// cut at every offset, and checks the tracker knows the boundaries.
func TestWSFramesBoundaries(t *testing.T) {
	frames := [][]byte{
		wsFrame(0x1, []byte("hello"), false),
		wsFrame(0x2, bytes.Repeat([]byte{'x'}, 300), false),
		wsFrame(0x2, bytes.Repeat([]byte{'y'}, 70000), false),
		wsFrame(0x9, nil, false),
		wsFrame(0x1, []byte("masked"), true),
		wsFrame(0x0, nil, false),
	}
	stream := []byte(head101)
	ends := map[int]bool{len(stream): true}
	for _, f := range frames {
		stream = append(stream, f...)
		ends[len(stream)] = true
	}
	for _, step := range []int{1, 2, 3, 7, 100, 4096, len(stream)} {
		var f wsFrames
		for i := 0; i < len(stream); {
			j := min(i+step, len(stream))
			f.advance(stream[i:j])
			i = j
			if got := f.atBoundary(); got != ends[i] {
				t.Fatalf("step %d, offset %d: atBoundary %v, want %v", step, i, got, ends[i])
			}
		}
		if !f.atBoundary() {
			t.Errorf("step %d: not at a boundary at the end", step)
		}
	}
}

func TestWSFramesHeadFirst(t *testing.T) {
	var f wsFrames
	f.advance([]byte("HTTP/1.1 101 Switching Protocols\r\n"))
	if f.atBoundary() {
		t.Fatal("boundary inside the head")
	}
	f.advance([]byte("Upgrade: websocket\r\n\r"))
	if f.atBoundary() {
		t.Fatal("boundary before the blank line ends")
	}
	f.advance([]byte("\n"))
	if !f.atBoundary() {
		t.Fatal("no boundary after the head")
	}
	f.advance([]byte{0x81})
	if f.atBoundary() {
		t.Fatal("boundary inside a frame header")
	}
}

// FuzzWSFrames: any byte stream, fed in any split, leaves the tracker in
// the same state as fed whole, and never panics.
func FuzzWSFrames(f *testing.F) {
	f.Add([]byte(head101+"\x81\x05hello\x89\x00"), 3)
	f.Add([]byte(head101+"\x82\x7e\x01\x00"), 1)
	f.Add([]byte(head101+"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"), 5)
	f.Add([]byte("\r\n\r\n\x81\x85\x01\x02\x03\x04abcde"), 2)
	f.Fuzz(func(t *testing.T, b []byte, step int) {
		if step <= 0 || step > 1<<16 {
			step = 1
		}
		var whole, split wsFrames
		whole.advance(b)
		for i := 0; i < len(b); i += step {
			split.advance(b[i:min(i+step, len(b))])
		}
		if whole != split {
			t.Fatalf("split feeding diverged: %+v vs %+v", whole, split)
		}
	})
}
