package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/relay"
)

// upgrade completes a 101 Switching Protocols: it hijacks the client
// connection, relays the 101 head and copies both streams until both ends
// are done (an error on either ends both). The backend connection is
// consumed. The setup runs in a frame of its own (startTunnel): the
// tunnel may last for hours, and the waiting goroutine's stack is kept
// at four times the depth in use.
func (ex *exchange) upgrade() error {
	tn, err := ex.startTunnel()
	if err != nil {
		return err
	}
	defer tn.end()
	tn.r.Run()
	return nil
}

// tunnelEnds is what a running tunnel closes when it is done.
type tunnelEnds struct {
	r    *relay.Relay
	cc   net.Conn
	bc   *conn
	stop func() bool
}

func (tn *tunnelEnds) end() {
	tn.stop()
	_ = tn.cc.Close()
	tn.bc.close()
}

// startTunnel hijacks the client connection, writes the 101 head and
// prepares the relay; on error, what it took is closed.
//
//go:noinline
func (ex *exchange) startTunnel() (*tunnelEnds, error) {
	h := &ex.head
	if ex.upType == "" {
		return nil, badResponse("101 Switching Protocols without an upgrade request")
	}
	if !strings.EqualFold(h.upgrade, ex.upType) {
		return nil, badResponse("backend switched to protocol %q when %q was requested", h.upgrade, ex.upType)
	}
	hdr := ex.rw.Header()
	for _, f := range h.fields() {
		if !skipResponseHeader(f.name) && !h.listedInConnection(f.name) {
			hdr[f.name] = append(hdr[f.name], f.value)
		}
	}
	hdr["Connection"] = []string{"Upgrade"}
	hdr["Upgrade"] = []string{h.upgrade}

	cc, cbrw, err := http.NewResponseController(ex.rw).Hijack()
	if err != nil {
		return nil, &statusError{code: http.StatusInternalServerError, err: fmt.Errorf("can't switch protocols: %w", err)}
	}
	ex.sentHeader = true
	bc := ex.c
	ex.c = nil

	ex.unwatch() // the tunnel's own AfterFunc below takes over
	_ = bc.nc.SetDeadline(time.Time{})
	_ = cc.SetDeadline(time.Time{})

	// The server ends the request's context when it closes the client
	// side of the tunnel (its idle bound, the end of a graceful
	// shutdown): the backend side goes with it, so neither a silent peer
	// nor a half-closed stream holds a connection.
	stop := context.AfterFunc(ex.ctx, func() {
		_ = cc.Close()
		_ = bc.nc.Close()
	})
	tn := &tunnelEnds{cc: cc, bc: bc, stop: stop}

	_, _ = cbrw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	if err := hdr.Write(cbrw); err != nil {
		tn.end()
		return nil, err
	}
	_, _ = cbrw.WriteString("\r\n")
	if err := cbrw.Flush(); err != nil {
		tn.end()
		return nil, err
	}

	// Bytes already read past the heads on either side go first. A
	// stoppable relay: on a binary upgrade the pair can move to the new
	// process (the entrypoint decides whether both sides can: no TLS).
	var st relay.State
	st.Pending[relay.Up] = buffered(cbrw.Reader)
	st.Pending[relay.Down] = buffered(bc.br)
	// The tunnel may stay quiet for hours: its 44 KiB working set goes
	// back to the pool now (the relay borrows its own per read).
	bc.releaseBufs()
	st.DelayLeft = -1
	tn.r = relay.Resume(cc, bc.nc, st, -1, 0)
	if h, ok := cc.(relay.Holder); ok {
		h.HoldRelay(tn.r, ex.p.target.Host)
	}
	return tn, nil
}

// buffered takes (a copy of) what br holds.
func buffered(br *bufio.Reader) []byte {
	n := br.Buffered()
	if n == 0 {
		return nil
	}
	b, _ := br.Peek(n)
	b = append([]byte(nil), b...)
	_, _ = br.Discard(n)
	return b
}
