package entrypoints

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
)

// acceptLoop accepts until the listener closes; each connection is routed
// on its own goroutine so a slow client never blocks the others.
func (ep *HTTPEntryPoint) acceptLoop() {
	var (
		backoff    time.Duration
		lastLog    time.Time
		suppressed int
	)
	<-acceptGate() // held in a new process until its first configuration (handover.go)
	for {
		c, err := ep.ln.Accept()
		if err != nil {
			if ep.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE, ENFILE and friends: the pending connection stays
			// in the backlog, so retrying at once would spin. Back off
			// (5 ms doubling to 1 s, as net/http) and log once per
			// interval with how many errors were not logged.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if now := time.Now(); now.Sub(lastLog) >= acceptLogEvery {
				slog.Warn("accept error", "entrypoint", ep.Name, "error", err, "retry_in", backoff.String(), "suppressed", suppressed)
				lastLog, suppressed = now, 0
			} else {
				suppressed++
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go ep.serveConn(c)
	}
}

// acceptLogEvery spaces the accept-error log lines while a condition such
// as fd exhaustion lasts.
const acceptLogEvery = 10 * time.Second

func addrIP(a net.Addr) netip.Addr {
	switch t := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func normalizeSNI(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// waitReadable blocks until c has data (or an error, or the read
// deadline) without consuming it: one MSG_PEEK of one byte, then the
// poller. Connections without a raw file descriptor return at once.
func waitReadable(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	// Park until readable; end of stream counts as readable (the read
	// that follows reports it).
	return rc.Read(func(fd uintptr) bool { return sockpeek.PeekFD(fd) != sockpeek.Empty })
}
