// Package upgrade is the channel between a running switchyard and the new
// binary it starts on a binary upgrade: a Unix stream socket carrying
// length-prefixed records, each with a kind, a metadata blob and any file
// descriptors (SCM_RIGHTS, sent in the same sendmsg as the record's first
// byte). Listening sockets travel over it first; live connections later,
// through the movers and adopters registered by other packages.
package upgrade

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits of one record. A record carries at most MaxFiles descriptors,
// the kernel's SCM_MAX_FD; metadata is bounded so that a broken peer
// cannot make the other side allocate without limit.
const (
	MaxKind  = 255
	MaxMeta  = 16 << 20
	MaxFiles = 253
)

// headerLen is the fixed prefix: body length (4 bytes, big endian).
const headerLen = 4

// A record on the wire:
//
//	u32 body length | u8 kind length | kind | u8 file count | meta
//
// The file count says how many received descriptors belong to the record.
func encodeRecord(kind string, meta []byte, nfiles int) ([]byte, error) {
	return appendRecord(nil, kind, meta, nfiles)
}

// appendRecord appends one encoded record to b.
func appendRecord(b []byte, kind string, meta []byte, nfiles int) ([]byte, error) {
	if kind == "" || len(kind) > MaxKind {
		return b, fmt.Errorf("upgrade: record kind %q: length must be 1..%d", kind, MaxKind)
	}
	if len(meta) > MaxMeta {
		return b, fmt.Errorf("upgrade: record %q: metadata of %d bytes exceeds %d", kind, len(meta), MaxMeta)
	}
	if nfiles > MaxFiles {
		return b, fmt.Errorf("upgrade: record %q: %d files exceed %d", kind, nfiles, MaxFiles)
	}
	body := 1 + len(kind) + 1 + len(meta)
	b = binary.BigEndian.AppendUint32(b, uint32(body))
	b = append(b, byte(len(kind)))
	b = append(b, kind...)
	b = append(b, byte(nfiles))
	return append(b, meta...), nil
}

var errShortBody = errors.New("upgrade: record body too short")

// bodyLen validates the 4-byte header and returns the body length.
func bodyLen(h []byte) (int, error) {
	n := binary.BigEndian.Uint32(h)
	if n < 2 || n > 1+MaxKind+1+MaxMeta {
		return 0, fmt.Errorf("upgrade: record body length %d out of range", n)
	}
	return int(n), nil
}

// decodeBody splits a record body into kind, file count and metadata; meta
// aliases body.
func decodeBody(body []byte) (kind string, nfiles int, meta []byte, err error) {
	if len(body) < 2 {
		return "", 0, nil, errShortBody
	}
	kl := int(body[0])
	if kl == 0 || len(body) < 1+kl+1 {
		return "", 0, nil, fmt.Errorf("upgrade: record kind length %d in a body of %d bytes", kl, len(body))
	}
	kind = string(body[1 : 1+kl])
	nfiles = int(body[1+kl])
	if nfiles > MaxFiles {
		return "", 0, nil, fmt.Errorf("upgrade: record %q: %d files exceed %d", kind, nfiles, MaxFiles)
	}
	return kind, nfiles, body[2+kl:], nil
}
