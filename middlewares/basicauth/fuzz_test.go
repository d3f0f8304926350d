package basicauth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/htfile"
)

// FuzzBasicAuth: a users list (one entry a line) and an Authorization
// header, both arbitrary. Asserts: Setup accepts the list only when every
// entry is user:hash with a supported hash; a request passes exactly when
// a reference model (net/http's BasicAuth parser, the last entry of the
// user, htfile.Check) says it should; a refusal is a 401 with a challenge,
// and the next handler never sees it.
func FuzzBasicAuth(f *testing.F) {
	all := strings.Join(users, "\n")
	for _, s := range [][2]string{
		{all, "Basic " + base64.StdEncoding.EncodeToString([]byte("apr:secret"))},
		{all, "Basic " + base64.StdEncoding.EncodeToString([]byte("sha:secret"))},
		{all, "Basic " + base64.StdEncoding.EncodeToString([]byte("sha:wrong"))},
		{all, "Basic " + base64.StdEncoding.EncodeToString([]byte("nobody:secret"))},
		{all, "basic " + base64.StdEncoding.EncodeToString([]byte("apr:secret"))},
		{all, "Basic !!!"},
		{all, "Bearer x"},
		{"sha:{SHA}x\nsha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "Basic " + base64.StdEncoding.EncodeToString([]byte("sha:secret"))},
		{"sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\nsha:{SHA}x", "Basic " + base64.StdEncoding.EncodeToString([]byte("sha:secret"))},
		{":{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "Basic " + base64.StdEncoding.EncodeToString([]byte(":secret"))},
		{"a:b", ""},
		{"a:b:c:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b:c:secret"))},
		{"u:$apr1$", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"))},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, authz string) {
		lines := strings.Split(list, "\n")
		mw, err := Setup(&dynamic.BasicAuth{Users: lines})
		entries, _ := htfile.Lines(lines, "")
		want := map[string]string{}
		valid := len(entries) > 0
		for _, e := range entries {
			u, h, ok := strings.Cut(e, ":")
			if !ok || u == "" || !htfile.ValidHash(h) {
				valid = false
			}
			want[u] = h
		}
		if (err == nil) != valid {
			t.Fatalf("Setup(%q): %v, want valid=%v", lines, err, valid)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		served := false
		h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)

		u, p, ok := r.BasicAuth()
		hash, known := want[u]
		pass := ok && known && htfile.Check(p, hash)
		if served != pass {
			t.Fatalf("users %q, Authorization %q: served=%v, reference says %v", lines, authz, served, pass)
		}
		if !pass && (w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic realm=")) {
			t.Fatalf("refusal answered %d %v", w.Code, w.Header())
		}
	})
}
