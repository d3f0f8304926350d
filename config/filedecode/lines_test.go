package filedecode

import (
	"strings"
	"testing"
)

func TestTOMLLines(t *testing.T) {
	src := `# comment
title = """
multi
line"""
[http.routers.web] # trailing
rule = 'literal'
"quoted.key" = 1
[[http.services.s.loadBalancer.servers]]
url = "a"
[[http.services.s.loadBalancer.servers]]
url = "b"
[http.services.s.loadBalancer.healthCheck]
headers = { X-A = "1", X-B = "2" }
list = [
  "x", # comment
  "y",
]
[[a]]
[[a.b]]
c = 1
[[a]]
[[a.b]]
c = 2
`
	ix := tomlLines(src)
	tests := []struct {
		path []string
		line int
	}{
		{[]string{"title"}, 2},
		{[]string{"http", "routers", "web"}, 5},
		{[]string{"http", "routers", "web", "rule"}, 6},
		{[]string{"http", "routers", "web", "quoted.key"}, 7},
		{[]string{"http", "services", "s", "loadBalancer", "servers", "[0]", "url"}, 9},
		{[]string{"http", "services", "s", "loadBalancer", "servers", "[1]", "url"}, 11},
		{[]string{"http", "services", "s", "loadBalancer", "healthCheck", "headers", "X-B"}, 13},
		{[]string{"http", "services", "s", "loadBalancer", "healthCheck", "list", "[1]"}, 16},
		{[]string{"a", "[0]", "b", "[0]", "c"}, 20},
		{[]string{"a", "[1]", "b", "[0]", "c"}, 23},
	}
	for _, tt := range tests {
		if got := ix.lookupExact(tt.path); got != tt.line {
			t.Errorf("%s: line %d, want %d", strings.Join(tt.path, "."), got, tt.line)
		}
	}
}
