package tlcp

// Sniff tells from a connection's first bytes whether it opens a TLCP
// handshake: a handshake record (§6.3.3.1) of version 0x0101 carrying a
// ClientHello of client_version 0x0101 (§6.4.5.2.1). It needs the first 11
// bytes; with fewer it answers with what it saw (more is false when it
// cannot tell yet). It never reads past b.
func Sniff(b []byte) (isTLCP, more bool) {
	want := [...]byte{
		0:  recordHandshake,
		1:  byte(VersionTLCP >> 8),
		2:  byte(VersionTLCP & 0xff),
		5:  typeClientHello,
		9:  byte(VersionTLCP >> 8),
		10: byte(VersionTLCP & 0xff),
	}
	for i := range want {
		if i >= len(b) {
			return false, true
		}
		switch i {
		case 3, 4, 6, 7, 8: // lengths
			continue
		}
		if b[i] != want[i] {
			return false, false
		}
	}
	// A record length that cannot hold a ClientHello is not one.
	recLen := int(b[3])<<8 | int(b[4])
	return recLen >= 4+2+randomLen+1+2+2+1+1 && recLen <= maxPlaintext, false
}
