package labeled

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// Subject is what a constraints expression is evaluated against: a
// Consul service's tags or a container's labels.
type Subject struct {
	Tags   []string
	Labels map[string]string
}

// Constraint is a compiled constraints expression.
type Constraint func(Subject) bool

// The constraint functions a provider may allow.
const (
	FuncTag        = "Tag"        // Tag(`a`): a tag equals a
	FuncTagRegex   = "TagRegex"   // TagRegex(`^a`): a tag matches
	FuncLabel      = "Label"      // Label(`k`, `v`): label k equals v
	FuncLabelRegex = "LabelRegex" // LabelRegex(`k`, `^v`): label k matches
)

// TagFuncs are Consul Catalog's constraint functions, LabelFuncs Docker's.
var (
	TagFuncs   = []string{FuncTag, FuncTagRegex}
	LabelFuncs = []string{FuncLabel, FuncLabelRegex}
)

// CompileConstraints compiles expr (functions of allowed combined with !,
// && , || and parentheses); an empty expression accepts everything.
func CompileConstraints(expr string, allowed []string) (Constraint, error) {
	if strings.TrimSpace(expr) == "" {
		return func(Subject) bool { return true }, nil
	}
	t, err := rules.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("constraints %q: %w", expr, err)
	}
	c, err := compileNode(t.Root, allowed)
	if err != nil {
		return nil, fmt.Errorf("constraints %q: %w", expr, err)
	}
	return c, nil
}

func compileNode(n *rules.Node, allowed []string) (Constraint, error) {
	switch n.Kind {
	case rules.KindAnd, rules.KindOr:
		l, err := compileNode(n.Left, allowed)
		if err != nil {
			return nil, err
		}
		r, err := compileNode(n.Right, allowed)
		if err != nil {
			return nil, err
		}
		if n.Kind == rules.KindAnd {
			return func(s Subject) bool { return l(s) && r(s) }, nil
		}
		return func(s Subject) bool { return l(s) || r(s) }, nil
	case rules.KindNot:
		l, err := compileNode(n.Left, allowed)
		if err != nil {
			return nil, err
		}
		return func(s Subject) bool { return !l(s) }, nil
	}
	fn := ""
	for _, a := range allowed {
		if strings.EqualFold(n.Name, a) {
			fn = a
		}
	}
	if fn == "" {
		return nil, fmt.Errorf("unknown constraint %q (want %s)", n.Name, strings.Join(allowed, " or "))
	}
	want := 1
	if fn == FuncLabel || fn == FuncLabelRegex {
		want = 2
	}
	if len(n.Args) != want {
		return nil, fmt.Errorf("%s wants %d argument(s), got %d", fn, want, len(n.Args))
	}
	switch fn {
	case FuncTag:
		arg := n.Args[0]
		return func(s Subject) bool { return slices.Contains(s.Tags, arg) }, nil
	case FuncTagRegex:
		re, err := regexp.Compile(n.Args[0])
		if err != nil {
			return nil, fmt.Errorf("TagRegex: %w", err)
		}
		return func(s Subject) bool { return slices.ContainsFunc(s.Tags, re.MatchString) }, nil
	case FuncLabel:
		k, v := n.Args[0], n.Args[1]
		return func(s Subject) bool { got, ok := s.Labels[k]; return ok && got == v }, nil
	default: // FuncLabelRegex
		k := n.Args[0]
		re, err := regexp.Compile(n.Args[1])
		if err != nil {
			return nil, fmt.Errorf("LabelRegex: %w", err)
		}
		return func(s Subject) bool { got, ok := s.Labels[k]; return ok && re.MatchString(got) }, nil
	}
}
