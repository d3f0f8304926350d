package integration

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// TestEncodedCharacters: entryPoints.<n>.http.encodedCharacters.* as in
// Traefik v3.6.7+: every encoded character is allowed unless its option is
// false, and a refused one is answered 400 before routing (the backend
// never sees it).
func TestEncodedCharacters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("target", recorderBackend(t))
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  strict:
    address: "<% addr "strict" %>"
    http:
      encodedCharacters:
        allowEncodedSlash: false
        allowEncodedBackSlash: false
        allowEncodedNullCharacter: false
        allowEncodedSemicolon: false
        allowEncodedPercent: false
        allowEncodedQuestionMark: false
        allowEncodedHash: false
  slash:
    address: "<% addr "slash" %>"
    http:
      encodedCharacters:
        allowEncodedSlash: false
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	cases := []struct {
		path  string
		slash bool // refused by the entrypoint refusing only %2F
	}{
		{"/a%2Fb", true}, {"/a%2fb", true}, {"/a%5Cb", false}, {"/a%5cb", false}, {"/a%00b", false},
		{"/a%3Bb", false}, {"/a%3bb", false}, {"/a%25b", false}, {"/a%3Fb", false}, {"/a%3fb", false}, {"/a%23b", false},
	}
	get := func(ep, target string) (int, string) {
		c, err := net.Dial("tcp", e.Addr(ep))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		resp, body := rawRound(t, c, bufio.NewReader(c), "GET "+target+" HTTP/1.1\r\nHost: a\r\n\r\n")
		return resp.StatusCode, body
	}
	for _, c := range cases {
		if code, body := get("web", c.path); code != 200 || !strings.Contains(body, "uri="+c.path) {
			t.Errorf("default entrypoint, %s: %d %s", c.path, code, body)
		}
		if code, body := get("strict", c.path); code != 400 || strings.Contains(body, "uri=") {
			t.Errorf("all refused, %s: %d %s", c.path, code, body)
		}
		want := 200
		if c.slash {
			want = 400
		}
		if code, _ := get("slash", c.path); code != want {
			t.Errorf("only %%2F refused, %s: %d, want %d", c.path, code, want)
		}
	}
	// Plain paths, escapes of other characters and escapes in the query
	// pass everywhere.
	for _, p := range []string{"/plain", "/a%20b", "/a%41b", "/q?x=%2F%23"} {
		if code, _ := get("strict", p); code != 200 {
			t.Errorf("strict, %s: %d, want 200", p, code)
		}
	}
	// Absolute-form target: the path is checked too.
	if code, _ := get("strict", "http://a/x%2Fy"); code != 400 {
		t.Errorf("absolute-form with %%2F: %d, want 400", code)
	}
}
