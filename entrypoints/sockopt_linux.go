package entrypoints

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setListener sets keep-alive on a listening socket; accepted sockets
// inherit SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT from
// it (TestKeepAliveInherited checks it).
func (o sockOpts) setListener(fd int) error {
	if !o.keepAlive {
		return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0, "SO_KEEPALIVE")
	}
	for _, s := range []struct {
		level, opt, v int
		name          string
	}{
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(o.idle.Seconds()), "TCP_KEEPIDLE"},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(o.interval.Seconds()), "TCP_KEEPINTVL"},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, o.count, "TCP_KEEPCNT"},
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1, "SO_KEEPALIVE"},
	} {
		if err := setInt(fd, s.level, s.opt, s.v, s.name); err != nil {
			return err
		}
	}
	return nil
}

// setConn sets what an accepted socket does not inherit.
func (o sockOpts) setConn(fd int) error {
	if o.userTimeout <= 0 {
		return nil
	}
	return setInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(o.userTimeout.Milliseconds()), "TCP_USER_TIMEOUT")
}

// setAll sets every option on one connected socket.
func (o sockOpts) setAll(fd int) error {
	if err := o.setListener(fd); err != nil {
		return err
	}
	return o.setConn(fd)
}

// perConn reports whether accepted sockets need a setsockopt each.
func (o sockOpts) perConn() bool { return o.userTimeout > 0 }

func setInt(fd, level, opt, v int, name string) error {
	if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
		return fmt.Errorf("setsockopt %s=%d: %w", name, v, err)
	}
	return nil
}

// goKeepAlive is net.ListenConfig.KeepAlive: -1 stops Go from setting
// its own keep-alive on every accepted socket (five setsockopt calls);
// the listener's options are inherited instead.
const goKeepAlive = -1
