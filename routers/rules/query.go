package rules

import (
	"net/url"
	"regexp"
	"strings"
)

// The query matchers scan RawQuery in place instead of calling URL.Query(),
// which builds a map per call. The scan follows url.ParseQuery: pairs split
// on '&', a pair holding ';' is ignored, the key ends at the first '=', and
// a pair whose key or value has a bad escape is ignored.

// queryHas reports whether some pair has key and value (after unescaping).
func queryHas(raw, key, value string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		keq, ok := unescapedEqual(k, key)
		if !ok || !keq {
			continue
		}
		if veq, ok := unescapedEqual(v, value); ok && veq {
			return true
		}
	}
	return false
}

// queryMatch reports whether some pair with key has a value matching re.
func queryMatch(raw, key string, re *regexp.Regexp) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if keq, ok := unescapedEqual(k, key); !ok || !keq {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				continue
			}
			v = u
		}
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// unescapedEqual compares the query-unescaped form of raw ('+' is a space,
// %XX a byte) with want, without building it. ok is false when raw has a
// malformed escape, which makes url.ParseQuery drop the pair.
func unescapedEqual(raw, want string) (equal, ok bool) {
	if strings.IndexByte(raw, '%') < 0 && strings.IndexByte(raw, '+') < 0 {
		return raw == want, true
	}
	equal = true
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(raw) {
				return false, false
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return false, false
			}
			c = hi<<4 | lo
			i += 2
		}
		// Keep scanning after a mismatch: a later bad escape still voids
		// the pair.
		if j >= len(want) || want[j] != c {
			equal = false
		}
		j++
	}
	return equal && j == len(want), true
}
