// Package redirectscheme redirects a request to another scheme (and port)
// when the scheme the client used differs from the configured one.
package redirectscheme

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup validates cfg and returns a function wrapping a next handler.
// The scheme is required (and lowercased); the port, when set, must be a
// number (":443" is accepted as "443").
func Setup(cfg *dynamic.RedirectScheme) (func(next http.Handler) http.Handler, error) {
	if cfg == nil || cfg.Scheme == "" {
		return nil, errors.New("you must provide a target scheme")
	}
	t, err := newTarget(cfg.Scheme, cfg.Port, cfg.Permanent)
	if err != nil {
		return nil, err
	}
	if cfg.StatusCode != 0 {
		if !ValidStatus(cfg.StatusCode) {
			return nil, fmt.Errorf("invalid redirect status code %d", cfg.StatusCode)
		}
		t.status = cfg.StatusCode
	}
	return func(next http.Handler) http.Handler {
		return &redirectScheme{next: next, target: t}
	}, nil
}

// Wrap is Setup for callers that hold the options directly (the entrypoint
// redirection): it returns an error for an invalid scheme or port.
func Wrap(scheme, port string, permanent bool, next http.Handler) (http.Handler, error) {
	t, err := newTarget(scheme, port, permanent)
	if err != nil {
		return nil, err
	}
	return &redirectScheme{next: next, target: t}, nil
}

// target is the precomputed redirection: scheme and port suffix (":8443",
// or "" when the port is unset or the scheme's default).
type target struct {
	scheme    string
	port      string
	permanent bool
	status    int // fixed status (0: by method and permanent)
}

func newTarget(scheme, port string, permanent bool) (target, error) {
	scheme = strings.ToLower(strings.TrimSpace(scheme))
	if !validScheme(scheme) {
		return target{}, fmt.Errorf("invalid scheme %q", scheme)
	}
	port = strings.TrimPrefix(strings.TrimSpace(port), ":")
	if port != "" && !validPort(port) {
		return target{}, fmt.Errorf("invalid port %q", port)
	}
	if port != "" && port != defaultPort(scheme) {
		port = ":" + port
	} else {
		port = ""
	}
	return target{scheme: scheme, port: port, permanent: permanent}, nil
}

// validScheme follows RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n > 0 && n <= 65535
}

// defaultPort is the port that Traefik leaves out of the URL.
func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
