package http1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// maxDiscard is how much of a body the handler left unread the server
// reads and drops to keep the connection (net/http's threshold).
const maxDiscard = 256 << 10

var errBodyAfterClose = errors.New("http: invalid Read on closed Body")

// body reads a request body framed by Content-Length or chunked coding
// straight from the connection's reader.
type body struct {
	mu        sync.Mutex
	ex        *exchange
	br        *bufio.Reader
	remaining int64 // Content-Length: bytes left; chunked: left in this chunk
	chunked   bool
	expect    bool // send "100 Continue" before the first read
	eof       bool
	closed    bool
	err       error // sticky framing or read error
	excess    int64 // chunked framing overhead not covered by data
	settled   bool  // drain ran; reusable is its answer
	reusable  bool
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyAfterClose
	}
	return b.readLocked(p)
}

func (b *body) readLocked(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.expect {
		b.expect = false
		b.ex.w.sendContinue()
	}
	if !b.chunked {
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err := b.br.Read(p)
		b.remaining -= int64(n)
		if b.remaining == 0 {
			b.eof = true
			b.ex.bodyDone()
			return n, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			b.err = err
		}
		return n, err
	}
	for b.remaining == 0 {
		if err := b.nextChunk(); err != nil {
			if errors.Is(err, io.EOF) {
				b.eof = true
				b.ex.bodyDone()
			} else {
				b.err = err
			}
			return 0, err
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 && err == nil {
		err = b.chunkEnd()
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

var errChunk = errors.New("http: malformed chunked encoding")

// nextChunk reads a chunk-size line; io.EOF after the last chunk and its
// trailer section.
func (b *body) nextChunk() error {
	line, err := readLine(b.br)
	if err != nil {
		return err
	}
	// Framing overhead beyond what the data justifies (long extensions,
	// tiny chunks) is refused past 16 KiB, as net/http does.
	b.excess += int64(len(line)) + 2 - 16
	if strings.IndexByte(line, '\r') >= 0 {
		return errChunk // a bare CR: refused as net/http does
	}
	line = strings.TrimRight(line, " \t")
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions are ignored
	}
	if line == "" || len(line) > 16 {
		return errChunk
	}
	var n int64
	for i := 0; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			return errChunk
		}
		n = n<<4 | int64(d)
	}
	if n < 0 {
		return errChunk
	}
	if n == 0 {
		return b.readTrailer()
	}
	b.excess = max(b.excess-2*n, 0)
	if b.excess > 16<<10 {
		return errors.New("http: chunked encoding contains too much non-data")
	}
	b.remaining = n
	return nil
}

// chunkEnd consumes the CRLF after a chunk's data.
func (b *body) chunkEnd() error {
	line, err := readLine(b.br)
	if err != nil {
		return err
	}
	if line != "" {
		return errChunk
	}
	return nil
}

// readTrailer reads the trailer section after the last chunk into the
// request's Trailer map.
func (b *body) readTrailer() error {
	total := 0
	for {
		line, err := readLine(b.br)
		if err != nil {
			return err
		}
		if line == "" {
			return io.EOF
		}
		if total += len(line); total > maxTrailerBytes {
			return errChunk
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || !validHeaderName(k) || !httpguts.ValidHeaderFieldValue(trimOWS(v)) {
			return errChunk
		}
		r := b.ex.req
		if r.Trailer == nil {
			r.Trailer = http.Header{}
		}
		r.Trailer[canonicalKey(k)] = append(r.Trailer[canonicalKey(k)], trimOWS(v))
	}
}

const maxTrailerBytes = 64 << 10

// readLine reads one line without its CRLF (or bare LF), copied.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errChunk
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	// Chunked framing requires CRLF; a bare LF is refused as net/http
	// does (a smuggling vector between parsers that disagree).
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errChunk
	}
	return string(line[:len(line)-2]), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Close marks the body closed; what is left is drained or the connection
// closed when the handler returns, as net/http does.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// drain closes the body to the handler (a goroutine it left behind must
// not read the next request) and reads what it left, up to maxDiscard:
// true when the connection can carry another request.
func (b *body) drain() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.settled {
		return b.reusable
	}
	b.settled = true
	b.reusable = b.drainLocked()
	return b.reusable
}

func (b *body) drainLocked() bool {
	if b.eof {
		return true
	}
	if b.err != nil || b.expect {
		// Broken framing, or the client still waits for "100 Continue"
		// and may never send the body: the connection cannot be reused.
		return false
	}
	if !b.chunked && b.remaining > maxDiscard {
		return false
	}
	var scratch [512]byte
	budget := maxDiscard
	for budget > 0 {
		n, err := b.readLocked(scratch[:min(len(scratch), budget)])
		budget -= n
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}

// forcesClose: while the handler still runs, what is known already rules
// out another request on the connection (a framing or read error, or more
// unread than drain would read).
func (b *body) forcesClose() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err != nil || !b.eof && !b.chunked && b.remaining > maxDiscard
}

// closeConsumed closes the body to the handler and reports whether it
// was read to its end.
func (b *body) closeConsumed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.eof
}
