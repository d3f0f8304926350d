package entrypoints

import (
	"context"
	"net"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"
	"golang.org/x/sys/unix"

	"github.com/switchyard-proxy/switchyard/config/static"
)

type sockVals struct{ keepAlive, idle, interval, count, userTimeoutMS int }

func acceptedSockVals(t *testing.T, ln net.Listener) sockVals {
	t.Helper()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v sockVals
	get := func(fd, level, opt int) int {
		n, err := unix.GetsockoptInt(fd, level, opt)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	_ = rc.Control(func(fd uintptr) {
		v = sockVals{
			keepAlive:     get(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE),
			idle:          get(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE),
			interval:      get(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPINTVL),
			count:         get(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPCNT),
			userTimeoutMS: get(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT),
		}
	})
	return v
}

func livenessEP(ka *static.TCPKeepAlive, userTimeout time.Duration) *static.EntryPoint {
	ep := &static.EntryPoint{Address: "127.0.0.1:0"}
	ep.SetDefaults()
	ep.Transport.TCPKeepAlive = ka
	ep.Transport.TCPUserTimeout = ptypes.Duration(userTimeout)
	return ep
}

// TestKeepAliveInherited checks that accepted sockets get the options set
// once on the listener (Linux copies keep-alive into accepted sockets) and
// TCP_USER_TIMEOUT set at accept.
func TestKeepAliveInherited(t *testing.T) {
	s := ptypes.Duration(time.Second)
	for _, tc := range []struct {
		name        string
		ka          *static.TCPKeepAlive
		userTimeout time.Duration
		want        sockVals
		wrapped     bool
	}{
		{"defaults", nil, 0, sockVals{1, 15, 15, 9, 0}, false},
		{"small", &static.TCPKeepAlive{Idle: s, Interval: 2 * s, Count: 3}, 2500 * time.Millisecond, sockVals{1, 1, 2, 3, 2500}, true},
		{"off", &static.TCPKeepAlive{Idle: -s}, 0, sockVals{keepAlive: 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := Listen(context.Background(), "t-"+tc.name, livenessEP(tc.ka, tc.userTimeout))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if _, ok := ln.(*optListener); ok != tc.wrapped {
				t.Errorf("listener wrapped for per-connection options: %v, want %v", ok, tc.wrapped)
			}
			got := acceptedSockVals(t, ln)
			if tc.want.keepAlive == 0 {
				got = sockVals{keepAlive: got.keepAlive} // the rest is meaningless then
			}
			if got != tc.want {
				t.Errorf("accepted socket: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestKeepAliveAdopted checks a listener handed over by a parent process:
// Go gives its connections its own 15 s keep-alive, ours must win.
func TestKeepAliveAdopted(t *testing.T) {
	parent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	f, err := parent.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	inherited["adopted"] = uintptr(fd)
	defer delete(inherited, "adopted")
	s := ptypes.Duration(time.Second)
	ln, err := Listen(context.Background(), "adopted", livenessEP(&static.TCPKeepAlive{Idle: s, Interval: s, Count: 2}, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got, want := acceptedSockVals(t, ln), (sockVals{1, 1, 1, 2, 3000}); got != want {
		t.Errorf("accepted socket: got %+v, want %+v", got, want)
	}
}
