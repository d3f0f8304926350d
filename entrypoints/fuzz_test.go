package entrypoints

// Fuzz targets for what an entrypoint reads before any protocol server
// sees the connection: the PROXY protocol header (v1 and v2, through the
// listener wrapper with its trust policy) and the TLS ClientHello peek.

import (
	"bufio"
	"bytes"
	ctls "crypto/tls"
	"errors"
	"io"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// peerConn is an accepted connection from a TCP peer that sent data and
// closed its side. (net.Pipe will not do: its SetReadDeadline fails once
// the peer has closed, which a socket's does not.)
type peerConn struct {
	r    *bytes.Reader
	peer net.Addr
}

func (c *peerConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *peerConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *peerConn) Close() error                     { return nil }
func (c *peerConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *peerConn) RemoteAddr() net.Addr             { return c.peer }
func (c *peerConn) SetDeadline(time.Time) error      { return nil }
func (c *peerConn) SetReadDeadline(time.Time) error  { return nil }
func (c *peerConn) SetWriteDeadline(time.Time) error { return nil }

// oneListener accepts a single connection.
type oneListener struct {
	c    net.Conn
	done bool
}

func (l *oneListener) Accept() (net.Conn, error) {
	if l.done {
		return nil, net.ErrClosed
	}
	l.done = true
	return l.c, nil
}
func (l *oneListener) Close() error   { return nil }
func (l *oneListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

var fuzzPeer = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40000}

// acceptWith sends data from a peer at fuzzPeer through the PROXY protocol
// listener and returns what the server side reads and the remote address
// it reports.
func acceptWith(t *testing.T, data []byte, cfg *static.ProxyConfig) ([]byte, net.Addr, error) {
	ln, err := withProxyProtocol(&oneListener{c: &peerConn{r: bytes.NewReader(data), peer: fuzzPeer}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, rerr := io.ReadAll(c)
	return got, c.RemoteAddr(), rerr
}

// FuzzProxyProtocol: any first bytes through the PROXY protocol listener,
// from a trusted and from an untrusted peer. Asserts, against
// go-proxyproto's own reader on the same bytes:
//   - no header: every byte reaches the server unchanged (nothing eaten),
//     and the peer's address stays;
//   - a valid header: it is consumed exactly, the rest reaches the server
//     unchanged; the header's source address is used only from a trusted
//     peer and only for a PROXY (not LOCAL) command;
//   - a malformed header: the connection yields an error, never data;
//   - a parsed header formats and parses back to the same header.
func FuzzProxyProtocol(f *testing.F) {
	for _, s := range proxySeeds() {
		f.Add(s, true)
		f.Add(s, false)
	}
	trusted := &static.ProxyConfig{TrustedIPs: []string{"192.0.2.0/24"}}
	untrusted := &static.ProxyConfig{TrustedIPs: []string{"10.0.0.0/8", "2001:db8::/32"}}
	f.Fuzz(func(t *testing.T, data []byte, trust bool) {
		if len(data) > 16<<10 {
			return
		}
		cfg := untrusted
		if trust {
			cfg = trusted
		}
		got, remote, gerr := acceptWith(t, data, cfg)
		if remote == nil {
			t.Fatalf("nil RemoteAddr after %q", data)
		}

		src := bytes.NewReader(data)
		br := bufio.NewReader(src)
		hdr, err := proxyproto.Read(br)
		switch {
		case errors.Is(err, proxyproto.ErrNoProxyProtocol):
			if gerr != nil || !bytes.Equal(got, data) {
				t.Fatalf("no header in %q, but the server read %q (%v)", data, got, gerr)
			}
			if remote.String() != fuzzPeer.String() {
				t.Fatalf("no header in %q, but remote %v", data, remote)
			}
		case err != nil:
			if gerr == nil {
				t.Fatalf("malformed header %q (%v), but the server read %q", data, err, got)
			}
			if len(got) > 0 {
				t.Fatalf("malformed header %q (%v), yet %q delivered", data, err, got)
			}
		default:
			consumed := len(data) - src.Len() - br.Buffered()
			if gerr != nil || !bytes.Equal(got, data[consumed:]) {
				t.Fatalf("header %v in %q: server read %q (%v), want %q", hdr, data, got, gerr, data[consumed:])
			}
			want := net.Addr(fuzzPeer)
			if trust && hdr.Command.IsProxy() && hdr.SourceAddr != nil && !reflect.ValueOf(hdr.SourceAddr).IsNil() {
				want = hdr.SourceAddr
			}
			if remote.String() != want.String() {
				t.Fatalf("header %v (trusted %v) in %q: remote %v, want %v", hdr, trust, data, remote, want)
			}
			if hdr.SourceAddr == nil || hdr.DestinationAddr == nil {
				return // no addresses: go-proxyproto writes these as headers it will not read back
			}
			raw, err := hdr.Format()
			if err != nil {
				return // go-proxyproto reads some headers it cannot write (unknown families)
			}
			again, err := proxyproto.Read(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatalf("header %v formats as %q, which does not parse: %v", hdr, raw, err)
			}
			if again.Version != hdr.Version || again.Command != hdr.Command || again.TransportProtocol != hdr.TransportProtocol ||
				addrString(again.SourceAddr) != addrString(hdr.SourceAddr) || addrString(again.DestinationAddr) != addrString(hdr.DestinationAddr) {
				t.Fatalf("round trip changed the header: %v -> %q -> %v", hdr, raw, again)
			}
		}
	})
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network() + " " + a.String()
}

func proxySeeds() [][]byte {
	seeds := [][]byte{
		[]byte("PROXY TCP4 198.51.100.1 203.0.113.2 51000 443\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
		[]byte("PROXY TCP6 2001:db8::1 2001:db8::2 51000 443\r\nhello"),
		[]byte("PROXY UNKNOWN\r\nhello"),
		[]byte("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n"),
		[]byte("PROXY TCP4 198.51.100.1 203.0.113.2 51000\r\n"),
		[]byte("PROXY TCP4 198.51.100.1 203.0.113.2 51000 443\n"),
		[]byte("PROXY TCP4 198.51.100.1 203.0.113.2 051000 443\r\n"),
		[]byte("PROXY TCP4 2001:db8::1 203.0.113.2 1 2\r\n"),
		[]byte("PROXY TCP4 198.51.100.1 203.0.113.2 70000 443\r\n"),
		[]byte("PROXY " + strings.Repeat("A", 200) + "\r\n"),
		[]byte("PROX"),
		[]byte("PROXY"),
		[]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
		{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00},
		[]byte("\r\n\r\n\x00\r\nQUIT\n"),
		[]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00"),
	}
	src := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 51000}
	dst := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 2), Port: 443}
	src6 := &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 51000}
	dst6 := &net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 443}
	for _, h := range []*proxyproto.Header{
		proxyproto.HeaderProxyFromAddrs(2, src, dst),
		proxyproto.HeaderProxyFromAddrs(2, src6, dst6),
		{Version: 2, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC},
		{Version: 2, Command: proxyproto.PROXY, TransportProtocol: proxyproto.UDPv4, SourceAddr: &net.UDPAddr{IP: src.IP, Port: 53}, DestinationAddr: &net.UDPAddr{IP: dst.IP, Port: 53}},
	} {
		raw, err := h.Format()
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, append(raw, "payload"...))
		seeds = append(seeds, raw[:len(raw)-1]) // truncated
	}
	// A v2 header with TLVs (ALPN, authority).
	h := proxyproto.HeaderProxyFromAddrs(2, src, dst)
	if err := h.SetTLVs([]proxyproto.TLV{{Type: proxyproto.PP2_TYPE_ALPN, Value: []byte("h2")}, {Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("a.example")}}); err == nil {
		if raw, err := h.Format(); err == nil {
			seeds = append(seeds, append(raw, "x"...))
			bad := bytes.Clone(raw)
			bad[15]++ // length one past the TLVs
			seeds = append(seeds, bad)
		}
	}
	return seeds
}

// clientHello returns the first flight crypto/tls's client sends for the
// given server name and ALPN list (nil if the client refuses the config).
func clientHello(sni string, alpn []string) []byte {
	var out bytes.Buffer
	c := ctls.Client(writeOnly{&out}, &ctls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true})
	_ = c.Handshake()
	return out.Bytes()
}

// writeOnly records the handshake's writes; the first read fails, which
// ends the handshake right after the ClientHello.
type writeOnly struct{ w *bytes.Buffer }

func (c writeOnly) Read([]byte) (int, error)         { return 0, io.EOF }
func (c writeOnly) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c writeOnly) Close() error                     { return nil }
func (c writeOnly) LocalAddr() net.Addr              { return fuzzPeer }
func (c writeOnly) RemoteAddr() net.Addr             { return fuzzPeer }
func (c writeOnly) SetDeadline(time.Time) error      { return nil }
func (c writeOnly) SetReadDeadline(time.Time) error  { return nil }
func (c writeOnly) SetWriteDeadline(time.Time) error { return nil }

// sniSent is the server name crypto/tls's client puts in its SNI
// extension for a configured ServerName (none for an IP literal).
func sniSent(name string) string {
	host := name
	if len(host) > 0 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if i := strings.LastIndex(host, "%"); i > 0 {
		host = host[:i]
	}
	if net.ParseIP(host) != nil {
		return ""
	}
	for len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	return name
}

// FuzzClientHello: a real ClientHello built by crypto/tls's client from a
// fuzzed server name and ALPN list, delivered in two reads split anywhere.
// The peek must report exactly the SNI and ALPN the client sent (the
// routing key of TCP routers and certificate selection), record every
// byte it read so the handshake can be replayed, and normalizeSNI must be
// lower-case, without a trailing dot and idempotent.
func FuzzClientHello(f *testing.F) {
	f.Add("example.test", "h2", "http/1.1", uint16(5))
	f.Add("Example.TEST.", "", "", uint16(0))
	f.Add("a", "x", "", uint16(1000))
	f.Add("10.0.0.1", "h2", "", uint16(3))
	f.Add("[::1]", "", "acme-tls/1", uint16(9))
	f.Add("xn--bcher-kva.example", "h2", "h2", uint16(64))
	f.Add(strings.Repeat("a", 63)+"."+strings.Repeat("b", 63), "h3", "", uint16(200))
	f.Add("a..", "", "", uint16(1))
	f.Add("ünïcode.example", "\x00", "", uint16(7))
	f.Fuzz(func(t *testing.T, sni, p1, p2 string, split uint16) {
		if len(sni) > 255 || len(p1) > 255 || len(p2) > 255 {
			return
		}
		var alpn []string
		for _, p := range []string{p1, p2} {
			if p != "" {
				alpn = append(alpn, p)
			}
		}
		hello := clientHello(sni, alpn)
		if len(hello) == 0 {
			return // the client refused the configuration
		}
		cut := int(split) % (len(hello) + 1)
		a, b := net.Pipe()
		defer a.Close()
		go func() {
			_, _ = b.Write(hello[:cut])
			_, _ = b.Write(hello[cut:])
			_ = b.Close()
		}()
		_ = a.SetDeadline(time.Now().Add(5 * time.Second))
		bp := peekPool.Get().(*[]byte)
		*bp = (*bp)[:0]
		h, ok := readHello(a, bp)
		if !bytes.Equal(*bp, hello[:len(*bp)]) {
			t.Fatalf("recorded bytes differ from the ones sent")
		}
		want := sniSent(sni)
		if !ok {
			// crypto/tls's server refuses an SNI ending in a dot; nothing
			// else it built itself may be refused.
			if !strings.HasSuffix(want, ".") {
				t.Fatalf("ClientHello for %q %q not recognised", sni, alpn)
			}
			return
		}
		if h.sni != want || !slices.Equal(h.alpn, alpn) {
			t.Fatalf("peek read sni %q alpn %q; client sent %q %q", h.sni, h.alpn, want, alpn)
		}
		n := normalizeSNI(h.sni)
		if strings.ContainsAny(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || strings.HasSuffix(n, ".") || normalizeSNI(n) != n ||
			isASCII(h.sni) && n != strings.ToLower(h.sni) {
			t.Fatalf("normalizeSNI(%q) = %q", h.sni, n)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
