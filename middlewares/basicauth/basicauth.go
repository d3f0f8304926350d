// Package basicauth checks HTTP Basic credentials against htpasswd users.
package basicauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/htfile"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
)

const defaultRealm = "traefik"

type auth struct {
	next         http.Handler
	users        map[string]string // user -> hash
	challenge    string            // WWW-Authenticate value
	removeHeader bool
	headerField  string
}

// Setup validates cfg (at least one user, every hash in a supported
// format) and returns the wrapper. usersFile entries win over inline ones.
func Setup(cfg *dynamic.BasicAuth) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	lines, err := htfile.Lines(cfg.Users, cfg.UsersFile)
	if err != nil {
		return nil, err
	}
	users := make(map[string]string, len(lines))
	for i, l := range lines {
		u, h, ok := strings.Cut(l, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("user %d: expected user:hash", i+1)
		}
		if !htfile.ValidHash(h) {
			return nil, fmt.Errorf("user %q: unsupported hash (bcrypt, MD5-apr1 or SHA1 expected)", u)
		}
		users[u] = h
	}
	if len(users) == 0 {
		return nil, errors.New("no users")
	}
	realm := cfg.Realm
	if realm == "" {
		realm = defaultRealm
	}
	a := auth{
		users:        users,
		challenge:    fmt.Sprintf("Basic realm=%q", realm),
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
	user, pw, ok := r.BasicAuth()
	if ok {
		hash, known := a.users[user]
		ok = known && htfile.Check(pw, hash)
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", a.challenge)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("401 Unauthorized\n"))
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
