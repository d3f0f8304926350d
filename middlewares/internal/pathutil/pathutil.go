// Package pathutil holds the small path helpers shared by the path-rewriting
// middlewares (stripprefix, stripprefixregex, addprefix, ...).
package pathutil

import "strings"

// EnsureLeadingSlash returns p with a leading "/" unless p is empty: an
// empty path stays empty (Go turns it into "/" on the wire).
func EnsureLeadingSlash(p string) string {
	if p == "" || p[0] == '/' {
		return p
	}
	return "/" + p
}

// StripRawPrefix removes from raw (an escaped path) the part whose decoded
// form is prefix. prefix is a prefix of the decoded path, so the prefix may
// end anywhere in raw, even after an escape such as "%69" for "i".
// ok is false when raw does not decode to something starting with prefix
// (raw is not a valid encoding of the path).
func StripRawPrefix(raw, prefix string) (rest string, ok bool) {
	i, j := 0, 0 // i walks raw, j walks prefix
	for j < len(prefix) {
		if i >= len(raw) {
			return "", false
		}
		c := raw[i]
		n := 1
		if c == '%' {
			if i+2 >= len(raw) {
				return "", false
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			c = hi<<4 | lo
			n = 3
		}
		if c != prefix[j] {
			return "", false
		}
		i += n
		j++
	}
	return raw[i:], true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// DotFirstSegment reports whether the first segment of p (after an optional
// leading "/") is "." or "..". Stripping a prefix that ends inside a segment
// ("/api" from "/api../x") can create such a segment; forwarding it would let
// a client climb out of the prefix on the backend.
func DotFirstSegment(p string) bool {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return p == "." || p == ".."
}
