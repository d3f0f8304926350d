package mqtt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// pkt builds a CONNECT; the fields are written as given, so tests can
// build broken ones too.
type pkt struct {
	name     string
	level    byte
	flags    byte
	keep     uint16
	props    []byte // MQTT 5 property bytes (length added)
	id       string
	willP    []byte
	willT    string
	willMsg  string
	user     string
	pass     string
	noProps  bool // omit the property length even for level 5
	trailing []byte
}

func str16(s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	return append(b, s...)
}

func vbi(n int) []byte {
	var out []byte
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if n == 0 {
			return out
		}
	}
}

func (p pkt) bytes() []byte {
	var v []byte
	v = append(v, str16(p.name)...)
	v = append(v, p.level, p.flags)
	v = binary.BigEndian.AppendUint16(v, p.keep)
	if p.level == Level5 && !p.noProps {
		v = append(v, vbi(len(p.props))...)
		v = append(v, p.props...)
	}
	v = append(v, str16(p.id)...)
	if p.flags&0x04 != 0 {
		if p.level == Level5 && !p.noProps {
			v = append(v, vbi(len(p.willP))...)
			v = append(v, p.willP...)
		}
		v = append(v, str16(p.willT)...)
		v = append(v, str16(p.willMsg)...)
	}
	if p.flags&0x80 != 0 {
		v = append(v, str16(p.user)...)
	}
	if p.flags&0x40 != 0 {
		v = append(v, str16(p.pass)...)
	}
	v = append(v, p.trailing...)
	out := append([]byte{0x10}, vbi(len(v))...)
	return append(out, v...)
}

func v311(id string) pkt { return pkt{name: "MQTT", level: Level311, flags: 0x02, keep: 60, id: id} }

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    pkt
		want Connect
	}{
		{"3.1", pkt{name: "MQIsdp", level: Level31, flags: 0x02, keep: 10, id: "old"},
			Connect{Level: Level31, CleanStart: true, KeepAlive: 10, ClientID: "old"}},
		{"3.1.1 minimal", v311("sensor-1"),
			Connect{Level: Level311, CleanStart: true, KeepAlive: 60, ClientID: "sensor-1"}},
		{"3.1.1 empty client id", v311(""),
			Connect{Level: Level311, CleanStart: true, KeepAlive: 60}},
		{"3.1.1 user pass will", pkt{name: "MQTT", level: Level311, flags: 0xC0 | 0x20 | 0x08 | 0x04, id: "c", willT: "w/t", willMsg: "bye", user: "ü", pass: "\x00\xff"},
			Connect{Level: Level311, ClientID: "c", Will: true, WillQoS: 1, WillRetain: true, WillTopic: "w/t", Username: "ü", HasUsername: true, HasPassword: true}},
		{"5 no props", pkt{name: "MQTT", level: Level5, flags: 0x02, id: "p5"},
			Connect{Level: Level5, CleanStart: true, ClientID: "p5"}},
		{"5 props", pkt{name: "MQTT", level: Level5, flags: 0x80 | 0x40 | 0x04 | 0x10, id: "p5", user: "u", pass: "p", willT: "t", willMsg: "m",
			props: append(append(append([]byte{propSessionExpiry, 0, 0, 0x0e, 0x10, propReceiveMaximum, 0, 5, propUserProperty}, str16("k")...), str16("v")...), append([]byte{propUserProperty}, append(str16("k"), str16("v2")...)...)...),
			willP: append([]byte{propWillDelay, 0, 0, 0, 1, propPayloadFormat, 1, propContentType}, str16("text/plain")...)},
			Connect{Level: Level5, ClientID: "p5", Will: true, WillQoS: 2, WillTopic: "t", Username: "u", HasUsername: true, HasPassword: true, SessionExpiry: 3600}},
		{"5 password without user name", pkt{name: "MQTT", level: Level5, flags: 0x40, id: "x", pass: "tok"},
			Connect{Level: Level5, ClientID: "x", HasPassword: true}},
		{"5 auth method", pkt{name: "MQTT", level: Level5, id: "x", props: append(append([]byte{propAuthMethod}, str16("SCRAM")...), append([]byte{propAuthData}, str16("d")...)...)},
			Connect{Level: Level5, ClientID: "x", AuthMethod: "SCRAM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.p.bytes()
			n, err := Frame(b[:2])
			if err != nil || (len(b) > 2+127 && n != 0) {
				t.Fatalf("Frame(2 bytes) = %d, %v", n, err)
			}
			if n, err := Frame(b); err != nil || n != len(b) {
				t.Fatalf("Frame = %d, %v; want %d", n, err, len(b))
			}
			c, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Size = len(b)
			if *c != tc.want {
				t.Fatalf("got  %+v\nwant %+v", *c, tc.want)
			}
		})
	}
}

func TestParseRefused(t *testing.T) {
	long := v311("x")
	long.user = string(bytes.Repeat([]byte("u"), 65000))
	long.pass = string(bytes.Repeat([]byte("p"), 2000))
	long.flags |= 0xC0
	for _, tc := range []struct {
		name   string
		b      []byte
		level  byte
		reason Reason
	}{
		{"fixed header flags", append([]byte{0x12}, v311("a").bytes()[1:]...), 0, ReasonMalformed},
		{"reserved connect flag", pkt{name: "MQTT", level: Level311, flags: 0x03, id: "a"}.bytes(), Level311, ReasonMalformed},
		{"will qos 3", pkt{name: "MQTT", level: Level311, flags: 0x1C, id: "a", willT: "t"}.bytes(), Level311, ReasonMalformed},
		{"will retain without will", pkt{name: "MQTT", level: Level311, flags: 0x20, id: "a"}.bytes(), Level311, ReasonMalformed},
		{"will qos without will", pkt{name: "MQTT", level: Level311, flags: 0x08, id: "a"}.bytes(), Level311, ReasonMalformed},
		{"3.1.1 password without user", pkt{name: "MQTT", level: Level311, flags: 0x40, id: "a", pass: "p"}.bytes(), Level311, ReasonMalformed},
		{"client id not utf-8", v311("\xff\xfe").bytes(), Level311, ReasonMalformed},
		{"client id with NUL", v311("a\x00b").bytes(), Level311, ReasonMalformed},
		{"client id surrogate", v311("\xed\xa0\x80").bytes(), Level311, ReasonMalformed},
		{"trailing bytes", pkt{name: "MQTT", level: Level311, id: "a", trailing: []byte{0}}.bytes(), Level311, ReasonMalformed},
		{"level 6", pkt{name: "MQTT", level: 6, id: "a"}.bytes(), 0, ReasonUnsupportedVersion},
		{"MQTT level 3", pkt{name: "MQTT", level: 3, id: "a"}.bytes(), 0, ReasonUnsupportedVersion},
		{"MQIsdp level 4", pkt{name: "MQIsdp", level: 4, id: "a"}.bytes(), 0, ReasonUnsupportedVersion},
		{"other protocol", pkt{name: "AMQP", level: 4, id: "a"}.bytes(), 0, ReasonUnsupportedVersion},
		{"5 no property length", pkt{name: "MQTT", level: Level5, id: "abc", noProps: true}.bytes(), Level5, ReasonMalformed},
		{"5 unknown property", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{0x7f, 1}}.bytes(), Level5, ReasonMalformed},
		{"5 will property in connect", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propWillDelay, 0, 0, 0, 1}}.bytes(), Level5, ReasonMalformed},
		{"5 repeated property", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propReceiveMaximum, 0, 1, propReceiveMaximum, 0, 2}}.bytes(), Level5, ReasonMalformed},
		{"5 receive maximum 0", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propReceiveMaximum, 0, 0}}.bytes(), Level5, ReasonMalformed},
		{"5 request problem 2", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propRequestProblem, 2}}.bytes(), Level5, ReasonMalformed},
		{"5 truncated property", pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propSessionExpiry, 0, 0}}.bytes(), Level5, ReasonMalformed},
		{"5 auth data alone", pkt{name: "MQTT", level: Level5, id: "a", props: append([]byte{propAuthData}, str16("d")...)}.bytes(), Level5, ReasonMalformed},
		{"5 connect property in will", pkt{name: "MQTT", level: Level5, flags: 0x04, id: "a", willT: "t", willP: []byte{propSessionExpiry, 0, 0, 0, 1}}.bytes(), Level5, ReasonMalformed},
		{"too large", long.bytes(), Level311, ReasonTooLarge},
		{"remaining length 5 bytes", []byte{0x10, 0x80, 0x80, 0x80, 0x80, 0x01}, 0, ReasonMalformed},
		{"remaining length non-minimal", []byte{0x10, 0x80, 0x00}, 0, ReasonMalformed},
		{"remaining length short", []byte{0x10, 0x05, 0, 4, 'M', 'Q', 'T', 'T'}, 0, ReasonMalformed},
		{"truncated name", []byte{0x10, 0x03, 0, 4, 'M'}, 0, ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
			if e.Level != tc.level || e.Reason != tc.reason {
				t.Fatalf("got level %d reason %d (%v), want level %d reason %d", e.Level, e.Reason, e, tc.level, tc.reason)
			}
		})
	}
	if _, err := Parse([]byte("GET / HTTP/1.1\r\n")); !errors.Is(err, ErrNotConnect) {
		t.Fatalf("HTTP: %v", err)
	}
}

func TestFrameIncremental(t *testing.T) {
	b := pkt{name: "MQTT", level: Level311, id: string(bytes.Repeat([]byte("i"), 300))}.bytes()
	for i := 0; i < 3; i++ {
		if n, err := Frame(b[:i]); n != 0 || err != nil {
			t.Fatalf("Frame(%d bytes) = %d, %v", i, n, err)
		}
	}
	if n, err := Frame(b[:3]); n != len(b) || err != nil {
		t.Fatalf("Frame(3 bytes) = %d, %v; want %d", n, err, len(b))
	}
}

func TestConnack(t *testing.T) {
	for _, tc := range []struct {
		level  byte
		reason Reason
		want   []byte
	}{
		{Level5, ReasonMalformed, []byte{0x20, 3, 0, 0x81, 0}},
		{Level5, ReasonQuotaExceeded, []byte{0x20, 3, 0, 0x97, 0}},
		{Level5, ReasonTooLarge, []byte{0x20, 3, 0, 0x95, 0}},
		{Level311, ReasonQuotaExceeded, []byte{0x20, 2, 0, 3}},
		{Level31, ReasonQuotaExceeded, []byte{0x20, 2, 0, 3}},
		{Level311, ReasonMalformed, nil},
		{0, ReasonMalformed, nil},
		{0, ReasonUnsupportedVersion, []byte{0x20, 2, 0, 1}},
	} {
		if got := Connack(tc.level, tc.reason); !bytes.Equal(got, tc.want) {
			t.Errorf("Connack(%d, %d) = %x, want %x", tc.level, tc.reason, got, tc.want)
		}
	}
}

// FuzzParse: any bytes. Asserts: no panic; Frame and Parse agree (a
// packet Parse accepts has exactly the length Frame measured); a parsed
// CONNECT's strings are valid and the refusal levels are known levels.
func FuzzParse(f *testing.F) {
	seeds := [][]byte{
		pkt{name: "MQIsdp", level: Level31, flags: 0xC2, keep: 10, id: "old", user: "u", pass: "p"}.bytes(),
		v311("sensor-1").bytes(),
		pkt{name: "MQTT", level: Level311, flags: 0xEE, id: "c", willT: "w", willMsg: "m", user: "u", pass: "p"}.bytes(),
		pkt{name: "MQTT", level: Level5, flags: 0xC6, id: "p5", user: "u", pass: "p", willT: "t", willMsg: "m",
			props: append([]byte{propSessionExpiry, 0, 0, 0, 1, propUserProperty}, append(str16("k"), str16("v")...)...),
			willP: []byte{propWillDelay, 0, 0, 0, 1, propPayloadFormat, 1}}.bytes(),
		pkt{name: "MQTT", level: Level5, id: "a", props: []byte{propReceiveMaximum, 0, 1, propReceiveMaximum, 0, 2}}.bytes(),
		{0x10, 0x80, 0x80, 0x80, 0x80, 0x01},
		[]byte("GET / HTTP/1.1\r\n"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ferr := Frame(b)
		c, err := Parse(b)
		if err == nil {
			if ferr != nil || n != len(b) || c.Size != len(b) {
				t.Fatalf("Parse accepted %d bytes, Frame = %d, %v", len(b), n, ferr)
			}
			if c.Version() == "" {
				t.Fatalf("accepted level %d", c.Level)
			}
			if c.Level != Level5 && c.HasPassword && !c.HasUsername {
				t.Fatal("3.x password without user name accepted")
			}
			return
		}
		var e *Error
		if errors.As(err, &e) && e.Level != 0 && VersionName(e.Level) == "" {
			t.Fatalf("error with unknown level %d", e.Level)
		}
		_ = Connack(Level5, ReasonMalformed)
	})
}

func BenchmarkParse(b *testing.B) {
	p := pkt{name: "MQTT", level: Level5, flags: 0xC2, keep: 60, id: "sensor-0001", user: "device", pass: "secret",
		props: []byte{propSessionExpiry, 0, 0, 0x0e, 0x10, propReceiveMaximum, 0, 20}}.bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(p); err != nil {
			b.Fatal(err)
		}
	}
}
