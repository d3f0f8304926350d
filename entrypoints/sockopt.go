package entrypoints

import (
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// sockOpts are the liveness options of an entrypoint's accepted sockets:
// transport.tcpKeepAlive and transport.tcpUserTimeout (Switchyard
// extensions). Keep-alive is set once on the listening socket, which
// Linux copies into every accepted one; TCP_USER_TIMEOUT is not copied
// (and refused on a listening socket), so it costs one setsockopt per
// accept, and only when set.
type sockOpts struct {
	keepAlive      bool
	idle, interval time.Duration
	count          int
	userTimeout    time.Duration // 0: kernel default
}

func sockOptsOf(ep *static.EntryPoint) sockOpts {
	var o sockOpts
	var ka *static.TCPKeepAlive
	if tr := ep.Transport; tr != nil {
		ka = tr.TCPKeepAlive
		o.userTimeout = time.Duration(tr.TCPUserTimeout)
	}
	o.idle, o.interval, o.count, o.keepAlive = ka.Effective()
	return o
}

// control returns the ListenConfig.Control hook setting the listener's
// options, with SO_REUSEPORT when asked.
func (o sockOpts) control(reuse bool) func(string, string, syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if reuse {
				if serr = setReusePort(int(fd)); serr != nil {
					return
				}
			}
			serr = o.setListener(int(fd))
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// optListener applies the per-connection options at accept. adopted: the
// listener came from a parent process through net.FileListener, whose
// accepted connections Go gives its own 15 s keep-alive; ours are set
// again over it.
type optListener struct {
	*net.TCPListener
	opts    sockOpts
	adopted bool
}

func (l *optListener) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if err := l.apply(c); err != nil {
			// The peer may already be gone: drop this one connection,
			// not the accept loop (which backs off on errors).
			slog.Debug("dropping accepted connection", "remote", c.RemoteAddr().String(), "error", err)
			_ = c.Close()
			continue
		}
		return c, nil
	}
}

func (l *optListener) apply(c *net.TCPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		if l.adopted {
			serr = l.opts.setAll(int(fd))
		} else {
			serr = l.opts.setConn(int(fd))
		}
	}); err != nil {
		return err
	}
	return serr
}

// applyTo sets every option on a connection adopted from a parent process
// (a live hand-off): net.FileConn gives it Go's 15 s keep-alive.
func (o sockOpts) applyTo(c net.Conn) error {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = o.setAll(int(fd)) }); err != nil {
		return err
	}
	return serr
}
