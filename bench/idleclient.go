package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The client side of the idle scenarios: each kind opens one connection
// through the proxy, does its one exchange and returns the socket open,
// with no goroutine and no buffer kept. Sources rotate over several
// 127.0.0.x addresses so 20,000 and more connections never exhaust the
// ephemeral ports of one source address.

// idleConn is one held connection: raw is the TCP socket (for the liveness
// peek), c what closes it (the TLS connection where there is one).
type idleConn struct {
	raw *net.TCPConn
	c   net.Conn
}

// clientSources are the source addresses of the harness's connections.
var clientSources = func() []net.IP {
	var ips []net.IP
	for i := 10; i < 26; i++ {
		ips = append(ips, net.IPv4(127, 0, 0, byte(i)))
	}
	return ips
}()

var dialSeq atomic.Uint64

// dialSpread dials addr from the next source address. IP_BIND_ADDRESS_NO_PORT
// leaves the port to connect(), so a port is only unique per 4-tuple.
func dialSpread(addr string) (*net.TCPConn, error) {
	src := clientSources[dialSeq.Add(1)%uint64(len(clientSources))]
	d := net.Dialer{Timeout: 15 * time.Second, LocalAddr: &net.TCPAddr{IP: src},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, 24 /* IP_BIND_ADDRESS_NO_PORT */, 1)
			})
			return cmpOr(err, serr)
		}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// idleKind opens one connection of a scenario and does its exchange.
type idleKind func(addr string) (idleConn, error)

var idleTLSConf = &tls.Config{InsecureSkipVerify: true, ServerName: "bench.test"}

// tlsAfterRequest: a TLS connection (ALPN http/1.1) that made one
// keep-alive GET and read the whole answer.
func tlsAfterRequest(addr string) (idleConn, error) {
	raw, err := dialSpread(addr)
	if err != nil {
		return idleConn{}, err
	}
	cfg := idleTLSConf.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	c := tls.Client(raw, cfg)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := exchangeH1(c, "GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n"); err != nil {
		c.Close()
		return idleConn{}, err
	}
	_ = c.SetDeadline(time.Time{})
	return idleConn{raw: raw, c: c}, nil
}

// exchangeH1 writes req and reads one complete 200 response.
func exchangeH1(c net.Conn, req string) error {
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var sink [2048]byte
	for {
		if _, err := resp.Body.Read(sink[:]); err != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if resp.Close {
		return errors.New("the proxy closes the connection after the response")
	}
	return nil
}

// sseStream: a cleartext GET /sse whose response head and first event
// arrived; the stream stays open.
func sseStream(addr string) (idleConn, error) {
	raw, err := dialSpread(addr)
	if err != nil {
		return idleConn{}, err
	}
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := raw.Write([]byte("GET /sse HTTP/1.1\r\nHost: bench.test\r\nAccept: text/event-stream\r\n\r\n")); err != nil {
		raw.Close()
		return idleConn{}, err
	}
	if err := readUntil(raw, []byte("data: hello"), nil); err != nil {
		raw.Close()
		return idleConn{}, fmt.Errorf("sse: %w", err)
	}
	_ = raw.SetDeadline(time.Time{})
	return idleConn{raw: raw, c: raw}, nil
}

// readUntil reads until want has been seen (after the end of the response
// head when head is non-nil: it then must contain head).
func readUntil(c net.Conn, want, head []byte) error {
	var buf [4096]byte
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		got := buf[:n]
		if head != nil {
			if i := bytes.Index(got, []byte("\r\n\r\n")); i >= 0 {
				if !bytes.Contains(got[:i], head) {
					return fmt.Errorf("unexpected response %q", got[:i])
				}
				if want == nil || bytes.Contains(got[i+4:], want) {
					return nil
				}
			}
		} else if bytes.Contains(got, want) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w after %q", err, got)
		}
		if n == len(buf) {
			return fmt.Errorf("no %q in %q", want, got)
		}
	}
}

// webSocket: a cleartext WebSocket through the proxy; the client sends one
// message, the origin answers one; the tunnel stays open.
func webSocket(addr string) (idleConn, error) {
	raw, err := dialSpread(addr)
	if err != nil {
		return idleConn{}, err
	}
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET /ws HTTP/1.1\r\nHost: bench.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := raw.Write([]byte(req)); err != nil {
		raw.Close()
		return idleConn{}, err
	}
	if err := readUntil(raw, nil, []byte(" 101 ")); err != nil {
		raw.Close()
		return idleConn{}, fmt.Errorf("websocket handshake: %w", err)
	}
	if _, err := raw.Write(wsFrame([]byte("hi"), true)); err != nil {
		raw.Close()
		return idleConn{}, err
	}
	// The origin's frame: 0x81 0x05 "hello".
	if err := readUntil(raw, []byte("hello"), nil); err != nil {
		raw.Close()
		return idleConn{}, fmt.Errorf("websocket message: %w", err)
	}
	_ = raw.SetDeadline(time.Time{})
	return idleConn{raw: raw, c: raw}, nil
}

// h2AfterRequest: an HTTP/2 connection over TLS (ALPN h2) that made one GET
// on stream 1 and read its end; SETTINGS are acknowledged both ways.
func h2AfterRequest(addr string) (idleConn, error) {
	raw, err := dialSpread(addr)
	if err != nil {
		return idleConn{}, err
	}
	cfg := idleTLSConf.Clone()
	cfg.NextProtos = []string{"h2"}
	c := tls.Client(raw, cfg)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := h2Exchange(c); err != nil {
		c.Close()
		return idleConn{}, fmt.Errorf("h2: %w", err)
	}
	_ = c.SetDeadline(time.Time{})
	return idleConn{raw: raw, c: c}, nil
}

func h2Exchange(c *tls.Conn) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		return fmt.Errorf("ALPN %q, not h2", p)
	}
	bw := bufio.NewWriterSize(c, 512)
	if _, err := bw.WriteString(http2.ClientPreface); err != nil {
		return err
	}
	fr := http2.NewFramer(bw, c)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "bench.test"}, {":path", "/"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	status := ""
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			status = f.Value
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		end := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return err
				}
			}
		case *http2.HeadersFrame:
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				return err
			}
			end = f.StreamEnded()
		case *http2.DataFrame:
			end = f.StreamEnded()
		case *http2.GoAwayFrame:
			return fmt.Errorf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			return fmt.Errorf("RST_STREAM %v", f.ErrCode)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if end {
			if status != "200" {
				return fmt.Errorf("status %q", status)
			}
			return nil
		}
	}
}

// openIdle opens n connections of kind to addr with parallel workers; on
// the first error it closes what it opened.
func openIdle(kind idleKind, addr string, n, parallel int) ([]idleConn, error) {
	conns := make([]idleConn, n)
	var (
		wg     sync.WaitGroup
		failed atomic.Bool
		first  error
		once   sync.Once
		next   atomic.Int64
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := kind(addr)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("connection %d of %d: %w", i+1, n, err) })
					failed.Store(true)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if first != nil {
		closeIdle(conns)
		return nil, first
	}
	return conns, nil
}

func closeIdle(cs []idleConn) {
	for _, c := range cs {
		if c.c != nil {
			c.c.Close()
		}
	}
}

// countOpen peeks at every socket without reading: a connection the proxy
// closed shows EOF or an error, an open one has nothing to read (or bytes
// the proxy sent, such as a ping, which still means open).
func countOpen(cs []idleConn) int {
	open := 0
	var b [1]byte
	for _, c := range cs {
		if c.raw == nil {
			continue
		}
		rc, err := c.raw.SyscallConn()
		if err != nil {
			continue
		}
		alive := false
		_ = rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			alive = n > 0 || errors.Is(err, syscall.EAGAIN)
			return true
		})
		if alive {
			open++
		}
	}
	return open
}
