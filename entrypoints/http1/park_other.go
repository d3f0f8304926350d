//go:build !linux

package http1

import "errors"

// parker is Linux-only (epoll); elsewhere idle connections keep their
// goroutine.
type parker struct{}

func newParker(*Server) (*parker, error) { return nil, errors.New("no idle poller on this platform") }
func (*parker) add(*conn) error          { return errors.New("no idle poller") }
func (*parker) remove(*conn)             {}
func (*parker) parked() int              { return 0 }
func (*parker) watched() int             { return 0 }
func (*parker) watch(int32, *reqContext) error {
	return errors.New("no idle poller")
}
func (*parker) unwatch(int32, *reqContext) bool { return false }
func (*parker) takeWatch(*conn) *reqContext     { return nil }
func (*parker) close()                          {}
