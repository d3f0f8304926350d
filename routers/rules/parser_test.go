package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestParseShape(t *testing.T) {
	tests := []struct {
		rule string
		want string // canonical String() of the tree
	}{
		{"Host(`a.com`)", "Host(`a.com`)"},
		{`Host("a.com")`, "Host(`a.com`)"},
		{"  Host( `a.com` )  ", "Host(`a.com`)"},
		{"Host(`a`)&&Path(`/x`)", "Host(`a`) && Path(`/x`)"},
		{"Host(`a`)\n\t&&\r\nPath(`/x`)", "Host(`a`) && Path(`/x`)"},
		// && binds tighter than ||.
		{"Host(`a`) || Host(`b`) && Path(`/x`)", "Host(`a`) || Host(`b`) && Path(`/x`)"},
		{"(Host(`a`) || Host(`b`)) && Path(`/x`)", "(Host(`a`) || Host(`b`)) && Path(`/x`)"},
		{"Host(`a`) && Path(`/x`) || Host(`b`)", "Host(`a`) && Path(`/x`) || Host(`b`)"},
		// ! binds tighter than &&.
		{"!Host(`a`) && Path(`/x`)", "!Host(`a`) && Path(`/x`)"},
		{"!(Host(`a`) && Path(`/x`))", "!(Host(`a`) && Path(`/x`))"},
		{"!!Host(`a`)", "!!Host(`a`)"},
		{"! ! Host(`a`)", "!!Host(`a`)"},
		// Redundant parentheses disappear; needed ones stay.
		{"((Host(`a`)))", "Host(`a`)"},
		{"Host(`a`) && (Path(`/x`) && Method(`GET`))", "Host(`a`) && (Path(`/x`) && Method(`GET`))"},
		{"Host(`a`) || (Path(`/x`) || Method(`GET`))", "Host(`a`) || (Path(`/x`) || Method(`GET`))"},
		{"(Host(`a`) && Path(`/x`)) && Method(`GET`)", "Host(`a`) && Path(`/x`) && Method(`GET`)"},
		// Arguments: multiple, trailing comma, escapes.
		{"Header(`X-A`, `1`)", "Header(`X-A`, `1`)"},
		{"Header(`X-A`,`1`,)", "Header(`X-A`, `1`)"},
		{`Path("/a\"b")`, "Path(`/a\"b`)"},
		{`Path("/a` + "`" + `b")`, "Path(\"/a`b\")"},
		{`PathRegexp("^/a\\.b$")`, "PathRegexp(`^/a\\.b$`)"},
		{`Path("/\u00e9")`, "Path(`/é`)"},
		{"Query(`q`)", "Query(`q`)"},
		{"Foo()", "Foo()"}, // syntax only: names are checked by the compilers
		{"host(`a`)", "host(`a`)"},
	}
	for _, tt := range tests {
		tree, err := Parse(tt.rule)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.rule, err)
			continue
		}
		if got := tree.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.rule, got, tt.want)
		}
		// The canonical form parses back to itself.
		again, err := Parse(tree.String())
		if err != nil || again.String() != tree.String() {
			t.Errorf("round trip of %q: %v, %q", tt.rule, err, again)
		}
	}
}

func TestParsePrecedenceTree(t *testing.T) {
	tree, err := Parse("!Host(`a`) && Path(`/x`) || Method(`GET`) && Header(`k`, `v`)")
	if err != nil {
		t.Fatal(err)
	}
	r := tree.Root
	if r.Kind != KindOr || r.Left.Kind != KindAnd || r.Right.Kind != KindAnd {
		t.Fatalf("want (… && …) || (… && …), got %s", tree)
	}
	if r.Left.Left.Kind != KindNot || r.Left.Left.Left.Name != "Host" {
		t.Fatalf("! should bind to Host only: %s", tree)
	}
	if r.Pos != 25 || r.Left.Pos != 11 || r.Left.Left.Pos != 0 || r.Left.Left.Left.Pos != 1 {
		t.Errorf("positions: or=%d and=%d not=%d host=%d", r.Pos, r.Left.Pos, r.Left.Left.Pos, r.Left.Left.Left.Pos)
	}
	// Chains are left-associative.
	tree, _ = Parse("A(`1`) && B(`2`) && C(`3`)")
	if tree.Root.Left.Kind != KindAnd || tree.Root.Right.Name != "C" {
		t.Errorf("&& chain should be left-associative: %+v", tree.Root)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		rule string
		want string
		pos  int
	}{
		{"", "empty rule", 0},
		{"   ", "empty rule", 0},
		{"Host(`a.com", "unterminated string", 5},
		{`Host("a.com`, "unterminated string", 5},
		{"Host(\"a\nb\")", "unterminated string", 5},
		{`Host("a\qb")`, `invalid string literal "a\qb"`, 5},
		{"Host('a')", "single-quoted strings are not supported", 5},
		{"Host(`a`) & Path(`/`)", `unexpected "&" (did you mean "&&"?)`, 10},
		{"Host(`a`) | Path(`/`)", `unexpected "|" (did you mean "||"?)`, 10},
		{"Host(`a`) Path(`/`)", `unexpected identifier "Path", expected '&&', '||' or end of rule`, 10},
		{"Host(`a`) &&", "unexpected end of rule, expected a matcher", 12},
		{"&& Host(`a`)", "unexpected '&&', expected a matcher, '!' or '('", 0},
		{"Host", "unexpected end of rule after Host, expected '('", 4},
		{"Host `a`", "unexpected string \"a\" after Host, expected '('", 5},
		{"Host(`a`", "unclosed '(' of Host", 4},
		{"Host(`a`,", "unclosed '(' of Host", 4},
		{"Host(a)", `unexpected identifier "a" in arguments of Host, expected a string`, 5},
		{"Host(`a` `b`)", `unexpected string "b" in arguments of Host, expected ',' or ')'`, 9},
		{"Host(,)", "unexpected ',' in arguments of Host, expected a string", 5},
		{"(Host(`a`)", "unclosed '('", 0},
		{"(Host(`a`) Path(`/`))", "unexpected identifier \"Path\", expected '&&', '||' or ')'", 11},
		{"()", "empty parentheses", 1},
		{"Host(`a`))", "unexpected ')', expected '&&', '||' or end of rule", 9},
		{"Hôst(`a`)", "unexpected character 'ô'", 1},
		{"!", "unexpected end of rule", 1},
		{strings.Repeat("(", 300) + "Host(`a`)" + strings.Repeat(")", 300), "rule nested too deeply", 201},
		{strings.Repeat("!", 300) + "Host(`a`)", "rule nested too deeply", 201},
	}
	for _, tt := range tests {
		_, err := Parse(tt.rule)
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.rule, err)
			continue
		}
		if !strings.HasPrefix(perr.Msg, tt.want) || perr.Pos != tt.pos {
			t.Errorf("Parse(%q) error = %q at %d, want %q at %d", tt.rule, perr.Msg, perr.Pos, tt.want, tt.pos)
		}
		if !strings.HasSuffix(err.Error(), " at position "+itoa(tt.pos)) {
			t.Errorf("Parse(%q) error text %q lacks the position", tt.rule, err)
		}
	}
}

func TestParseSyntax(t *testing.T) {
	if _, err := ParseSyntax("Host(`a`)", ""); err != nil {
		t.Error(err)
	}
	if _, err := ParseSyntax("Host(`a`)", "v3"); err != nil {
		t.Error(err)
	}
	if _, err := ParseSyntax("Host(`a`, `b`)", "v2"); err == nil || !strings.Contains(err.Error(), "only v3") {
		t.Errorf("v2: %v", err)
	}
	if _, err := ParseSyntax("Host(`a`)", "v4"); err == nil || !strings.Contains(err.Error(), "unknown rule syntax") {
		t.Errorf("v4: %v", err)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"PathPrefix", "PathPrefix", true},
		{"pathprefix", "PathPrefix", true},
		{"PATHPREFIX", "PathPrefix", true},
		{"Pathprefix", "PathPrefix", true},
		{"pathPrefix", "", false},
		{"HOST", "Host", true},
		{"Hots", "", false},
		{"ClientIP", "ClientIP", true},
		{"Clientip", "ClientIP", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Resolve(tt.name, HTTPMatchers...)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
