package compat_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/compat"
	"github.com/switchyard-proxy/switchyard/config/compat/scan"
	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

var (
	staticRoot  = reflect.TypeFor[static.Configuration]()
	dynamicRoot = reflect.TypeFor[dynamic.Configuration]()
)

// TestEveryOptionReadOrRefused is the rule "never accept and ignore": each
// option of config/static and config/dynamic is read by code outside
// config/ (providers and the API do not count for dynamic options: they
// translate or display, they do not act), or has a Refused or NoOp entry.
func TestEveryOptionReadOrRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the whole module")
	}
	readers, err := scan.Scan("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []struct {
		name, file, table string
		root              reflect.Type
		entries           []compat.Entry
		ignore            []string // reader packages that do not count
	}{
		{"static", "config/compat/static.go", "compat.Static", staticRoot, compat.Static, nil},
		{"dynamic", "config/compat/dynamic.go", "compat.Dynamic", dynamicRoot, compat.Dynamic,
			[]string{scan.Module + "/providers", scan.Module + "/api"}},
	} {
		keys := compat.Keys(part.root)
		for _, k := range keys {
			if !k.Leaf {
				continue
			}
			if e, ok := compat.Lookup(part.entries, k.Path); ok && (e.Status == compat.Refused || e.Status == compat.NoOp) {
				continue
			}
			if counts(readers[k.FieldID()], part.ignore) {
				continue
			}
			field := strings.TrimPrefix(k.FieldID(), scan.Module+"/config/")
			t.Errorf("%s option %q (%s) is accepted but no code outside config/ reads it.\n"+
				"\tFix: make it work (read %s where it acts, test it through the binary),\n"+
				"\tor refuse it: add {Key: %q, Status: compat.Refused, Note: \"why\"} to %s in %s\n"+
				"\t(compat.NoOp only when Traefik itself ignores it), then run `go generate ./config/compat`.",
				part.name, k.Path, field, field, k.Path, part.table, part.file)
		}
		// A refused row whose options are all read is stale: the option
		// was made to work and the row now refuses a working feature.
		for _, e := range part.entries {
			if e.Status != compat.Refused {
				continue
			}
			all, n := true, 0
			for _, k := range keys {
				if k.Leaf && (k.Path == e.Key || strings.HasPrefix(k.Path, e.Key+".")) {
					n++
					all = all && counts(readers[k.FieldID()], part.ignore)
				}
			}
			if n > 0 && all {
				t.Errorf("%s refuses %q, but code outside config/ now reads it: if it works, delete the row in %s (and its case in integration/compat_refused_test.go), then run `go generate ./config/compat`",
					part.table, e.Key, part.file)
			}
		}
		// A row must name an option that exists.
		for _, e := range part.entries {
			found := false
			for _, k := range keys {
				if k.Path == e.Key {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s has a row for %q, which is no %s option (renamed or removed?): fix or delete it in %s",
					part.table, e.Key, part.name, part.file)
			}
		}
	}
}

func counts(pkgs, ignore []string) bool {
	for _, p := range pkgs {
		ok := true
		for _, ig := range ignore {
			if p == ig || strings.HasPrefix(p, ig+"/") {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestCompatibilityDocCurrent keeps docs/compatibility.md generated from
// the tables, and the README quoting its summary.
func TestCompatibilityDocCurrent(t *testing.T) {
	want := compat.Markdown(staticRoot, dynamicRoot)
	got, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil || string(got) != want {
		t.Errorf("docs/compatibility.md is not current: run `go generate ./config/compat` (or `make compat-doc`) and commit it")
	}
	summary := compat.ReadmeSummary(staticRoot, dynamicRoot)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), summary) {
		t.Errorf("README.md's compatibility statement is not current: run `go generate ./config/compat` (or `make compat-doc`); it must quote\n\t%s", summary)
	}
}

func TestCheckRefused(t *testing.T) {
	c := &static.Configuration{
		EntryPoints: map[string]*static.EntryPoint{
			"web": {Address: ":80", AllowACMEByPass: true, Observability: &static.ObservabilityConfig{TraceVerbosity: "minimal"}},
			"tls": {Address: ":443", Observability: &static.ObservabilityConfig{TraceVerbosity: "detailed"}},
		},
		HostResolver: &static.HostResolver{},
		Core:         &static.Core{DefaultRuleSyntax: "v3"},
	}
	errs := compat.CheckRefused(c, "", compat.Static)
	var got []string
	for _, err := range errs {
		var re *compat.RefusedError
		if !errors.As(err, &re) {
			t.Fatalf("%v is not a RefusedError", err)
		}
		got = append(got, re.Key)
	}
	want := fmt.Sprint([]string{"entryPoints.tls.observability.traceVerbosity", "entryPoints.web.allowACMEByPass", "hostResolver"})
	if fmt.Sprint(sortStrings(got)) != want {
		t.Errorf("refused = %v, want %v", got, want)
	}
	for _, err := range errs {
		if !strings.Contains(err.Error(), "not supported by Switchyard") {
			t.Errorf("error %q does not say the option is unsupported", err)
		}
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}
