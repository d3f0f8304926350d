package pathutil

import (
	"net/url"
	"strings"
	"testing"
)

func TestEnsureLeadingSlash(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "/", "a": "/a", "/a/b": "/a/b", ".": "/."} {
		if got := EnsureLeadingSlash(in); got != want {
			t.Errorf("EnsureLeadingSlash(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripRawPrefix(t *testing.T) {
	tests := []struct {
		raw, prefix, rest string
		ok                bool
	}{
		{"/stat/a%2Fb", "/stat", "/a%2Fb", true},
		{"/ap%69/a%2Fb", "/api/", "a%2Fb", true},
		{"/ap%69/a%2Fb", "/api", "/a%2Fb", true},
		{"/a%2Fb", "/a/", "b", true},
		{"/%C3%A9t%C3%A9/x", "/été", "/x", true},
		{"/%C3%A9", "/\xc3", "%A9", true}, // a byte-level prefix ends between escapes
		{"/abc", "/abd", "", false},
		{"/ab", "/abc", "", false},
		{"/a%2", "/a/", "", false},
		{"/a%zz", "/a/", "", false},
		{"/x", "", "/x", true},
	}
	for _, tc := range tests {
		rest, ok := StripRawPrefix(tc.raw, tc.prefix)
		if rest != tc.rest || ok != tc.ok {
			t.Errorf("StripRawPrefix(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.prefix, rest, ok, tc.rest, tc.ok)
		}
	}
}

func TestDotFirstSegment(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "/": false, ".": true, "./x": true, "/./x": true, "..": true, "../x": true,
		"/../": true, ".x": false, "/.json": false, "/a/../b": false, "...": false,
	} {
		if got := DotFirstSegment(in); got != want {
			t.Errorf("DotFirstSegment(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzStripRawPrefix checks that, for any valid escaped path and any prefix of
// its decoded form, the stripped raw rest decodes to the stripped path.
func FuzzStripRawPrefix(f *testing.F) {
	f.Add("/stat/a%2Fb", 5)
	f.Add("/ap%69/a%2Fb", 5)
	f.Add("/%C3%A9t%C3%A9", 2)
	f.Fuzz(func(t *testing.T, raw string, n int) {
		dec, err := url.PathUnescape(raw)
		if err != nil || strings.Contains(raw, "+") {
			// Only valid encodings are contractual; just make sure nothing panics.
			_, _ = StripRawPrefix(raw, dec)
			return
		}
		if n < 0 {
			n = -n
		}
		if len(dec) == 0 {
			return
		}
		n %= len(dec) + 1
		rest, ok := StripRawPrefix(raw, dec[:n])
		if !ok {
			t.Fatalf("StripRawPrefix(%q, %q) not ok", raw, dec[:n])
		}
		got, err := url.PathUnescape(rest)
		if err != nil {
			// The prefix ended between two escapes of one rune: rest starts
			// mid-sequence but is still made of whole escapes.
			t.Fatalf("rest %q of %q does not unescape: %v", rest, raw, err)
		}
		if got != dec[n:] {
			t.Fatalf("rest %q decodes to %q, want %q", rest, got, dec[n:])
		}
	})
}
