// Package statusrange parses lists of HTTP statuses and ranges as Traefik
// writes them ("404", "500-599", "418,429") for the errors and retry
// middlewares and the failover service.
package statusrange

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive range of statuses.
type Range struct{ Lo, Hi int }

// Ranges is a parsed list.
type Ranges []Range

// Parse parses entries, each possibly a comma-separated list.
func Parse(list []string) (Ranges, error) {
	var out Ranges
	for _, entry := range list {
		for s := range strings.SplitSeq(entry, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			lo, hi, isRange := strings.Cut(s, "-")
			a, err := strconv.Atoi(strings.TrimSpace(lo))
			if err != nil {
				return nil, fmt.Errorf("status %q: %w", s, err)
			}
			b := a
			if isRange {
				if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
					return nil, fmt.Errorf("status %q: %w", s, err)
				}
			}
			if a < 100 || b > 599 || a > b {
				return nil, fmt.Errorf("status %q: not a valid status range", s)
			}
			out = append(out, Range{a, b})
		}
	}
	return out, nil
}

// Contains reports whether code is in a range.
func (r Ranges) Contains(code int) bool {
	for _, c := range r {
		if code >= c.Lo && code <= c.Hi {
			return true
		}
	}
	return false
}
