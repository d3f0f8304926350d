package filedecode

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecode: decoding any content never panics; it either succeeds (and
// the root keys can then be listed) or fails with an *Error whose line is
// within the file.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct {
		ext     uint8
		content string
	}{
		{0, ""},
		{0, "server:\n  tls:\n    sniStrikt: true\n"},
		{0, "backends:\n  - url: a\n  - wieght: 1\nserver:\n  readTimeout: 5x\n"},
		{0, "extra:\n  a: [1, {b: 2}]\n"},
		{0, "x: &a\n  y: *a\n"},
		{0, "a: &a [*a, *a]\nroutes:\n  r:\n    <<: *a\n"},
		{0, "routes: [1, 2]\n"},
		{0, "routes:\n  1: {path: x}\n  true: {priority: y}\n"},
		{0, "server:\n  tls:\n    domains: [a, ~, [b]]\n"},
		{1, "[server.tls]\nsniStrikt = 1\n"},
		{1, "[[backends]]\nurl = \"a\"\n[[backends]]\nwieght = 1\n"},
		{1, "a = \"\"\"\nx\n\"\"\"\nb = [ { c = 1 }, \n { d = '2' } ]\n"},
		{1, "routes.r = { priority = \"x\" }\n"},
		{1, "t = 1979-05-27T07:32:00Z\n[routes.r]\npath = 1979-05-27\n"},
		{2, "{\"backends\": [{\"weight\": 1.5}]}"},
	} {
		f.Add(s.ext, s.content)
	}
	exts := []string{".yml", ".toml", ".json"}
	f.Fuzz(func(t *testing.T, extIdx uint8, content string) {
		ext := exts[int(extIdx)%len(exts)]
		_ = indexLines(ext, content)
		el, err := Decode("/f/x"+ext, ext, content, newTestConfig)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if fe.File != "/f/x"+ext || fe.Reason == "" {
				t.Fatalf("error not located: %+v", fe)
			}
			if n := strings.Count(content, "\n") + 1; fe.Line < 0 || fe.Line > n {
				t.Fatalf("line %d out of the file's %d lines: %v", fe.Line, n, err)
			}
			return
		}
		if _, ok := el.(*testConfig); !ok {
			t.Fatalf("element %T", el)
		}
		if _, err := UnknownRootKeys(ext, content, el); err != nil {
			t.Fatalf("decoded, but UnknownRootKeys failed: %v", err)
		}
	})
}
