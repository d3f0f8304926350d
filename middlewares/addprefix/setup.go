// Package addprefix prepends a fixed prefix to the request path.
package addprefix

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup validates cfg and returns a function wrapping a next handler.
// The prefix must not be empty; a missing leading "/" is added.
func Setup(cfg *dynamic.AddPrefix) (func(next http.Handler) http.Handler, error) {
	if cfg == nil || cfg.Prefix == "" {
		return nil, errors.New("prefix cannot be empty")
	}
	p := cfg.Prefix
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	// The raw path gets the escaped prefix, so that it stays a valid
	// encoding of the decoded path (otherwise Go would drop it and lose
	// escapes such as %2F in the rest of the path).
	raw := (&url.URL{Path: p}).EscapedPath()
	return func(next http.Handler) http.Handler {
		return &addPrefix{next: next, prefix: p, rawPrefix: raw}
	}, nil
}
