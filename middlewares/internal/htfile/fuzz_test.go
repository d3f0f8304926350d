package htfile

import (
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opensslVectors: `openssl passwd -apr1 -salt S P` and `openssl passwd -1
// -salt S P`, the reference MD5-crypt implementations htpasswd files come
// from.
var opensslVectors = []struct{ pw, salt, apr1, md5 string }{
	{"", "abcdefgh", "$apr1$abcdefgh$L.PT565ESX4Tp2bqNs7Ie.", "$1$abcdefgh$M55TzYaaccxVGbptZWaxX/"},
	{"", "x", "$apr1$x$tMwYqBfQwi3FYAr0aJc8M/", "$1$x$fwjfZtMwarkdetsjiQreU1"},
	{"", "", "$apr1$$J/S5FGXXjRRxbhIznTb/E1", "$1$$qRPK7m23GJusamGpoGLby/"},
	{"", "12345678", "$apr1$12345678$sHuPAw7VA9xjRbJz7zKV7/", "$1$12345678$xek.CpjQUVgdf/P2N9KQf/"},
	{"a", "abcdefgh", "$apr1$abcdefgh$G8IsPsylW5ROvIKsQMRG61", "$1$abcdefgh$jUYc1Xi7pkozuzWQ0Dft71"},
	{"a", "x", "$apr1$x$16j9.5e7KiXmuYFAYpPJM/", "$1$x$P8VObTrxaqT4VBmnH06P8."},
	{"a", "", "$apr1$$ny0TwGBt5/BPT4.mbWBKk.", "$1$$Ij31LCAysPM23KuPlm1wA/"},
	{"a", "12345678", "$apr1$12345678$68ZQVfPkWX/wcXr/41VxQ.", "$1$12345678$3Uz6TyHSiGZR0yDMOX3jO0"},
	{"pässwörd", "abcdefgh", "$apr1$abcdefgh$030j6I3f1zNCF9tihqdd11", "$1$abcdefgh$xYuxUFvxUOR4Pd6a7EeUS0"},
	{"pässwörd", "x", "$apr1$x$Kzn.cSDdCrYQZfFg5UXZM.", "$1$x$JCGkBY00FL7KZ2Wf1VmLX."},
	{"pässwörd", "", "$apr1$$ycHGa2z6sIUlKWOepjI49.", "$1$$G9xLeipIGv89GurZHGiz00"},
	{"pässwörd", "12345678", "$apr1$12345678$0NJU6izOW5MGH4BL2C/sK/", "$1$12345678$mQ1/t.WwP76MO4VquZEL.0"},
	{"a:b c", "abcdefgh", "$apr1$abcdefgh$EmWI7z.u0Xdk9WxYEmZRN1", "$1$abcdefgh$xVq6aRasRR9PMGMT1uYyn/"},
	{"a:b c", "x", "$apr1$x$qTtEMyTprd1cgtNZSfZ.7.", "$1$x$EkGN6/6xiyW4U8uBOSEJE/"},
	{"a:b c", "", "$apr1$$sOdL95nEXBJyHCyBcXFim0", "$1$$W6lxY6EyIm17YbFiM.8kf."},
	{"a:b c", "12345678", "$apr1$12345678$UKRiZQKzkDSOXMpRq94tX/", "$1$12345678$GwRNYVwaelWTei322yG.r/"},
	{"0123456789012345678901234567890123456789", "abcdefgh", "$apr1$abcdefgh$xe0/u8PPbW7KZ5ZfwUvgj0", "$1$abcdefgh$mb85BtKCVqurTl.1fx9Y0/"},
	{"0123456789012345678901234567890123456789", "x", "$apr1$x$oiuAYoa0.7FF4c3NRxVkP0", "$1$x$rQha9EOWdbuBPQTKvavYS."},
	{"0123456789012345678901234567890123456789", "", "$apr1$$QE8H.Jv5D0axIYvdcrBZl.", "$1$$eL9SvdN8CVFz2J4Im5S0I0"},
	{"0123456789012345678901234567890123456789", "12345678", "$apr1$12345678$g7mwQfxy1n1W6s22hSC070", "$1$12345678$wfvRqHNVD6ThL4unCwG8.."},
}

// FuzzHash: MD5Crypt agrees with openssl on its vectors; for any password
// and salt, the hash it builds (apr1, $1$ and {SHA}) checks with that
// password and with no other; Check never panics on a hash built from
// arbitrary bytes.
func FuzzHash(f *testing.F) {
	for _, v := range opensslVectors {
		f.Add(v.pw, v.salt, "")
	}
	f.Add("pw", "abcdefgh", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/")
	f.Add("pw", "", "{SHA}")
	f.Add("pw", "", "$apr1$")
	f.Add("pw", "", "$2y$")
	f.Add("pw", "", "$2a$05$9dwc1QzOXn36bxnpDORRb.yzdR2HK0ZIuwwfjPI2IQU1PRWW0Qa")
	f.Fuzz(func(t *testing.T, pw, salt, hash string) {
		_ = Check(pw, hash)
		_ = ValidHash(hash)
		for _, v := range opensslVectors {
			if v.pw == pw && v.salt == salt {
				if got := MD5Crypt(pw, salt, "$apr1$"); got != v.apr1 {
					t.Fatalf("apr1(%q, %q) = %q, openssl %q", pw, salt, got, v.apr1)
				}
				if got := MD5Crypt(pw, salt, "$1$"); got != v.md5 {
					t.Fatalf("md5(%q, %q) = %q, openssl %q", pw, salt, got, v.md5)
				}
			}
		}
		// A salt as htpasswd writes it: at most 8 bytes, no '$'.
		salt = strings.ReplaceAll(salt, "$", "")
		if len(salt) > 8 {
			salt = salt[:8]
		}
		sum := sha1.Sum([]byte(pw))
		for _, h := range []string{
			MD5Crypt(pw, salt, "$apr1$"),
			MD5Crypt(pw, salt, "$1$"),
			"{SHA}" + base64.StdEncoding.EncodeToString(sum[:]),
		} {
			if !ValidHash(h) || !Check(pw, h) {
				t.Fatalf("%q does not check with its own password %q", h, pw)
			}
			if Check(pw+"x", h) || Check(strings.TrimSuffix(pw, pw[len(pw)/2:]), h) && len(pw) > 0 {
				t.Fatalf("%q checks with another password than %q", h, pw)
			}
		}
	})
}

// FuzzLines: a usersFile of any content. Every entry Lines returns is a
// trimmed, non-empty, non-comment line of the file (inline entries first),
// and every such line is returned, in order.
func FuzzLines(f *testing.F) {
	for _, s := range []string{
		"a:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n",
		"# comment\n\nb:{SHA}x\n  c:3  \r\n",
		"u:traefik:0123456789abcdef0123456789abcdef\n#u2:x:y\n",
		"\r\n\r\n",
		"a:b\rc:d\n",
		"\ufeffa:b\n",
		"a:b\x00c\n",
		"   # indented comment\n\t\n",
	} {
		f.Add(s, " inline:x ")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content, inline string) {
		file := filepath.Join(dir, "users")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Lines([]string{inline}, file)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if s := strings.TrimSpace(inline); s != "" {
			want = append(want, s)
		}
		for _, l := range strings.Split(content, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				want = append(want, l)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
			t.Fatalf("Lines(%q) = %q, want %q", content, got, want)
		}
	})
}
