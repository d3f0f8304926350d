// Package replacepathregex rewrites the request path with a regular
// expression and records the old path in X-Replaced-Path.
package replacepathregex

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup compiles cfg.Regex and returns a function wrapping a next handler.
// Regex and replacement are trimmed of surrounding spaces, like Traefik.
func Setup(cfg *dynamic.ReplacePathRegex) (func(next http.Handler) http.Handler, error) {
	if cfg == nil || strings.TrimSpace(cfg.Regex) == "" {
		return nil, errors.New("regex is required")
	}
	re, err := regexp.Compile(strings.TrimSpace(cfg.Regex))
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", cfg.Regex, err)
	}
	repl := strings.TrimSpace(cfg.Replacement)
	return func(next http.Handler) http.Handler {
		if repl == "" {
			// Traefik v3 leaves the request untouched without a replacement.
			return next
		}
		return &replacePathRegex{next: next, re: re, replacement: repl}
	}, nil
}
