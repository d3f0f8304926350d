//go:build !linux

package entrypoints

import (
	"errors"

	"github.com/switchyard-proxy/switchyard/config/static"
)

var defaultSockOpts = sockOptsOf(&static.EntryPoint{})

// Outside Linux, accepted sockets keep Go's own keep-alive (15 s) and
// the options are refused rather than half applied.

const goKeepAlive = 0 // net.ListenConfig.KeepAlive: Go's default per accept

var errSockOpts = errors.New("transport.tcpKeepAlive and transport.tcpUserTimeout are supported on Linux only")

func (o sockOpts) custom() bool {
	return !o.keepAlive || o.userTimeout > 0 || o.idle != defaultSockOpts.idle ||
		o.interval != defaultSockOpts.interval || o.count != defaultSockOpts.count
}

func (o sockOpts) setListener(int) error {
	if o.custom() {
		return errSockOpts
	}
	return nil
}

func (o sockOpts) setConn(int) error { return nil }
func (o sockOpts) setAll(int) error  { return nil }
func (o sockOpts) perConn() bool     { return false }
