package tcpsvc

import (
	"bytes"
	ctls "crypto/tls"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/tcphandler"
)

// HealthCheck is an active TCP check: connect (with TLS when the server
// uses it), optionally send a payload and expect a reply prefix.
type HealthCheck struct {
	Port              int // overrides the server's port when non-zero
	Send              string
	Expect            string
	Interval          time.Duration
	UnhealthyInterval time.Duration // interval while a server is down
	Timeout           time.Duration
}

// Defaults fills zero durations with Traefik's defaults (30s, 5s).
func (h *HealthCheck) Defaults() {
	if h.Interval <= 0 {
		h.Interval = 30 * time.Second
	}
	if h.UnhealthyInterval <= 0 {
		h.UnhealthyInterval = h.Interval
	}
	if h.Timeout <= 0 {
		h.Timeout = 5 * time.Second
	}
}

// Check runs the check once against server.
func (h *HealthCheck) Check(s *Server) error {
	addr := s.Address
	if h.Port != 0 {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return err
		}
		addr = net.JoinHostPort(host, strconv.Itoa(h.Port))
	}
	deadline := time.Now().Add(h.Timeout)
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if s.TLS != nil {
		tc := ctls.Client(c, s.TLS)
		if err := tc.Handshake(); err != nil {
			return err
		}
		c = tc
	}
	if h.Send != "" {
		if _, err := io.WriteString(c, h.Send); err != nil {
			return err
		}
	}
	if h.Expect != "" {
		buf := make([]byte, len(h.Expect))
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if !bytes.Equal(buf, []byte(h.Expect)) {
			return &unexpectedReply{got: string(buf)}
		}
	}
	return nil
}

type unexpectedReply struct{ got string }

func (e *unexpectedReply) Error() string { return "unexpected reply " + strconv.Quote(e.got) }

// Checked is a balancer over servers whose health is checked: a server
// failing the check leaves the rotation until it passes again. Picking
// stays one atomic load plus the WRR increment.
type Checked struct {
	servers []*Server
	weights []int
	check   HealthCheck
	// OnStatus is called on each transition (and once per server at start
	// with up=true), with the server's address.
	onStatus func(addr string, up bool)

	mu   sync.Mutex
	up   []bool
	cur  atomic.Pointer[WRR]
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewChecked balances over servers (all up at first); Start runs the checks.
func NewChecked(servers []*Server, weights []int, hc HealthCheck, onStatus func(addr string, up bool)) *Checked {
	hc.Defaults()
	c := &Checked{servers: servers, weights: weights, check: hc, onStatus: onStatus, up: make([]bool, len(servers)), stop: make(chan struct{})}
	for i := range c.up {
		c.up[i] = true
	}
	c.rebuild()
	return c
}

func (c *Checked) rebuild() {
	hs := make([]tcphandler.Handler, len(c.servers))
	ws := make([]int, len(c.servers))
	for i, s := range c.servers {
		hs[i] = s
		if c.up[i] {
			ws[i] = c.weights[i]
		}
	}
	c.cur.Store(NewWRR(hs, ws))
}

// ServeTCP hands conn to a healthy server (closes it when none is).
func (c *Checked) ServeTCP(conn net.Conn) { c.cur.Load().ServeTCP(conn) }

// Status reports each server's health by address.
func (c *Checked) Status() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.servers))
	for i, s := range c.servers {
		out[s.Address] = out[s.Address] || c.up[i]
	}
	return out
}

// Start runs one checking goroutine per server; the first check is
// immediate.
func (c *Checked) Start() {
	for i := range c.servers {
		c.wg.Add(1)
		go c.loop(i)
	}
}

// Stop ends the checks and waits for them.
func (c *Checked) Stop() {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
}

func (c *Checked) loop(i int) {
	defer c.wg.Done()
	s := c.servers[i]
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.check.Check(s)
		up := err == nil
		c.mu.Lock()
		changed := c.up[i] != up
		if changed {
			c.up[i] = up
			c.rebuild()
		}
		c.mu.Unlock()
		if changed {
			if up {
				slog.Info("tcp health check: server up", "service", s.Name, "address", s.Address)
			} else {
				slog.Warn("tcp health check: server down", "service", s.Name, "address", s.Address, "error", err)
			}
			if c.onStatus != nil {
				c.onStatus(s.Address, up)
			}
		}
		next := c.check.Interval
		if !up {
			next = c.check.UnhealthyInterval
		}
		t.Reset(next)
	}
}
