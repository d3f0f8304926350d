package entrypoints

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// InheritedFDsEnv names the variable through which a parent process hands
// listening sockets to a new binary: "web=3,websecure=4". Every listener
// is created by Listen, so an upgrade only has to fill this variable.
const InheritedFDsEnv = "SWITCHYARD_INHERITED_FDS"

// inherited is read once at start: entrypoint name → file descriptor.
var inherited = parseInherited(os.Getenv(InheritedFDsEnv))

func parseInherited(s string) map[string]uintptr {
	out := map[string]uintptr{}
	for _, part := range strings.Split(s, ",") {
		name, fd, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(fd, 10, 32)
		if err != nil {
			continue
		}
		out[name] = uintptr(n)
	}
	return out
}

// Listen opens the TCP listener of an entrypoint, or adopts the one a
// parent process handed over, with the entrypoint's keep-alive and user
// timeout (sockopt.go).
func Listen(ctx context.Context, name string, ep *static.EntryPoint) (net.Listener, error) {
	opts := sockOptsOf(ep)
	if f := takeHandedOver(name, "tcp", ep.ListenAddress()); f != nil {
		ln, err := net.FileListener(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("entrypoint %q: adopting the listener of the previous process: %w", name, err)
		}
		recordListener(name, "tcp", ln)
		if tl, ok := ln.(*net.TCPListener); ok {
			return &optListener{TCPListener: tl, opts: opts, adopted: true}, nil
		}
		return ln, nil
	}
	if fd, ok := inherited[name]; ok {
		f := os.NewFile(fd, "entrypoint-"+name)
		ln, err := net.FileListener(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("entrypoint %q: adopting inherited fd %d: %w", name, fd, err)
		}
		if tl, ok := ln.(*net.TCPListener); ok {
			return &optListener{TCPListener: tl, opts: opts, adopted: true}, nil
		}
		return ln, nil
	}
	lc := net.ListenConfig{KeepAlive: goKeepAlive, Control: opts.control(ep.ReusePort)}
	ln, err := lc.Listen(ctx, "tcp", ep.ListenAddress())
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("entrypoint %q: address %s is already in use", name, ep.ListenAddress())
		}
		return nil, fmt.Errorf("entrypoint %q: listen on %s: %w", name, ep.ListenAddress(), err)
	}
	recordListener(name, "tcp", ln)
	if tl, ok := ln.(*net.TCPListener); ok && opts.perConn() {
		return &optListener{TCPListener: tl, opts: opts}, nil
	}
	return ln, nil
}

// ListenPacket opens the UDP socket of an entrypoint.
func ListenPacket(ctx context.Context, name string, ep *static.EntryPoint) (net.PacketConn, error) {
	return listenUDP(ctx, name, ep.ListenAddress(), ep.ReusePort)
}

// listenUDP opens (or adopts from the previous process) the UDP socket of
// an entrypoint: its own for a UDP entrypoint, HTTP/3's for a TCP one.
func listenUDP(ctx context.Context, name, addr string, reuse bool) (net.PacketConn, error) {
	if f := takeHandedOver(name, "udp", addr); f != nil {
		pc, err := net.FilePacketConn(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("entrypoint %q: adopting the udp socket of the previous process: %w", name, err)
		}
		recordListener(name, "udp", pc)
		return pc, nil
	}
	lc := net.ListenConfig{}
	if reuse {
		lc.Control = reusePort
	}
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("entrypoint %q: listen on udp %s: %w", name, addr, err)
	}
	recordListener(name, "udp", pc)
	return pc, nil
}

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = setReusePort(int(fd)) })
	if err != nil {
		return err
	}
	return serr
}

func setReusePort(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fmt.Errorf("setsockopt SO_REUSEPORT: %w", err)
	}
	return nil
}
