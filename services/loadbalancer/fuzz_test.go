package loadbalancer

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzCookieFrom checks the sticky-cookie scanner against net/http's parser
// on arbitrary Cookie headers: whenever net/http finds the cookie, so do we.
func FuzzCookieFrom(f *testing.F) {
	for _, s := range []string{"a=1", "x=2; a=3", `a="q"`, "a", "; ; a=", "b=1;a=2;a=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		got, ok := cookieFrom(r, "a")
		if ok && !strings.Contains(header, got) {
			t.Fatalf("header %q: value %q not from the header", header, got)
		}
		// On plain cookie headers (token characters only), agree with net/http.
		for _, c := range header {
			if c < 0x21 && c != ' ' || c > 0x7e || c == '"' || c == ',' || c == '\\' {
				return
			}
		}
		c, err := r.Cookie("a")
		if err == nil && c.Value != "" && (!ok || got != strings.TrimSpace(c.Value)) {
			t.Errorf("header %q: net/http %q, ours %q %v", header, c.Value, got, ok)
		}
	})
}
