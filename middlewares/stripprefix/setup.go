// Package stripprefix removes the first matching path prefix before the
// request goes on, and records it in X-Forwarded-Prefix.
package stripprefix

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// ForwardedPrefixHeader carries the stripped prefix to the backend.
const ForwardedPrefixHeader = "X-Forwarded-Prefix"

// Setup validates cfg and returns a function wrapping a next handler.
// Prefixes are tried in list order, the first match wins (not the longest).
// Surrounding spaces are trimmed and empty prefixes dropped (label lists
// such as "/a, /b," produce both). forceSlash, removed in Traefik v3, is ignored.
func Setup(cfg *dynamic.StripPrefix) (func(next http.Handler) http.Handler, error) {
	var prefixes []string
	if cfg != nil {
		for _, p := range cfg.Prefixes {
			if p = strings.TrimSpace(p); p != "" {
				prefixes = append(prefixes, p)
			}
		}
	}
	return func(next http.Handler) http.Handler {
		return &stripPrefix{next: next, prefixes: prefixes}
	}, nil
}
