package entrypoints

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listening sockets by entrypoint and network, for a binary upgrade: the
// old process sends them all (ListeningSockets), the new one adopts them
// in Listen/ListenPacket instead of binding (HandOver before Start).
type sockKey struct{ name, network string }

var (
	sockMu     sync.Mutex
	sockets    = map[sockKey]syscall.Conn{}
	handedOver = map[sockKey]*os.File{}
)

func recordListener(name, network string, c any) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	sockMu.Lock()
	sockets[sockKey{name, network}] = sc
	sockMu.Unlock()
}

// HandOver gives Listen (network "tcp") or ListenPacket and HTTP/3
// ("udp") the socket of entrypoint name from the previous process. It is
// adopted only when it is bound where the entrypoint's address says.
func HandOver(name, network string, f *os.File) {
	sockMu.Lock()
	defer sockMu.Unlock()
	k := sockKey{name, network}
	if old := handedOver[k]; old != nil {
		_ = old.Close()
	}
	handedOver[k] = f
}

func takeHandedOver(name, network, addr string) *os.File {
	sockMu.Lock()
	k := sockKey{name, network}
	f := handedOver[k]
	delete(handedOver, k)
	sockMu.Unlock()
	if f == nil {
		return nil
	}
	if got, ok := boundAt(f, addr); !ok {
		slog.Warn("not adopting the previous process's socket: the address changed; binding anew",
			"entrypoint", name, "network", network, "was", got, "address", addr)
		_ = f.Close()
		return nil
	}
	return f
}

// boundAt tells whether f's socket is bound where addr ("host:port")
// says: same port (any for port 0), same IP when addr names one, the
// wildcard address when it does not.
func boundAt(f *os.File, addr string) (string, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", false
	}
	var sa unix.Sockaddr
	var serr error
	if err := rc.Control(func(fd uintptr) { sa, serr = unix.Getsockname(int(fd)) }); err != nil || serr != nil {
		return "", false
	}
	var ip net.IP
	var port int
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		ip, port = net.IP(a.Addr[:]), a.Port
	case *unix.SockaddrInet6:
		ip, port = net.IP(a.Addr[:]), a.Port
	default:
		return "", false
	}
	got := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return got, false
	}
	if want, err := strconv.Atoi(ps); err != nil || (want != 0 && want != port) {
		return got, false
	}
	if host == "" {
		return got, ip.IsUnspecified()
	}
	if want := net.ParseIP(host); want != nil {
		return got, want.Equal(ip)
	}
	return got, true // a host name: the port decides
}

// CloseUnadopted closes the handed-over sockets no entrypoint took (an
// entrypoint removed or moved by the new configuration) and names them.
func CloseUnadopted() []string {
	sockMu.Lock()
	defer sockMu.Unlock()
	var out []string
	for k, f := range handedOver {
		_ = f.Close()
		out = append(out, k.name+"/"+k.network)
	}
	clear(handedOver)
	slices.Sort(out)
	return out
}

// ListeningSocket is one socket to hand over; File is a duplicate that
// the caller closes.
type ListeningSocket struct {
	EntryPoint, Network, Address string
	File                         *os.File
}

// ListeningSockets duplicates every open listening socket (TCP listeners,
// UDP entrypoints, HTTP/3), sorted by entrypoint and network.
func ListeningSockets() ([]ListeningSocket, error) {
	sockMu.Lock()
	defer sockMu.Unlock()
	keys := slices.SortedFunc(func(yield func(sockKey) bool) {
		for k := range sockets {
			if !yield(k) {
				return
			}
		}
	}, func(a, b sockKey) int {
		if a.name != b.name {
			return cmp.Compare(a.name, b.name)
		}
		return cmp.Compare(a.network, b.network)
	})
	var out []ListeningSocket
	for _, k := range keys {
		rc, err := sockets[k].SyscallConn()
		if err != nil {
			continue
		}
		nfd, derr := -1, error(nil)
		if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
			continue // closed: the entrypoint stopped
		}
		if derr != nil {
			for _, s := range out {
				_ = s.File.Close()
			}
			return nil, fmt.Errorf("entrypoint %q: duplicating its %s socket: %w", k.name, k.network, derr)
		}
		f := os.NewFile(uintptr(nfd), "entrypoint-"+k.name+"-"+k.network)
		addr := ""
		if a, ok := sockets[k].(interface{ Addr() net.Addr }); ok {
			addr = a.Addr().String()
		} else if a, ok := sockets[k].(interface{ LocalAddr() net.Addr }); ok {
			addr = a.LocalAddr().String()
		}
		out = append(out, ListeningSocket{EntryPoint: k.name, Network: k.network, Address: addr, File: f})
	}
	return out, nil
}

// The accept gate: a process started by an upgrade holds accepting (TCP
// accept loops, UDP reads, HTTP/3) until its first configuration is
// applied, so that the previous process keeps taking every connection
// until then. Open by default.
var (
	gateMu sync.Mutex
	gate   = closedChan()
)

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// HoldAccepting closes the gate; call it before any entrypoint starts.
func HoldAccepting() {
	gateMu.Lock()
	gate = make(chan struct{})
	gateMu.Unlock()
}

// StartAccepting opens the gate.
func StartAccepting() {
	gateMu.Lock()
	select {
	case <-gate:
	default:
		close(gate)
	}
	gateMu.Unlock()
}

func acceptGate() <-chan struct{} {
	gateMu.Lock()
	defer gateMu.Unlock()
	return gate
}
