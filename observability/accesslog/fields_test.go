package accesslog

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestFieldNamesSorted(t *testing.T) {
	// JSON output relies on this order to come out sorted like Traefik's.
	if !slices.IsSorted(fieldNames[:]) {
		t.Fatalf("fieldNames not sorted: %v", fieldNames)
	}
	for i, n := range fieldNames {
		if n == "" {
			t.Fatalf("field %d has no name", i)
		}
	}
}

func TestNewFieldSet(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *static.AccessLogFields
		keep     map[string]bool
		headers  map[string]mode
		anyHdr   bool
		errStart string
	}{
		{
			name:    "nil keeps fields drops headers",
			cfg:     nil,
			keep:    map[string]bool{ClientUsername: true, StartUTC: true},
			headers: map[string]mode{"User-Agent": modeDrop},
		},
		{
			name: "drop one field, case-insensitive name",
			cfg:  &static.AccessLogFields{DefaultMode: "keep", Names: map[string]string{"clientusername": "drop"}},
			keep: map[string]bool{ClientUsername: false, ClientHost: true},
		},
		{
			name: "drop all keep one",
			cfg:  &static.AccessLogFields{DefaultMode: "DROP", Names: map[string]string{"RouterName": "keep"}},
			keep: map[string]bool{RouterName: true, ClientHost: false, EntryPointName: false},
		},
		{
			name: "redact on a field keeps the default",
			cfg:  &static.AccessLogFields{DefaultMode: "drop", Names: map[string]string{"RouterName": "redact"}},
			keep: map[string]bool{RouterName: false},
		},
		{
			name:   "headers keep with overrides, names canonicalised",
			cfg:    &static.AccessLogFields{Headers: &static.FieldHeaders{DefaultMode: "keep", Names: map[string]string{"user-agent": "redact", "AUTHORIZATION": "drop"}}},
			keep:   map[string]bool{ClientHost: true},
			anyHdr: true,
			headers: map[string]mode{
				"User-Agent": modeRedact, "Authorization": modeDrop, "Content-Type": modeKeep,
			},
		},
		{
			name:    "headers drop with one kept",
			cfg:     &static.AccessLogFields{Headers: &static.FieldHeaders{DefaultMode: "drop", Names: map[string]string{"X-Id": "keep"}}},
			anyHdr:  true,
			headers: map[string]mode{"X-Id": modeKeep, "Cookie": modeDrop},
		},
		{name: "bad default", cfg: &static.AccessLogFields{DefaultMode: "hide"}, errStart: `accessLog.fields.defaultMode: unknown mode "hide"`},
		{name: "bad name mode", cfg: &static.AccessLogFields{Names: map[string]string{"RouterName": "x"}}, errStart: `accessLog.fields.names.RouterName: unknown mode "x"`},
		{name: "bad header default", cfg: &static.AccessLogFields{Headers: &static.FieldHeaders{DefaultMode: "hide"}}, errStart: "accessLog.fields.headers.defaultMode"},
		{name: "bad header mode", cfg: &static.AccessLogFields{Headers: &static.FieldHeaders{Names: map[string]string{"X-A": "hide"}}}, errStart: "accessLog.fields.headers.names.X-A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := newFieldSet(tt.cfg)
			if tt.errStart != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.errStart) {
					t.Fatalf("error = %v, want prefix %q", err, tt.errStart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.keep {
				if got := fs.keep[fieldByLower[strings.ToLower(name)]]; got != want {
					t.Errorf("keep[%s] = %v, want %v", name, got, want)
				}
			}
			for name, want := range tt.headers {
				if got := fs.headerMode(name); got != want {
					t.Errorf("headerMode(%s) = %v, want %v", name, got, want)
				}
			}
			if fs.anyHeader != tt.anyHdr {
				t.Errorf("anyHeader = %v, want %v", fs.anyHeader, tt.anyHdr)
			}
		})
	}
}
