// Package redirectregex redirects requests whose URL matches a regular
// expression to the URL built from a replacement.
package redirectregex

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/redirectscheme"
)

// Setup compiles cfg.Regex and returns a function wrapping a next handler.
func Setup(cfg *dynamic.RedirectRegex) (func(next http.Handler) http.Handler, error) {
	if cfg == nil || cfg.Regex == "" {
		return nil, errors.New("regex is required")
	}
	re, err := regexp.Compile(cfg.Regex)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", cfg.Regex, err)
	}
	if cfg.StatusCode != 0 && !redirectscheme.ValidStatus(cfg.StatusCode) {
		return nil, fmt.Errorf("invalid redirect status code %d", cfg.StatusCode)
	}
	return func(next http.Handler) http.Handler {
		return &redirectRegex{next: next, re: re, replacement: cfg.Replacement, permanent: cfg.Permanent, status: cfg.StatusCode}
	}, nil
}
