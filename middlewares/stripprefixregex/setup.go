// Package stripprefixregex removes a path prefix matched by a regular
// expression and records it in X-Forwarded-Prefix.
package stripprefixregex

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup compiles the expressions (trimmed of surrounding spaces; empty ones
// are skipped) and returns a function wrapping a next handler.
func Setup(cfg *dynamic.StripPrefixRegex) (func(next http.Handler) http.Handler, error) {
	var res []*regexp.Regexp
	if cfg != nil {
		for i, expr := range cfg.Regex {
			expr = strings.TrimSpace(expr)
			if expr == "" {
				continue
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("regex[%d] %q: %w", i, expr, err)
			}
			res = append(res, re)
		}
	}
	return func(next http.Handler) http.Handler {
		return &stripPrefixRegex{next: next, res: res}
	}, nil
}
