// Package replacepath replaces the whole request path and records the old
// one in X-Replaced-Path.
package replacepath

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// ReplacedPathHeader carries the original (escaped) path to the backend.
const ReplacedPathHeader = "X-Replaced-Path"

// Setup validates cfg and returns a function wrapping a next handler.
// path is taken as an escaped path ("/foo%2Fbar" is the one segment
// "foo/bar"); an invalid escape is a configuration error.
func Setup(cfg *dynamic.ReplacePath) (func(next http.Handler) http.Handler, error) {
	var raw string
	if cfg != nil {
		raw = cfg.Path
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", raw, err)
	}
	u := url.URL{Path: decoded}
	if u.EscapedPath() == raw {
		raw = "" // the default encoding: no RawPath needed
	}
	return func(next http.Handler) http.Handler {
		return &replacePath{next: next, path: decoded, rawPath: raw}
	}, nil
}
