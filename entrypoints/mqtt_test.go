package entrypoints

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
)

func connect311(id, user string) []byte {
	s := func(v string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(v))), v...) }
	v := append(s("MQTT"), 4, 0x82, 0, 30)
	v = append(v, s(id)...)
	v = append(v, s(user)...)
	out := []byte{0x10}
	for n := len(v); ; {
		c := byte(n % 128)
		if n /= 128; n > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if n == 0 {
			return append(out, v...)
		}
	}
}

// TestReadConnect: a CONNECT that arrives in pieces and outgrows the 4 KiB
// peek buffer is read whole; bytes after it stay for the replay; a
// connection that ends mid-packet or sends too much is refused; a grown
// buffer is not put back in the pool.
func TestReadConnect(t *testing.T) {
	pkt := connect311("sensor-1", string(bytes.Repeat([]byte("u"), 9000)))
	after := []byte{0xc0, 0x00} // PINGREQ pipelined after the CONNECT
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		for _, part := range [][]byte{pkt[1:2], pkt[2:5000], pkt[5000:], after} {
			_, _ = b.Write(part)
		}
	}()
	bp := peekPool.Get().(*[]byte)
	*bp = append((*bp)[:0], pkt[0])
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	c, err := readConnect(a, bp)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "sensor-1" || len(c.Username) != 9000 || c.Level != mqtt.Level311 {
		t.Fatalf("%+v", c)
	}
	if !bytes.HasPrefix(*bp, pkt) {
		t.Fatal("the CONNECT is not kept for the replay")
	}
	pc := &prefixConn{Conn: a, buf: bp, data: *bp}
	got := make([]byte, len(pkt))
	if _, err := io.ReadFull(pc, got); err != nil || !bytes.Equal(got, pkt) {
		t.Fatalf("replay: %v", err)
	}
	_ = pc.Close()
	if cap(*bp) != peekSize {
		t.Fatalf("grown buffer (cap %d) went back to the pool", cap(*bp))
	}

	// Cut short.
	a2, b2 := net.Pipe()
	defer a2.Close()
	go func() { _, _ = b2.Write(pkt[1:100]); _ = b2.Close() }()
	bp = &[]byte{pkt[0]}
	if _, err := readConnect(a2, bp); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut short: %v", err)
	}

	// Over the limit: refused from the fixed header, with the level.
	big := []byte{0x10, 0xff, 0xff, 0x04, 0, 4, 'M', 'Q', 'T', 'T', 5}
	_, err = readConnect(nil, &big)
	var e *mqtt.Error
	if !errors.As(err, &e) || e.Reason != mqtt.ReasonTooLarge || e.Level != mqtt.Level5 {
		t.Fatalf("too large: %v", err)
	}
}
