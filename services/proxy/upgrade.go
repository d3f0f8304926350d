package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// upgrade completes a 101 Switching Protocols: it hijacks the client
// connection, relays the 101 head and splices both streams until both ends
// are done. The backend connection is consumed.
func (ex *exchange) upgrade() error {
	h := &ex.head
	if ex.upType == "" {
		return badResponse("101 Switching Protocols without an upgrade request")
	}
	if !strings.EqualFold(h.upgrade, ex.upType) {
		return badResponse("backend switched to protocol %q when %q was requested", h.upgrade, ex.upType)
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
		return &statusError{code: http.StatusInternalServerError, err: fmt.Errorf("can't switch protocols: %w", err)}
	}
	ex.sentHeader = true
	bc := ex.c
	ex.c = nil
	defer bc.close()
	defer cc.Close()

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
	defer stop()

	_, _ = cbrw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	if err := hdr.Write(cbrw); err != nil {
		return err
	}
	_, _ = cbrw.WriteString("\r\n")
	if err := cbrw.Flush(); err != nil {
		return err
	}

	// Bytes already read past the heads on either side go first.
	var wg sync.WaitGroup
	var upErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		upErr = pipe(bc.nc, cc, cbrw.Reader)
		if upErr != nil {
			// A broken stream ends the whole tunnel, whichever side.
			_ = cc.Close()
			_ = bc.nc.Close()
		}
	}()
	downErr := pipe(cc, bc.nc, bc.br)
	if downErr != nil {
		// A broken stream ends the whole tunnel.
		_ = cc.Close()
		_ = bc.nc.Close()
	}
	wg.Wait()
	return nil
}

// pipe copies src to dst until EOF, starting with what br already buffered,
// then half-closes dst so the peer sees the end of this direction.
func pipe(dst, src net.Conn, br *bufio.Reader) error {
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		if _, err := dst.Write(b); err != nil {
			return err
		}
		_, _ = br.Discard(n)
	}
	_, err := copyConn(dst, src)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
		_ = cw.CloseWrite()
		return nil
	}
	_ = dst.Close()
	return err
}

// copyConn copies with splice(2) between TCP sockets, or a pooled buffer.
func copyConn(dst, src net.Conn) (int64, error) {
	if _, ok := src.(*net.TCPConn); ok {
		if d, ok := dst.(*net.TCPConn); ok {
			return d.ReadFrom(src)
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{dst}, readerOnly{src}, *bp)
}

// writerOnly and readerOnly hide ReadFrom/WriteTo so CopyBuffer uses our buffer.
type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }
