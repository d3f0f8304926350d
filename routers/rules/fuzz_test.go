package rules

import (
	"errors"
	"net/http"
	"slices"
	"testing"
)

// sameTree compares two trees ignoring positions.
func sameTree(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Name == b.Name && slices.Equal(a.Args, b.Args) &&
		sameTree(a.Left, b.Left) && sameTree(a.Right, b.Right)
}

func hostCovered(hosts []string, key string) bool {
	for _, h := range hosts {
		if covers(h, key) {
			return true
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Host(`a.com`)",
		"Host(`a.com`) && PathPrefix(`/api`)",
		"Host(`a.com`) || Host(`*.a.com`) && !Path(`/x`)",
		"!(Host(`a.com`) || HostRegexp(`^b`)) && Method(`GET`)",
		`Header("X-A", "1\"2") || Query("q") || QueryRegexp("q", "^v$")`,
		"ClientIP(`10.0.0.0/8`) && (Path(`/a`) || PathRegexp(`\\.png$`))",
		"((((Host(`a`)))))",
		"Host(`a`,)",
		"Host(`a`",
		"Host(\"\\u00e9\")",
		"host(`A.COM.`) && HOST(`a.com`)",
		"Host(`a`) &| Path(`/`)",
	} {
		f.Add(s)
	}
	hosts := []string{"a.com", "x.a.com", "A.COM:80", "a.com.", "b", "", "."}
	var reqs []*http.Request
	for _, h := range hosts {
		r := req(http.MethodGet, h, "/api/x.png?q=v")
		reqs = append(reqs, r)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		tree, err := Parse(rule)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.Pos < 0 || perr.Pos > len(rule) {
				t.Fatalf("Parse(%q): bad error %v", rule, err)
			}
			return
		}
		s := tree.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", rule, s, err)
		}
		if again.String() != s || !sameTree(tree.Root, again.Root) {
			t.Fatalf("round trip of %q changed the tree: %q -> %q", rule, s, again.String())
		}
		hs, bound := Hosts(tree)
		_ = Domains(tree)
		m, err := CompileHTTP(tree)
		if err != nil {
			return
		}
		for _, r := range reqs {
			in := NewRequest(r)
			if m.MatchRequest(&in) && bound && !hostCovered(hs, in.HostKey()) {
				t.Fatalf("%q matches host %q but Hosts = %q", rule, r.Host, hs)
			}
		}
	})
}
