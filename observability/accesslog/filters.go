package accesslog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// codeRange is an inclusive range of HTTP status codes.
type codeRange struct{ lo, hi int }

// parseStatusRange reads "404" or "200-299".
func parseStatusRange(s string) (codeRange, error) {
	s = strings.TrimSpace(s)
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parseStatus(lo)
	if err != nil {
		return codeRange{}, err
	}
	b := a
	if isRange {
		if b, err = parseStatus(hi); err != nil {
			return codeRange{}, err
		}
		if b < a {
			return codeRange{}, fmt.Errorf("range %q is reversed", s)
		}
	}
	return codeRange{a, b}, nil
}

func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return 0, fmt.Errorf("%q is not a status code (100-999)", s)
	}
	return n, nil
}

// filters decide whether a finished request is logged. Filters are
// OR-ed; no filter at all keeps everything.
type filters struct {
	codes       []codeRange
	retries     bool
	minDuration time.Duration
	active      bool
}

func newFilters(cfg *static.AccessLogFilters) (filters, error) {
	var f filters
	if cfg == nil {
		return f, nil
	}
	for i, s := range cfg.StatusCodes {
		// A CLI value like "200,300-302" may reach us unsplit.
		for part := range strings.SplitSeq(s, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			r, err := parseStatusRange(part)
			if err != nil {
				return f, fmt.Errorf("accessLog.filters.statusCodes[%d]: %w", i, err)
			}
			f.codes = append(f.codes, r)
		}
	}
	if cfg.MinDuration < 0 {
		return f, fmt.Errorf("accessLog.filters.minDuration: must not be negative")
	}
	f.retries = cfg.RetryAttempts
	f.minDuration = time.Duration(cfg.MinDuration)
	f.active = len(f.codes) > 0 || f.retries || f.minDuration > 0
	return f, nil
}

func (f *filters) keep(status, retries int, d time.Duration) bool {
	if !f.active {
		return true
	}
	for _, r := range f.codes {
		if status >= r.lo && status <= r.hi {
			return true
		}
	}
	if f.retries && retries > 0 {
		return true
	}
	return f.minDuration > 0 && d > f.minDuration
}
