// Package handoff describes the live connections an upgrade moves to the
// new process: the record kinds, the metadata that travels with the
// sockets (encoded here, decoded defensively: it crosses a process
// boundary), and how a socket is duplicated for sending and adopted on
// the other side.
package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Record kinds sent by the entrypoints' movers.
const (
	// KindTCP is a TCP router's connection: client and backend sockets.
	KindTCP = "switchyard.tcp"
	// KindTunnel is an upgraded HTTP/1.1 connection (WebSocket):
	// client and backend sockets.
	KindTunnel = "switchyard.tunnel"
	// KindIdleHTTP1 is an idle cleartext keep-alive connection: the
	// client socket only.
	KindIdleHTTP1 = "switchyard.h1idle"
)

// Limits of the decoder.
const (
	MaxString  = 1024
	MaxPending = 1 << 20 // per direction; a relay holds at most a few buffers
)

// Meta travels with the sockets of one moved connection.
type Meta struct {
	EntryPoint string // where the new process registers the connection
	Router     string // for logs
	Service    string // for logs
	Client     string // client address as the old process saw it (PROXY protocol applied)
	Backend    string // backend address, for logs

	// Pending bytes of each direction (client→backend, backend→client),
	// written first when the pair resumes.
	Pending [2][]byte
	// Closed: that direction saw its end and the FIN went through.
	Closed [2]bool
	// DelayLeft: termination delay left to the open direction; negative:
	// none running.
	DelayLeft time.Duration
	// Delay is the termination delay the pair runs with (negative:
	// forever); Idle the bound without a byte either way (0: none).
	Delay, Idle time.Duration
}

const version = 1

// Marshal encodes m.
func (m *Meta) Marshal() []byte {
	n := 1 + 5*binary.MaxVarintLen64 + len(m.EntryPoint) + len(m.Router) + len(m.Service) + len(m.Client) + len(m.Backend) +
		2*binary.MaxVarintLen64 + len(m.Pending[0]) + len(m.Pending[1]) + 1 + 3*binary.MaxVarintLen64
	b := make([]byte, 0, n)
	b = append(b, version)
	for _, s := range [...]string{m.EntryPoint, m.Router, m.Service, m.Client, m.Backend} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, p := range m.Pending {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	var flags byte
	if m.Closed[0] {
		flags |= 1
	}
	if m.Closed[1] {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(m.DelayLeft))
	b = binary.AppendVarint(b, int64(m.Delay))
	b = binary.AppendVarint(b, int64(m.Idle))
	return b
}

var errShort = errors.New("handoff: metadata cut short")

// Unmarshal decodes what Marshal encoded. Byte slices alias b.
func (m *Meta) Unmarshal(b []byte) error {
	if len(b) == 0 || b[0] != version {
		return fmt.Errorf("handoff: metadata version %v, want %d", b[:min(len(b), 1)], version)
	}
	d := decoder{b: b[1:]}
	var strs [5]string
	for i := range strs {
		s, err := d.bytes(MaxString)
		if err != nil {
			return err
		}
		strs[i] = string(s)
	}
	var out Meta
	out.EntryPoint, out.Router, out.Service, out.Client, out.Backend = strs[0], strs[1], strs[2], strs[3], strs[4]
	for i := range out.Pending {
		p, err := d.bytes(MaxPending)
		if err != nil {
			return err
		}
		if len(p) > 0 {
			out.Pending[i] = p
		}
	}
	if len(d.b) < 1 {
		return errShort
	}
	flags := d.b[0]
	d.b = d.b[1:]
	if flags&^3 != 0 {
		return fmt.Errorf("handoff: unknown flags %#x", flags)
	}
	out.Closed = [2]bool{flags&1 != 0, flags&2 != 0}
	var durs [3]time.Duration
	for i := range durs {
		v, n := binary.Varint(d.b)
		if n <= 0 {
			return errShort
		}
		durs[i] = time.Duration(v)
		d.b = d.b[n:]
	}
	out.DelayLeft, out.Delay, out.Idle = durs[0], durs[1], durs[2]
	if out.Idle < 0 {
		return fmt.Errorf("handoff: negative idle bound %v", out.Idle)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("handoff: %d trailing bytes", len(d.b))
	}
	if out.EntryPoint == "" {
		return errors.New("handoff: no entrypoint")
	}
	*m = out
	return nil
}

type decoder struct{ b []byte }

func (d *decoder) bytes(limit int) ([]byte, error) {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		return nil, errShort
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("handoff: field of %d bytes exceeds %d", n, limit)
	}
	d.b = d.b[k:]
	if uint64(len(d.b)) < n {
		return nil, errShort
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s, nil
}
