package http1

import (
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// parker holds idle connections without a goroutine each: their sockets
// sit in an epoll set of our own, whose descriptor Go's poller watches, so
// no thread blocks on it. A connection that becomes readable (a request,
// or the client closing) is served again on a new goroutine; one idle past
// its deadline is closed by a once-a-second sweep.
type parker struct {
	srv  *Server
	epfd int
	file *os.File
	rc   syscall.RawConn

	mu      sync.Mutex
	conns   map[int32]*conn
	watches map[int32]*reqContext // clients of running requests, watched for departure
	done    chan struct{}
	once    sync.Once
}

func newParker(s *Server) (*parker, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "http1-idle")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	p := &parker{srv: s, epfd: fd, file: f, rc: rc, conns: map[int32]*conn{}, watches: map[int32]*reqContext{}, done: make(chan struct{})}
	go p.loop()
	go p.sweep()
	return p, nil
}

func (p *parker) add(c *conn) error {
	if c.fd < 0 {
		return syscall.EBADF
	}
	p.mu.Lock()
	p.conns[c.fd] = c
	delete(p.watches, c.fd) // a stale watch of a closed socket whose number was reused
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: c.fd}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev); err != nil {
		p.mu.Lock()
		delete(p.conns, c.fd)
		p.mu.Unlock()
		return err
	}
	return nil
}

// take removes c's socket from the set; false if the poller or the sweep
// already took it.
func (p *parker) take(fd int32, c *conn) bool {
	p.mu.Lock()
	cur, ok := p.conns[fd]
	if ok && (c == nil || cur == c) {
		delete(p.conns, fd)
	}
	p.mu.Unlock()
	if !ok || (c != nil && cur != c) {
		return false
	}
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	return true
}

func (p *parker) remove(c *conn) { p.take(c.fd, c) }

// watch adds the socket of a running request to the set: its client
// hanging up (or sending more) is reported to x.polledEvent, once.
func (p *parker) watch(fd int32, x *reqContext) error {
	if fd < 0 {
		return syscall.EBADF
	}
	p.mu.Lock()
	p.watches[fd] = x
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: fd}
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	if err == unix.EEXIST {
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
	}
	if err != nil {
		p.unwatch(fd, x)
	}
	return err
}

// unwatch removes x's watch; false if the poller took it already.
func (p *parker) unwatch(fd int32, x *reqContext) bool {
	p.mu.Lock()
	cur, ok := p.watches[fd]
	if ok && cur == x {
		delete(p.watches, fd)
	}
	p.mu.Unlock()
	if !ok || cur != x {
		return false
	}
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	return true
}

func (p *parker) loop() {
	events := make([]unix.EpollEvent, 256)
	for {
		var n int
		err := p.rc.Read(func(uintptr) bool {
			var werr error
			n, werr = unix.EpollWait(p.epfd, events, 0)
			if werr != nil {
				n = 0
				return werr != unix.EINTR && werr != unix.EAGAIN
			}
			return n > 0
		})
		if err != nil {
			return
		}
		for i := 0; i < n; i++ {
			fd := events[i].Fd
			p.mu.Lock()
			c := p.conns[fd]
			x := p.watches[fd]
			p.mu.Unlock()
			switch {
			case c != nil:
				if p.take(fd, c) {
					go c.resume()
				}
			case x != nil:
				if p.unwatch(fd, x) {
					x.polledEvent()
				}
			}
		}
	}
}

// sweep closes parked connections whose idle timeout has passed.
func (p *parker) sweep() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var expired []*conn
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		now := time.Now()
		p.mu.Lock()
		for fd, c := range p.conns {
			if !c.idleUntil.IsZero() && now.After(c.idleUntil) {
				delete(p.conns, fd)
				expired = append(expired, c)
			}
		}
		p.mu.Unlock()
		for i, c := range expired {
			_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(c.fd), nil)
			if c.state.CompareAndSwap(stParked, stClosed) {
				c.finish()
			}
			expired[i] = nil
		}
		expired = expired[:0]
	}
}

// watched counts the requests whose client is watched (tests).
func (p *parker) watched() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.watches)
}

// parked counts the connections waiting in the poller (tests, metrics).
func (p *parker) parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// close stops the poller and the sweep once the server is closed (its
// connections were closed before).
func (p *parker) close() {
	p.once.Do(func() {
		close(p.done)
		_ = p.file.Close()
	})
}
