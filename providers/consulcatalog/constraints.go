package consulcatalog

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// constraint is a compiled constraints expression over an instance's tags:
// Tag(`a`), TagRegex(`^b`), combined with !, &&, || and parentheses.
type constraint func(tags []string) bool

func compileConstraints(expr string) (constraint, error) {
	if strings.TrimSpace(expr) == "" {
		return func([]string) bool { return true }, nil
	}
	t, err := rules.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("constraints %q: %w", expr, err)
	}
	c, err := compileNode(t.Root)
	if err != nil {
		return nil, fmt.Errorf("constraints %q: %w", expr, err)
	}
	return c, nil
}

func compileNode(n *rules.Node) (constraint, error) {
	switch n.Kind {
	case rules.KindAnd, rules.KindOr:
		l, err := compileNode(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := compileNode(n.Right)
		if err != nil {
			return nil, err
		}
		if n.Kind == rules.KindAnd {
			return func(t []string) bool { return l(t) && r(t) }, nil
		}
		return func(t []string) bool { return l(t) || r(t) }, nil
	case rules.KindNot:
		l, err := compileNode(n.Left)
		if err != nil {
			return nil, err
		}
		return func(t []string) bool { return !l(t) }, nil
	}
	if len(n.Args) != 1 {
		return nil, fmt.Errorf("%s wants one argument, got %d", n.Name, len(n.Args))
	}
	arg := n.Args[0]
	switch {
	case strings.EqualFold(n.Name, "Tag"):
		return func(tags []string) bool {
			for _, t := range tags {
				if t == arg {
					return true
				}
			}
			return false
		}, nil
	case strings.EqualFold(n.Name, "TagRegex"):
		re, err := regexp.Compile(arg)
		if err != nil {
			return nil, fmt.Errorf("TagRegex: %w", err)
		}
		return func(tags []string) bool {
			for _, t := range tags {
				if re.MatchString(t) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, fmt.Errorf("unknown constraint %q (want Tag or TagRegex)", n.Name)
}
