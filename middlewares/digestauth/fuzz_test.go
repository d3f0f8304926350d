package digestauth

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/htfile"
)

// FuzzUsers: an htdigest users list (one entry a line) and a realm, both
// arbitrary. Setup accepts exactly the lists whose every entry is
// user:realm:<32 hex digits> with at least one user of the realm, and an
// error names the entry.
func FuzzUsers(f *testing.F) {
	for _, s := range [][2]string{
		{"test:traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd63", ""},
		{"test:traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd63\nother:r:A2688A6E5AD5E6E5A46F1E2BC6A5BD63", "r"},
		{"test:traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd6", ""},
		{"test:traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd6g", ""},
		{"test:trae:fik:a2688a6e5ad5e6e5a46f1e2bc6a5bd63", "trae:fik"},
		{":traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd63", ""},
		{"test::a2688a6e5ad5e6e5a46f1e2bc6a5bd63", ""},
		{"# c\n\n  test:traefik:a2688a6e5ad5e6e5a46f1e2bc6a5bd63  ", ""},
		{"test:other:a2688a6e5ad5e6e5a46f1e2bc6a5bd63", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, realm string) {
		lines := strings.Split(list, "\n")
		_, err := Setup(&dynamic.DigestAuth{Users: lines, Realm: realm})
		if realm == "" {
			realm = defaultRealm
		}
		entries, _ := htfile.Lines(lines, "")
		valid, users := true, 0
		for _, e := range entries {
			p := strings.Split(e, ":")
			if len(p) != 3 || p[0] == "" || len(p[2]) != 32 {
				valid = false
				continue
			}
			if _, herr := hex.DecodeString(p[2]); herr != nil {
				valid = false
			}
			if p[1] == realm {
				users++
			}
		}
		if want := valid && users > 0; (err == nil) != want {
			t.Fatalf("Setup(%q, realm %q): %v, want ok=%v", lines, realm, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "user") {
			t.Fatalf("error does not name the entry: %v", err)
		}
	})
}

// FuzzParamsRoundTrip: parameters written as a Digest header (values
// quoted, '"' and '\' escaped, as clients write them) parse back to the
// same keys and values, so no value can smuggle in another parameter
// (a username carrying `", response="...`, say).
func FuzzParamsRoundTrip(f *testing.F) {
	f.Add("username", "Mufasa", "uri", "/dir/index.html")
	f.Add("username", `a", response="x`, "realm", `\`)
	f.Add("nonce", "", "qop", "auth,auth-int")
	f.Add("cnonce", "a=b", "nc", "00000001")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		token := func(k string) bool {
			if k == "" {
				return false
			}
			for i := 0; i < len(k); i++ {
				switch c := k[i]; {
				case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
				default:
					return false
				}
			}
			return true
		}
		if !token(k1) || !token(k2) || k1 == k2 {
			return
		}
		q := func(v string) string {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		got := ParseParams(k1 + "=" + q(v1) + ", " + k2 + "=" + q(v2))
		if len(got) != 2 || got[k1] != v1 || got[k2] != v2 {
			t.Fatalf("%s=%q, %s=%q parsed as %q", k1, v1, k2, v2, got)
		}
	})
}
