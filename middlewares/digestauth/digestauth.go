// Package digestauth checks HTTP Digest credentials (RFC 7616, MD5, qop
// "auth" or none) against htdigest users ("user:realm:HA1").
package digestauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/htfile"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
)

const (
	defaultRealm = "traefik"
	// nonceTTL bounds how long a challenge may be answered.
	nonceTTL = 5 * time.Minute
)

type auth struct {
	next         http.Handler
	realm        string
	ha1          map[string]string // user -> hex HA1 for realm
	secret       []byte            // signs nonces: no per-nonce state
	opaque       string
	removeHeader bool
	headerField  string
}

// Setup validates cfg: users for the configured realm (default "traefik")
// in htdigest format. usersFile entries win over inline ones.
func Setup(cfg *dynamic.DigestAuth) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	lines, err := htfile.Lines(cfg.Users, cfg.UsersFile)
	if err != nil {
		return nil, err
	}
	realm := cfg.Realm
	if realm == "" {
		realm = defaultRealm
	}
	ha1 := map[string]string{}
	for i, l := range lines {
		parts := strings.Split(l, ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("user %d: expected user:realm:hash", i+1)
		}
		if _, err := hex.DecodeString(parts[2]); err != nil || len(parts[2]) != 32 {
			return nil, fmt.Errorf("user %q: hash must be 32 hex digits (MD5 of user:realm:password)", parts[0])
		}
		if parts[1] == realm {
			ha1[parts[0]] = strings.ToLower(parts[2])
		}
	}
	if len(ha1) == 0 {
		return nil, fmt.Errorf("no users for realm %q", realm)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	op := md5.Sum(secret)
	a := auth{
		realm:        realm,
		ha1:          ha1,
		secret:       secret,
		opaque:       hex.EncodeToString(op[:]),
		removeHeader: cfg.RemoveHeader,
		headerField:  http.CanonicalHeaderKey(cfg.HeaderField),
	}
	return func(next http.Handler) http.Handler {
		h := a
		h.next = next
		return &h
	}, nil
}

func (a *auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, stale, ok := a.check(r)
	if !ok {
		a.challenge(w, stale)
		return
	}
	accesslog.SetUsername(r, user)
	if a.headerField != "" {
		r.Header[a.headerField] = []string{user}
	}
	if a.removeHeader {
		r.Header.Del("Authorization")
	}
	a.next.ServeHTTP(w, r)
}

func (a *auth) challenge(w http.ResponseWriter, stale bool) {
	v := fmt.Sprintf(`Digest realm=%q, nonce=%q, opaque=%q, algorithm=MD5, qop="auth"`, a.realm, a.nonce(time.Now()), a.opaque)
	if stale {
		v += ", stale=true"
	}
	w.Header().Set("WWW-Authenticate", v)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("401 Unauthorized\n"))
}

// nonce is a timestamp signed with the secret.
func (a *auth) nonce(t time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.Unix()))
	m := hmac.New(sha256.New, a.secret)
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validNonce reports (signed by us, still fresh).
func (a *auth) validNonce(n string) (bool, bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false, false
	}
	m := hmac.New(sha256.New, a.secret)
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false, false
	}
	age := time.Since(time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0))
	return true, age >= -time.Minute && age <= nonceTTL
}

// check returns the user, whether the nonce was only stale, and success.
func (a *auth) check(r *http.Request) (string, bool, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Digest ") {
		return "", false, false
	}
	p := ParseParams(h[7:])
	user, nonce := p["username"], p["nonce"]
	ha1, ok := a.ha1[user]
	if !ok || p["realm"] != a.realm || p["uri"] == "" {
		return "", false, false
	}
	if p["opaque"] != "" && p["opaque"] != a.opaque {
		return "", false, false
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return "", false, false
	}
	// The uri parameter must name the request target.
	if p["uri"] != r.RequestURI && p["uri"] != r.URL.RequestURI() {
		return "", false, false
	}
	signed, fresh := a.validNonce(nonce)
	if !signed {
		return "", false, false
	}
	want := Response(ha1, r.Method, p["uri"], nonce, p["nc"], p["cnonce"], p["qop"])
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
		return "", false, false
	}
	if !fresh {
		return "", true, false
	}
	return user, false, true
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// HA1 is the htdigest hash of a user.
func HA1(user, realm, password string) string { return md5hex(user + ":" + realm + ":" + password) }

// Response computes the digest a client sends (qop "auth" or "").
func Response(ha1, method, uri, nonce, nc, cnonce, qop string) string {
	ha2 := md5hex(method + ":" + uri)
	if qop == "auth" {
		return md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
	}
	return md5hex(ha1 + ":" + nonce + ":" + ha2)
}

// ParseParams parses the comma-separated key=value / key="value" list of a
// Digest header.
func ParseParams(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		k := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			v = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[k] = v
	}
	return out
}
