// Package mqtt reads the one MQTT packet a router needs: the client's
// CONNECT (MQTT 3.1, 3.1.1 and 5). It frames the packet from the first
// bytes of a connection, parses it strictly, and builds the CONNACK that
// refuses a connection. It keeps nothing secret: the password and the will
// payload are validated and skipped, never copied.
package mqtt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxConnectSize bounds a CONNECT (fixed header included) that a router
// reads before choosing a backend: 64 KiB holds any real client ID,
// credentials and will message, and keeps a slow or hostile client from
// making the router buffer more.
const MaxConnectSize = 64 << 10

// Protocol levels (the byte after the protocol name).
const (
	Level31  = 3 // MQTT 3.1, protocol name "MQIsdp"
	Level311 = 4 // MQTT 3.1.1, protocol name "MQTT"
	Level5   = 5 // MQTT 5, protocol name "MQTT"
)

// packetConnect is the first byte of every CONNECT: type 1, flags 0.
const packetConnect = 0x10

// Connect is what a router keeps of a CONNECT packet. Strings are copies:
// the bytes they came from are replayed to the backend and reused.
type Connect struct {
	Level      byte // Level31, Level311 or Level5
	CleanStart bool // clean session (3.x) / clean start (5)
	KeepAlive  uint16
	ClientID   string
	// Username is set when HasUsername; Password is validated, not kept.
	Username    string
	HasUsername bool
	HasPassword bool
	// Will: topic and QoS/retain when the will flag is set; the payload
	// is validated, not kept.
	Will       bool
	WillQoS    byte
	WillRetain bool
	WillTopic  string
	// MQTT 5 properties of the CONNECT that matter to a gateway (zero
	// when absent).
	SessionExpiry uint32
	AuthMethod    string
	// Size is the packet's length in bytes, fixed header included.
	Size int
}

// Version is the protocol version as users write it: "3.1", "3.1.1", "5".
func (c *Connect) Version() string { return VersionName(c.Level) }

// VersionName maps a protocol level to its version name ("" if unknown).
func VersionName(level byte) string {
	switch level {
	case Level31:
		return "3.1"
	case Level311:
		return "3.1.1"
	case Level5:
		return "5"
	}
	return ""
}

// Error is a CONNECT that cannot be accepted. Level is the protocol level
// when the packet got that far (0 otherwise): it decides which CONNACK,
// if any, tells the client.
type Error struct {
	Level  byte
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return "mqtt connect: " + e.Msg }

// Reason classifies a refusal; Connack maps it to a return/reason code.
type Reason uint8

const (
	ReasonMalformed          Reason = iota + 1 // bad lengths, flags, UTF-8, properties
	ReasonUnsupportedVersion                   // protocol name or level unknown
	ReasonTooLarge                             // over MaxConnectSize
	ReasonQuotaExceeded                        // a connection limit refused it
)

// ErrNotConnect: the bytes do not start with a CONNECT fixed header, so
// this is not (the start of) an MQTT connection.
var ErrNotConnect = errors.New("mqtt: not a CONNECT packet")

// LooksLikeConnect reports whether b starts like an MQTT CONNECT: the
// first byte only, which is all a router can check before deciding to
// read more. 0x10 is neither TLS (0x16), HTTP (a letter) nor PROXY.
func LooksLikeConnect(b []byte) bool { return len(b) > 0 && b[0] == packetConnect }

// Frame returns the CONNECT's total length once its fixed header is in b
// (the length may exceed len(b): read until it is there), or 0 and nil
// when b is too short to tell.
func Frame(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if b[0] != packetConnect {
		if b[0]>>4 == 1 {
			return 0, &Error{Reason: ReasonMalformed, Msg: fmt.Sprintf("reserved fixed-header flags set (0x%02x)", b[0])}
		}
		return 0, ErrNotConnect
	}
	n, k, err := varint(b[1:])
	if err != nil {
		return 0, &Error{Reason: ReasonMalformed, Msg: "remaining length: " + err.Error()}
	}
	if k == 0 {
		return 0, nil
	}
	total := 1 + k + n
	if total > MaxConnectSize {
		return 0, &Error{Level: sniffLevel(b[1+k:]), Reason: ReasonTooLarge, Msg: fmt.Sprintf("packet of %d bytes exceeds %d", total, MaxConnectSize)}
	}
	return total, nil
}

// varint decodes a variable byte integer (at most 4 bytes, minimal
// encoding as MQTT 5 requires). k == 0 with a nil error means more bytes
// are needed.
func varint(b []byte) (v, k int, err error) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, nil
		}
		c := b[i]
		if i > 0 && c == 0 {
			return 0, 0, errors.New("non-minimal encoding")
		}
		v += int(c&0x7f) * mult
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		mult <<= 7
	}
	return 0, 0, errors.New("more than 4 bytes")
}

// sniffLevel returns the protocol level from the start of a variable
// header, or 0 when it is not there or not recognised.
func sniffLevel(b []byte) byte {
	r := reader{b: b}
	name, ok := r.raw16()
	if !ok || len(r.b) < 1 {
		return 0
	}
	lvl := r.b[0]
	switch {
	case string(name) == "MQTT" && (lvl == Level311 || lvl == Level5):
		return lvl
	case string(name) == "MQIsdp" && lvl == Level31:
		return lvl
	}
	return 0
}

// Parse parses one complete CONNECT packet: b must be exactly the packet
// Frame measured. Every field is checked as the specifications require
// of a server: reserved bits, lengths, UTF-8 strings (no U+0000),
// property identifiers, types and repetitions.
func Parse(b []byte) (*Connect, error) {
	total, err := Frame(b)
	if err != nil {
		return nil, err
	}
	if total == 0 || total != len(b) {
		return nil, &Error{Reason: ReasonMalformed, Msg: fmt.Sprintf("packet length %d, have %d bytes", total, len(b))}
	}
	_, k, _ := varint(b[1:])
	r := reader{b: b[1+k:]}
	c := &Connect{Size: total}
	bad := func(format string, a ...any) (*Connect, error) {
		return nil, &Error{Level: c.Level, Reason: ReasonMalformed, Msg: fmt.Sprintf(format, a...)}
	}

	name, ok := r.raw16()
	if !ok {
		return bad("truncated protocol name")
	}
	lvl, ok := r.byte()
	if !ok {
		return bad("truncated protocol level")
	}
	switch {
	case string(name) == "MQTT" && (lvl == Level311 || lvl == Level5),
		string(name) == "MQIsdp" && lvl == Level31:
		c.Level = lvl
	case string(name) == "MQTT" || string(name) == "MQIsdp":
		return nil, &Error{Reason: ReasonUnsupportedVersion, Msg: fmt.Sprintf("protocol %q level %d is not supported", name, lvl)}
	default:
		if !utf8.Valid(name) {
			return bad("protocol name is not UTF-8")
		}
		return nil, &Error{Reason: ReasonUnsupportedVersion, Msg: fmt.Sprintf("unknown protocol name %q", name)}
	}
	flags, ok := r.byte()
	if !ok {
		return bad("truncated connect flags")
	}
	if flags&0x01 != 0 {
		return bad("reserved connect flag set")
	}
	c.CleanStart = flags&0x02 != 0
	c.Will = flags&0x04 != 0
	c.WillQoS = (flags >> 3) & 0x03
	c.WillRetain = flags&0x20 != 0
	c.HasPassword = flags&0x40 != 0
	c.HasUsername = flags&0x80 != 0
	switch {
	case c.WillQoS == 3:
		return bad("will QoS 3")
	case !c.Will && (c.WillQoS != 0 || c.WillRetain):
		return bad("will QoS or retain set without a will")
	case c.Level != Level5 && c.HasPassword && !c.HasUsername:
		return bad("password without user name")
	}
	if c.KeepAlive, ok = r.u16(); !ok {
		return bad("truncated keep alive")
	}
	if c.Level == Level5 {
		if err := r.properties(connectProps, c); err != nil {
			return bad("properties: %v", err)
		}
	}
	if c.ClientID, err = r.str(); err != nil {
		return bad("client identifier: %v", err)
	}
	if c.Will {
		if c.Level == Level5 {
			if err := r.properties(willProps, nil); err != nil {
				return bad("will properties: %v", err)
			}
		}
		if c.WillTopic, err = r.str(); err != nil {
			return bad("will topic: %v", err)
		}
		if _, ok := r.raw16(); !ok {
			return bad("will payload: truncated")
		}
	}
	if c.HasUsername {
		if c.Username, err = r.str(); err != nil {
			return bad("user name: %v", err)
		}
	}
	if c.HasPassword {
		if _, ok := r.raw16(); !ok {
			return bad("password: truncated")
		}
	}
	if len(r.b) != 0 {
		return bad("%d bytes after the payload", len(r.b))
	}
	return c, nil
}

// reader consumes a packet's fields; no method copies except str.
type reader struct{ b []byte }

func (r *reader) byte() (byte, bool) {
	if len(r.b) < 1 {
		return 0, false
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, true
}

func (r *reader) u16() (uint16, bool) {
	if len(r.b) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v, true
}

func (r *reader) u32() (uint32, bool) {
	if len(r.b) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, true
}

// raw16 returns two-byte-length-prefixed data (binary data in MQTT 5
// terms), aliasing the packet.
func (r *reader) raw16() ([]byte, bool) {
	n, ok := r.u16()
	if !ok || len(r.b) < int(n) {
		return nil, false
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v, true
}

var (
	errTruncated = errors.New("truncated")
	errUTF8      = errors.New("not valid UTF-8")
	errNUL       = errors.New("contains U+0000")
)

// utf8Field validates an MQTT UTF-8 encoded string (aliasing the packet).
func (r *reader) utf8Field() ([]byte, error) {
	v, ok := r.raw16()
	if !ok {
		return nil, errTruncated
	}
	if !utf8.Valid(v) {
		return nil, errUTF8
	}
	for _, c := range v {
		if c == 0 {
			return nil, errNUL
		}
	}
	return v, nil
}

// str is utf8Field copied into a string.
func (r *reader) str() (string, error) {
	v, err := r.utf8Field()
	return string(v), err
}

// Property identifiers (MQTT 5 §2.2.2.2) allowed in a CONNECT and in its
// will properties, with their value types.
const (
	propPayloadFormat   = 0x01
	propMessageExpiry   = 0x02
	propContentType     = 0x03
	propResponseTopic   = 0x08
	propCorrelationData = 0x09
	propSessionExpiry   = 0x11
	propAuthMethod      = 0x15
	propAuthData        = 0x16
	propRequestProblem  = 0x17
	propWillDelay       = 0x18
	propRequestResponse = 0x19
	propReceiveMaximum  = 0x21
	propTopicAliasMax   = 0x22
	propUserProperty    = 0x26
	propMaxPacketSize   = 0x27
)

type propType uint8

const (
	tByte propType = iota + 1
	tU16
	tU32
	tString
	tBinary
	tPair
)

var (
	connectProps = map[byte]propType{
		propSessionExpiry: tU32, propReceiveMaximum: tU16, propMaxPacketSize: tU32,
		propTopicAliasMax: tU16, propRequestResponse: tByte, propRequestProblem: tByte,
		propUserProperty: tPair, propAuthMethod: tString, propAuthData: tBinary,
	}
	willProps = map[byte]propType{
		propWillDelay: tU32, propPayloadFormat: tByte, propMessageExpiry: tU32,
		propContentType: tString, propResponseTopic: tString, propCorrelationData: tBinary,
		propUserProperty: tPair,
	}
)

// properties reads a property list: its variable-byte length, then each
// property, checking that the identifier belongs there, the value has its
// type and range, and that only User Property repeats. Values the router
// uses are stored in c (nil for will properties).
func (r *reader) properties(allowed map[byte]propType, c *Connect) error {
	n, k, err := varint(r.b)
	if err != nil {
		return err
	}
	if k == 0 || len(r.b)-k < n {
		return errTruncated
	}
	p := reader{b: r.b[k : k+n]}
	r.b = r.b[k+n:]
	var seen [256]bool
	for len(p.b) > 0 {
		id, k, err := varint(p.b)
		if err != nil || k == 0 {
			return errors.New("bad property identifier")
		}
		p.b = p.b[k:]
		if id > 0xff {
			return fmt.Errorf("unknown property 0x%x", id)
		}
		t, ok := allowed[byte(id)]
		if !ok {
			return fmt.Errorf("property 0x%02x not allowed here", id)
		}
		if t != tPair {
			if seen[id] {
				return fmt.Errorf("property 0x%02x repeated", id)
			}
			seen[id] = true
		}
		switch t {
		case tByte:
			v, ok := p.byte()
			if !ok {
				return errTruncated
			}
			if v > 1 {
				return fmt.Errorf("property 0x%02x: value %d, want 0 or 1", id, v)
			}
		case tU16:
			v, ok := p.u16()
			if !ok {
				return errTruncated
			}
			if v == 0 && id == propReceiveMaximum {
				return errors.New("receive maximum 0")
			}
		case tU32:
			v, ok := p.u32()
			if !ok {
				return errTruncated
			}
			if v == 0 && id == propMaxPacketSize {
				return errors.New("maximum packet size 0")
			}
			if id == propSessionExpiry && c != nil {
				c.SessionExpiry = v
			}
		case tString:
			v, err := p.utf8Field()
			if err != nil {
				return fmt.Errorf("property 0x%02x: %w", id, err)
			}
			if id == propAuthMethod && c != nil {
				c.AuthMethod = string(v)
			}
		case tBinary:
			if _, ok := p.raw16(); !ok {
				return errTruncated
			}
		case tPair:
			if _, err := p.utf8Field(); err != nil {
				return fmt.Errorf("user property name: %w", err)
			}
			if _, err := p.utf8Field(); err != nil {
				return fmt.Errorf("user property value: %w", err)
			}
		}
	}
	if c != nil && seen[propAuthData] && !seen[propAuthMethod] {
		return errors.New("authentication data without authentication method")
	}
	return nil
}
