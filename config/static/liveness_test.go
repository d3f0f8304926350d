package static

import (
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"
)

func livenessConfig(mut func(ep *EntryPoint)) *Configuration {
	ep := &EntryPoint{Address: ":8000"}
	ep.SetDefaults()
	mut(ep)
	c := &Configuration{EntryPoints: map[string]*EntryPoint{"web": ep}}
	c.SetEffectiveConfiguration()
	return c
}

func TestLivenessOptionsValidation(t *testing.T) {
	sec := func(s float64) ptypes.Duration { return ptypes.Duration(s * float64(time.Second)) }
	for _, tc := range []struct {
		name string
		mut  func(ep *EntryPoint)
		want []string // substrings of the error; none: valid
	}{
		{"defaults", func(*EntryPoint) {}, nil},
		{"small values", func(ep *EntryPoint) {
			ep.Transport.TCPKeepAlive = &TCPKeepAlive{Idle: sec(1), Interval: sec(1), Count: 2}
			ep.Transport.TCPUserTimeout = sec(3)
			ep.HTTP2.ReadIdleTimeout = sec(1)
			ep.HTTP2.PingTimeout = sec(2)
		}, nil},
		{"keep-alive off", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Idle: sec(-1)} }, nil},
		{"zero fields take defaults", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{} }, nil},
		{"fractional idle", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Idle: sec(1.5)} },
			[]string{"entryPoints.web.transport.tcpKeepAlive.idle: must be whole seconds"}},
		{"negative interval", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Interval: sec(-1)} },
			[]string{"entryPoints.web.transport.tcpKeepAlive.interval: must not be negative"}},
		{"interval too long", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Interval: sec(40000)} },
			[]string{"entryPoints.web.transport.tcpKeepAlive.interval: must be at most 32767s"}},
		{"count out of range", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Count: 128} },
			[]string{"entryPoints.web.transport.tcpKeepAlive.count: must be between 1 and 127"}},
		{"negative count", func(ep *EntryPoint) { ep.Transport.TCPKeepAlive = &TCPKeepAlive{Count: -1} },
			[]string{"tcpKeepAlive.count"}},
		{"negative user timeout", func(ep *EntryPoint) { ep.Transport.TCPUserTimeout = sec(-1) },
			[]string{"entryPoints.web.transport.tcpUserTimeout: must be whole milliseconds"}},
		{"sub-millisecond user timeout", func(ep *EntryPoint) { ep.Transport.TCPUserTimeout = ptypes.Duration(1500 * time.Microsecond) },
			[]string{"tcpUserTimeout"}},
		{"user timeout beyond an int of ms", func(ep *EntryPoint) { ep.Transport.TCPUserTimeout = sec(3e6) },
			[]string{"tcpUserTimeout"}},
		{"websocket ping", func(ep *EntryPoint) { ep.Transport.WebSocketPing = &WebSocketPing{Interval: sec(30)} }, nil},
		{"websocket ping too often", func(ep *EntryPoint) { ep.Transport.WebSocketPing = &WebSocketPing{Interval: sec(0.01)} },
			[]string{"entryPoints.web.transport.webSocketPing.interval: must be at least 100ms"}},
		{"websocket ping negative timeout", func(ep *EntryPoint) { ep.Transport.WebSocketPing = &WebSocketPing{Interval: sec(1), Timeout: sec(-1)} },
			[]string{"entryPoints.web.transport.webSocketPing.timeout: must not be negative"}},
		{"negative h2 ping", func(ep *EntryPoint) { ep.HTTP2.ReadIdleTimeout = sec(-1); ep.HTTP2.PingTimeout = sec(-1) },
			[]string{"entryPoints.web.http2.readIdleTimeout: must not be negative", "entryPoints.web.http2.pingTimeout: must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := livenessConfig(tc.mut).Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTCPKeepAliveEffective(t *testing.T) {
	var nilKA *TCPKeepAlive
	if idle, intvl, n, on := nilKA.Effective(); !on || idle != 15*time.Second || intvl != 15*time.Second || n != 9 {
		t.Errorf("nil: got %v %v %d %v, want Go's defaults", idle, intvl, n, on)
	}
	k := &TCPKeepAlive{Idle: ptypes.Duration(time.Second), Count: 2}
	if idle, intvl, n, on := k.Effective(); !on || idle != time.Second || intvl != 15*time.Second || n != 2 {
		t.Errorf("partial: got %v %v %d %v", idle, intvl, n, on)
	}
	k = &TCPKeepAlive{Idle: ptypes.Duration(-time.Second)}
	if _, _, _, on := k.Effective(); on {
		t.Error("negative idle: keep-alive still on")
	}
}
