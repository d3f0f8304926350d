package accesslog

import (
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestParseStatusRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		bad    bool
	}{
		{"404", 404, 404, false},
		{"200-299", 200, 299, false},
		{" 500 - 599 ", 500, 599, false},
		{"300-302", 300, 302, false},
		{"abc", 0, 0, true},
		{"", 0, 0, true},
		{"99", 0, 0, true},
		{"1000", 0, 0, true},
		{"299-200", 0, 0, true},
		{"200-", 0, 0, true},
		{"-200", 0, 0, true},
		{"200-300-400", 0, 0, true},
	}
	for _, tt := range tests {
		r, err := parseStatusRange(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("parseStatusRange(%q) err = %v, bad %v", tt.in, err, tt.bad)
			continue
		}
		if !tt.bad && (r.lo != tt.lo || r.hi != tt.hi) {
			t.Errorf("parseStatusRange(%q) = %v, want %d-%d", tt.in, r, tt.lo, tt.hi)
		}
	}
}

func FuzzParseStatusRange(f *testing.F) {
	for _, s := range []string{"404", "200-299", "a-b", "-", "1-2-3", " 5 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseStatusRange(s)
		if err != nil {
			return
		}
		if r.lo < 100 || r.hi > 999 || r.lo > r.hi {
			t.Fatalf("parseStatusRange(%q) = %v: out of bounds", s, r)
		}
	})
}

func TestNewFiltersErrors(t *testing.T) {
	_, err := newFilters(&static.AccessLogFilters{StatusCodes: []string{"200", "2xx"}})
	if err == nil || !strings.HasPrefix(err.Error(), "accessLog.filters.statusCodes[1]: ") {
		t.Errorf("error = %v", err)
	}
	_, err = newFilters(&static.AccessLogFilters{MinDuration: ptypes.Duration(-1)})
	if err == nil || !strings.HasPrefix(err.Error(), "accessLog.filters.minDuration") {
		t.Errorf("error = %v", err)
	}
	// New reports the same error.
	if _, err := New(&static.AccessLog{Filters: &static.AccessLogFilters{StatusCodes: []string{"oops"}}}); err == nil ||
		!strings.Contains(err.Error(), "accessLog.filters.statusCodes[0]") {
		t.Errorf("New error = %v", err)
	}
}

func TestFilterKeep(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *static.AccessLogFilters
		status  int
		retries int
		d       time.Duration
		want    bool
	}{
		{"no filters", nil, 200, 0, 0, true},
		{"empty filters keep all", &static.AccessLogFilters{}, 500, 0, 0, true},
		{"status in range", &static.AccessLogFilters{StatusCodes: []string{"200", "300-302"}}, 301, 0, 0, true},
		{"status single", &static.AccessLogFilters{StatusCodes: []string{"200", "300-302"}}, 200, 0, 0, true},
		{"status out", &static.AccessLogFilters{StatusCodes: []string{"200", "300-302"}}, 404, 0, 0, false},
		{"comma list", &static.AccessLogFilters{StatusCodes: []string{"200,400-499"}}, 404, 0, 0, true},
		{"retries kept", &static.AccessLogFilters{RetryAttempts: true}, 200, 1, 0, true},
		{"no retries dropped", &static.AccessLogFilters{RetryAttempts: true}, 200, 0, 0, false},
		{"slow kept", &static.AccessLogFilters{MinDuration: ptypes.Duration(10 * time.Millisecond)}, 200, 0, 11 * time.Millisecond, true},
		{"equal not kept", &static.AccessLogFilters{MinDuration: ptypes.Duration(10 * time.Millisecond)}, 200, 0, 10 * time.Millisecond, false},
		{"or-ed: status misses, retry hits", &static.AccessLogFilters{StatusCodes: []string{"500-599"}, RetryAttempts: true}, 200, 2, 0, true},
		{"or-ed: all miss", &static.AccessLogFilters{StatusCodes: []string{"500-599"}, RetryAttempts: true, MinDuration: ptypes.Duration(time.Second)}, 200, 0, time.Millisecond, false},
		{"499 filtered in", &static.AccessLogFilters{StatusCodes: []string{"499"}}, 499, 0, 0, true},
	}
	for _, tt := range tests {
		f, err := newFilters(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.keep(tt.status, tt.retries, tt.d); got != tt.want {
			t.Errorf("%s: keep = %v, want %v", tt.name, got, tt.want)
		}
	}
}
