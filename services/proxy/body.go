package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strconv"
	"strings"
)

// Chunked decoder states.
const (
	chunkSize = iota // expecting a chunk-size line
	chunkData        // inside chunk data (body.left bytes to go)
	chunkCRLF        // expecting the CRLF after chunk data
	chunkDone        // last chunk and trailer section read
)

const maxChunkLine = 4096

// body is the state of one response body being read.
type body struct {
	mode    int
	left    int64 // bodyLength: bytes to go; bodyChunked: bytes to go in the current chunk
	state   int
	trailer []field
}

// next returns the next piece of body: a slice of the read buffer when data is
// buffered (no copy), else data read straight into buf. It returns io.EOF at the
// end. All waits go through ex so deadlines, cancellation and flushing apply; a
// deadline interruption never loses data.
func (ex *exchange) nextBody(b *body) ([]byte, error) {
	switch b.mode {
	case bodyNone:
		return nil, io.EOF
	case bodyLength:
		if b.left == 0 {
			return nil, io.EOF
		}
		p, err := ex.take(b.left)
		b.left -= int64(len(p))
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return p, err
	case bodyEOF:
		return ex.take(-1)
	}
	// ex.c.br is looked up after every wait: an idle wait gives the
	// buffers back (idleWait).
	for {
		switch b.state {
		case chunkData:
			p, err := ex.take(b.left)
			b.left -= int64(len(p))
			if b.left == 0 {
				b.state = chunkCRLF
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return p, err
		case chunkCRLF:
			line, err := ex.peekLine()
			if err != nil {
				return nil, err
			}
			if !isCRLF(line) {
				return nil, badResponse("chunk data not followed by CRLF")
			}
			_, _ = ex.c.br.Discard(len(line))
			b.state = chunkSize
		case chunkSize:
			line, err := ex.peekLine()
			if err != nil {
				return nil, err
			}
			size, ok := parseChunkSize(line)
			if !ok || !endsCRLF(line) {
				return nil, badResponse("chunk size line %q", truncate(string(line)))
			}
			_, _ = ex.c.br.Discard(len(line))
			if size > 0 {
				b.left = size
				b.state = chunkData
				continue
			}
			if err := ex.readTrailer(b); err != nil {
				return nil, err
			}
			b.state = chunkDone
			return nil, io.EOF
		case chunkDone:
			return nil, io.EOF
		}
	}
}

// take returns up to limit bytes (limit < 0: no limit): a slice of the
// read buffer, or of the connection's copy buffer when read straight into
// it. Both are looked up after every wait, never kept across one: an idle
// wait gives the buffer set back to the pool (idleWait), and a stale
// reference would pin it, or share it with the exchange that takes it next.
func (ex *exchange) take(limit int64) ([]byte, error) {
	for {
		br := ex.c.br
		if br.Buffered() == 0 && ex.watch != nil {
			if err := ex.idleWait(); err != nil {
				return nil, err
			}
			br = ex.c.br
		}
		if n := br.Buffered(); n > 0 {
			if limit >= 0 && int64(n) > limit {
				n = int(limit)
			}
			p, _ := br.Peek(n)
			_, _ = br.Discard(n)
			return p, nil
		}
		buf := ex.c.buf
		if limit >= 0 && int64(len(buf)) > limit {
			buf = buf[:limit]
		}
		n, err := ex.readNet(buf)
		if errors.Is(err, errGoIdle) {
			continue
		}
		return buf[:n], err
	}
}

// readTrailer reads the trailer section after the last chunk.
func (ex *exchange) readTrailer(b *body) error {
	total := 0
	for {
		line, err := ex.peekLine()
		if err != nil {
			return err
		}
		n := len(line)
		if !endsCRLF(line) {
			return badResponse("trailer line not ended by CRLF")
		}
		if isCRLF(line) {
			_, _ = ex.c.br.Discard(n)
			return nil
		}
		total += n
		if total > maxTrailerSize {
			return badResponse("trailer section too large")
		}
		s, _ := cutLine(string(line))
		_, _ = ex.c.br.Discard(n)
		name, value, ok := splitField(s)
		if !ok {
			return badResponse("trailer line %q", truncate(s))
		}
		b.trailer = append(b.trailer, field{name: name, value: value})
	}
}

// Chunked framing requires CRLF line ends (RFC 9112 section 7.1); a bare
// LF is refused, as net/http's client does: parsers that disagree on where
// a chunk ends are a smuggling vector.
func endsCRLF(line []byte) bool { n := len(line); return n >= 2 && line[n-2] == '\r' }

func isCRLF(line []byte) bool { return len(line) == 2 && line[0] == '\r' }

// splitField parses "Name: value" into a canonical name and a trimmed value.
func splitField(s string) (name, value string, ok bool) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return "", "", false
	}
	name, ok = canonicalKey(s[:colon])
	return name, textproto.TrimString(s[colon+1:]), ok && validFieldValue(s[colon+1:])
}

// parseChunkSize parses "1a2b[;ext]\r\n".
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if bytes.IndexByte(line, '\r') >= 0 {
		return 0, false // a bare CR, refused as net/http does
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// writeChunkHeader writes the size line of an n-byte chunk.
func writeChunkHeader(bw *bufio.Writer, n int) {
	h := strconv.AppendUint(bw.AvailableBuffer(), uint64(n), 16)
	h = append(h, '\r', '\n')
	_, _ = bw.Write(h)
}

// peekLine returns the next line (with its LF) without consuming it.
func (ex *exchange) peekLine() ([]byte, error) {
	scanned := 0
	for {
		br := ex.c.br
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(buf[scanned:], '\n'); i >= 0 {
			if scanned+i+1 > maxChunkLine {
				// The same limit whether the line arrived at once or not.
				return nil, badResponse("line too long")
			}
			return buf[:scanned+i+1], nil
		}
		scanned = len(buf)
		if scanned >= maxChunkLine || scanned >= br.Size() {
			return nil, badResponse("line too long")
		}
		if _, err := ex.peek(scanned + 1); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}
