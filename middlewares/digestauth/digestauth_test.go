package digestauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func authorize(t *testing.T, h http.Handler, user, pass, realm, uri string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", uri, nil))
	if rec.Code != 401 {
		t.Fatalf("challenge status %d", rec.Code)
	}
	p := ParseParams(rec.Header().Get("WWW-Authenticate")[len("Digest "):])
	resp := Response(HA1(user, realm, pass), "GET", uri, p["nonce"], "00000001", "abc", "auth")
	req := httptest.NewRequest("GET", uri, nil)
	req.Header.Set("Authorization", fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, qop=auth, nc=00000001, cnonce="abc", response=%q, opaque=%q`,
		user, p["realm"], p["nonce"], uri, resp, p["opaque"]))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestDigest(t *testing.T) {
	users := []string{"test:traefik:" + HA1("test", "traefik", "secret"), "other:elsewhere:" + HA1("other", "elsewhere", "pw")}
	tests := []struct {
		desc      string
		cfg       dynamic.DigestAuth
		user, pw  string
		realm     string
		status    int
		seenField string
	}{
		{"ok", dynamic.DigestAuth{Users: users}, "test", "secret", "traefik", 200, ""},
		{"wrong password", dynamic.DigestAuth{Users: users}, "test", "nope", "traefik", 401, ""},
		{"user of another realm", dynamic.DigestAuth{Users: users}, "other", "pw", "elsewhere", 401, ""},
		{"realm option", dynamic.DigestAuth{Users: users, Realm: "elsewhere", HeaderField: "X-User"}, "other", "pw", "elsewhere", 200, "other"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var seen string
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Get("X-User") }))
			rec := authorize(t, h, tc.user, tc.pw, tc.realm, "/a?b=c")
			if rec.Code != tc.status || seen != tc.seenField {
				t.Fatalf("status %d, header %q", rec.Code, seen)
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.DigestAuth{nil, {}, {Users: []string{"a:b"}}, {Users: []string{"a:traefik:zz"}}, {Users: []string{"a:r:" + HA1("a", "r", "p")}}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestForgedNonce(t *testing.T) {
	wrap, _ := Setup(&dynamic.DigestAuth{Users: []string{"u:traefik:" + HA1("u", "traefik", "p")}})
	h := wrap(http.NotFoundHandler())
	resp := Response(HA1("u", "traefik", "p"), "GET", "/", "forged", "", "", "")
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", fmt.Sprintf(`Digest username="u", realm="traefik", nonce="forged", uri="/", response=%q`, resp))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Fatalf("forged nonce: %d", rec.Code)
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add(`username="a\"b", nc=01, qop=auth`)
	f.Fuzz(func(t *testing.T, s string) { ParseParams(s) })
}
