package http1

import (
	"bytes"
	"crypto/tls"
	"reflect"
	"unsafe"
)

// tlsBuffers locates crypto/tls's receive buffers in a tls.Conn: rawInput
// (records as read), input (plaintext not yet read, a view of rawInput)
// and hand (handshake messages). The handshake grows rawInput to the
// ClientHello's size (a post-quantum key share makes it ~2 KiB) and
// crypto/tls keeps that capacity for the connection's life: ~3.5 KiB per
// idle TLS connection, half of what a parked one holds. Found by name and
// type once; if a Go release renames or retypes them, nothing is shrunk.
var tlsBuffers = func() (off struct{ raw, input, hand uintptr }) {
	t := reflect.TypeFor[tls.Conn]()
	get := func(name string, want reflect.Type) (uintptr, bool) {
		f, ok := t.FieldByName(name)
		if !ok || f.Type != want || len(f.Index) != 1 {
			return 0, false
		}
		return f.Offset, true
	}
	var ok1, ok2, ok3 bool
	off.raw, ok1 = get("rawInput", reflect.TypeFor[bytes.Buffer]())
	off.input, ok2 = get("input", reflect.TypeFor[bytes.Reader]())
	off.hand, ok3 = get("hand", reflect.TypeFor[bytes.Buffer]())
	if !ok1 || !ok2 || !ok3 {
		off.raw = 0 // disabled
	}
	return off
}()

// shrinkTLS drops the receive buffers of a TLS connection that holds no
// unread byte in them; crypto/tls grows them again for the next record.
// Only for a connection no goroutine reads (being parked): they are
// guarded by crypto/tls's input lock, which this does not take.
func shrinkTLS(tc *tls.Conn) {
	off := tlsBuffers
	if off.raw == 0 {
		return
	}
	base := unsafe.Pointer(tc)
	raw := (*bytes.Buffer)(unsafe.Add(base, off.raw))
	input := (*bytes.Reader)(unsafe.Add(base, off.input))
	hand := (*bytes.Buffer)(unsafe.Add(base, off.hand))
	if raw.Len() != 0 || input.Len() != 0 || hand.Len() != 0 {
		return
	}
	*raw = bytes.Buffer{}
	*input = bytes.Reader{}
	*hand = bytes.Buffer{}
}
