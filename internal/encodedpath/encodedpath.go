// Package encodedpath finds refused percent-encoded characters in a
// request path: the entrypoint option http.encodedCharacters and the
// encodedCharacters middleware share it.
package encodedpath

import "strings"

// Allow lists which encoded characters are allowed (true) or refused.
type Allow struct {
	Slash, BackSlash, Null, Semicolon, Percent, QuestionMark, Hash bool
}

// Filter is the set of refused characters, indexed by the byte the escape
// decodes to.
type Filter [256]bool

// New returns nil when every character is allowed (nothing to check).
func New(a Allow) *Filter {
	var f Filter
	deny := false
	for _, d := range []struct {
		allow bool
		b     byte
	}{
		{a.Slash, '/'}, {a.BackSlash, '\\'}, {a.Null, 0}, {a.Semicolon, ';'},
		{a.Percent, '%'}, {a.QuestionMark, '?'}, {a.Hash, '#'},
	} {
		if !d.allow {
			f[d.b] = true
			deny = true
		}
	}
	if !deny {
		return nil
	}
	return &f
}

// Refuses reports whether the raw (still encoded) path holds a refused
// escape.
func (f *Filter) Refuses(raw string) bool {
	for {
		i := strings.IndexByte(raw, '%')
		if i < 0 || i+2 >= len(raw) {
			return false
		}
		if h, ok1 := unhex(raw[i+1]); ok1 {
			if l, ok2 := unhex(raw[i+2]); ok2 && f[h<<4|l] {
				return true
			}
		}
		raw = raw[i+1:]
	}
}

// RefusesDecoded reports whether a decoded path whose encoded form is the
// standard escaping (url.URL with an empty RawPath) holds a refused
// character that this escaping always encodes ('%', '?', '#', NUL, '\').
// '/' and ';' are not encoded by it: in such a path they were sent raw.
func (f *Filter) RefusesDecoded(path string) bool {
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#', 0, '\\':
			if f[c] {
				return true
			}
		}
	}
	return false
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
