package rules

import (
	"slices"
	"testing"
)

func TestHosts(t *testing.T) {
	tests := []struct {
		rule  string
		hosts []string
		ok    bool
	}{
		{"Host(`a.com`)", []string{"a.com"}, true},
		{"Host(`A.com.`)", []string{"a.com"}, true},
		{"host(`a.com`)", []string{"a.com"}, true},
		{"Host(`a.com`) && Path(`/x`)", []string{"a.com"}, true},
		{"Path(`/x`) && Host(`a.com`)", []string{"a.com"}, true},
		{"Host(`a.com`) || Host(`b.com`)", []string{"a.com", "b.com"}, true},
		{"(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/api`)", []string{"a.com", "b.com"}, true},
		{"Host(`a.com`) && PathPrefix(`/x`) || Host(`b.com`) && Method(`GET`)", []string{"a.com", "b.com"}, true},
		{"Host(`a.com`) || Host(`a.com`)", []string{"a.com"}, true},
		{"Host(`*.a.com`)", []string{"*.a.com"}, true},
		{"Host(`*.a.com`) && Host(`x.a.com`)", []string{"x.a.com"}, true},
		{"Host(`*.a.com`) && Host(`x.y.a.com`)", []string{}, true},
		{"Host(`a.com`) && Host(`b.com`)", []string{}, true},
		{"(Host(`a.com`) || Host(`b.com`)) && (Host(`b.com`) || Host(`c.com`))", []string{"b.com"}, true},
		{"!!Host(`a.com`)", []string{"a.com"}, true},
		{"!(!Host(`a.com`) || !Path(`/x`))", []string{"a.com"}, true},
		{"!(!Host(`a.com`) && !Host(`b.com`))", []string{"a.com", "b.com"}, true},
		{"Host(`a.com`) && !Host(`b.com`)", []string{"a.com"}, true},
		// Not host-bound.
		{"PathPrefix(`/`)", nil, false},
		{"HostRegexp(`^a\\.com$`)", nil, false},
		{"!Host(`a.com`)", nil, false},
		{"Host(`a.com`) || Path(`/x`)", nil, false},
		{"!(Host(`a.com`) && Path(`/x`))", nil, false},
		{"!(Host(`a.com`) || Host(`b.com`))", nil, false},
	}
	for _, tt := range tests {
		tree, err := Parse(tt.rule)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.rule, err)
		}
		hosts, ok := Hosts(tree)
		if ok != tt.ok || !slices.Equal(hosts, tt.hosts) || (ok && hosts == nil) {
			t.Errorf("Hosts(%q) = %q, %v; want %q, %v", tt.rule, hosts, ok, tt.hosts, tt.ok)
		}
	}
}

func TestDomains(t *testing.T) {
	tree, err := Parse("Host(`B.com`) && !Host(`a.com`) || PathPrefix(`/`) && HOST(`b.com`) || Host(`*.c.com`)")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Domains(tree), []string{"*.c.com", "a.com", "b.com"}; !slices.Equal(got, want) {
		t.Errorf("Domains = %q, want %q", got, want)
	}
	if got, want := PositiveDomains(tree), []string{"*.c.com", "b.com"}; !slices.Equal(got, want) {
		t.Errorf("PositiveDomains = %q, want %q", got, want)
	}
	tree, _ = Parse("!(!Host(`x.com`) && Host(`y.com`))")
	if got, want := PositiveDomains(tree), []string{"x.com"}; !slices.Equal(got, want) {
		t.Errorf("PositiveDomains = %q, want %q", got, want)
	}
}

// TestHostsNestedIsFast guards against host sets growing with nesting.
func TestHostsNestedIsFast(t *testing.T) {
	rule := "Host(`a`)"
	for range 150 {
		rule = "(Host(`a`) || Host(`a`)) && " + rule
	}
	tree, err := Parse(rule)
	if err != nil {
		t.Fatal(err)
	}
	if hosts, ok := Hosts(tree); !ok || len(hosts) != 1 {
		t.Errorf("Hosts = %q, %v", hosts, ok)
	}
}
