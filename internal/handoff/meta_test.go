package handoff

import (
	"reflect"
	"testing"
	"time"
)

func sample() Meta {
	return Meta{
		EntryPoint: "tcp", Router: "echo", Service: "echo-svc", Client: "127.0.0.1:5000", Backend: "127.0.0.1:9000",
		Pending:   [2][]byte{[]byte("up"), nil},
		Closed:    [2]bool{false, true},
		DelayLeft: 3 * time.Second, Delay: 100 * time.Millisecond, Idle: time.Minute,
	}
}

func TestMetaRoundTrip(t *testing.T) {
	m := sample()
	var got Meta
	if err := got.Unmarshal(m.Marshal()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %+v\nwant %+v", got, m)
	}
}

func TestMetaRejects(t *testing.T) {
	good := sample()
	b := good.Marshal()
	for name, in := range map[string][]byte{
		"empty":    nil,
		"version":  append([]byte{9}, b[1:]...),
		"short":    b[:len(b)-1],
		"trailing": append(append([]byte(nil), b...), 0),
		"no entrypoint": func() []byte {
			m := sample()
			m.EntryPoint = ""
			return m.Marshal()
		}(),
		"huge field": {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		var m Meta
		if err := m.Unmarshal(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzMetaUnmarshal: the decoder never panics, and what it accepts
// survives a round trip (varints need not be minimal on input).
func FuzzMetaUnmarshal(f *testing.F) {
	m := sample()
	f.Add(m.Marshal())
	f.Add((&Meta{EntryPoint: "web"}).Marshal())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Meta
		if err := m.Unmarshal(b); err != nil {
			return
		}
		var again Meta
		if err := again.Unmarshal(m.Marshal()); err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", m, err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}
