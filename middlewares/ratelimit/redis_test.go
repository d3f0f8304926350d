package ratelimit

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"+OK\r\n", "OK", false},
		{":42\r\n", "42", false},
		{"$3\r\nabc\r\n", "abc", false},
		{"*2\r\n:1\r\n:0\r\n", "[1 0]", false},
		{"-NOSCRIPT No matching script\r\n", "", true},
		{"?x\r\n", "", true},
		{"$99999999999\r\n", "", true}, // oversized bulk refused, not allocated
		{"+OK\n", "", true},
	}
	for _, tc := range tests {
		v, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.err {
			if got := fmt.Sprint(v); got != tc.want {
				t.Errorf("%q: %q", tc.in, got)
			}
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n:1\r\n$1\r\nx\r\n", "$-1\r\n", "*-1\r\n", "*3\r\n-ERR\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = readReply(bufio.NewReader(strings.NewReader(s)))
	})
}
