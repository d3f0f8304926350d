package labeled

import (
	"testing"
)

func TestConstraints(t *testing.T) {
	lbls := map[string]string{"env": "prod", "team": "web-1"}
	for _, tc := range []struct {
		expr  string
		funcs []string
		tags  []string
		want  bool
	}{
		{"", TagFuncs, nil, true},
		{"Tag(`a`)", TagFuncs, []string{"a"}, true},
		{"Tag(`a`)", TagFuncs, []string{"b"}, false},
		{"!Tag(`a`)", TagFuncs, []string{"b"}, true},
		{"Tag(`a`) && Tag(`b`)", TagFuncs, []string{"a", "b"}, true},
		{"Tag(`a`) && Tag(`b`)", TagFuncs, []string{"a"}, false},
		{"Tag(`a`) || TagRegex(`^x-.*`)", TagFuncs, []string{"x-1"}, true},
		{"(Tag(`a`) || Tag(`b`)) && !TagRegex(`^int`)", TagFuncs, []string{"b", "internal"}, false},
		{"Label(`env`, `prod`)", LabelFuncs, nil, true},
		{"Label(`env`, `dev`)", LabelFuncs, nil, false},
		{"Label(`nope`, ``)", LabelFuncs, nil, false},
		{"LabelRegex(`team`, `^web-[0-9]$`) && !Label(`env`, `dev`)", LabelFuncs, nil, true},
	} {
		c, err := CompileConstraints(tc.expr, tc.funcs)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := c(Subject{Tags: tc.tags, Labels: lbls}); got != tc.want {
			t.Errorf("%s on %v = %v, want %v", tc.expr, tc.tags, got, tc.want)
		}
	}
	for _, bad := range []string{"Tag(`a`", "Label(`a`)", "Tag(`a`, `b`)", "TagRegex(`(`)"} {
		if _, err := CompileConstraints(bad, TagFuncs); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	for _, bad := range []string{"Tag(`a`)", "Label(`a`)", "LabelRegex(`a`, `(`)"} {
		if _, err := CompileConstraints(bad, LabelFuncs); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"my.plain_svc": "my-plain-svc", "web": "web", "--a..b--": "a-b", "Été": "Été"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzConstraints(f *testing.F) {
	f.Add("Tag(`a`) && !TagRegex(`^b`)")
	f.Add("Label(`a`, `b`) || LabelRegex(`c`, `^d`)")
	f.Fuzz(func(t *testing.T, expr string) {
		for _, funcs := range [][]string{TagFuncs, LabelFuncs} {
			if c, err := CompileConstraints(expr, funcs); err == nil {
				c(Subject{Tags: []string{"a", "b"}, Labels: map[string]string{"a": "b"}})
			}
		}
	})
}
