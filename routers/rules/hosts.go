package rules

import (
	"slices"
	"strings"
)

// Hosts returns the hosts a rule requires: ok is true when every request
// the rule matches has a host among hosts, so a muxer may index the rule
// under them. Hosts are lower case without a trailing dot; a wildcard
// Host(`*.example.com`) is returned as "*.example.com" and covers exactly
// one extra label. ok with no hosts means the rule can never match (e.g.
// Host(`a`) && Host(`b`)). ok is false when some request of any host may
// match, e.g. PathPrefix(`/`), HostRegexp(...), !Host(`a`), or
// Host(`a`) || Path(`/x`).
//
// The tree is expected to compile (CompileHTTP); Hosts does not validate.
func Hosts(t *Tree) (hosts []string, ok bool) {
	if t == nil || t.Root == nil {
		return nil, false
	}
	hosts, ok = requiredHosts(t.Root, false)
	if !ok {
		return nil, false
	}
	return dedup(hosts), true
}

// requiredHosts computes the host requirement of n, or of !n when neg is
// set (De Morgan: !(a && b) is !a || !b).
func requiredHosts(n *Node, neg bool) ([]string, bool) {
	switch n.Kind {
	case KindNot:
		return requiredHosts(n.Left, !neg)
	case KindAnd, KindOr:
		left, lok := requiredHosts(n.Left, neg)
		right, rok := requiredHosts(n.Right, neg)
		conj := (n.Kind == KindAnd) != neg
		if !conj { // either side may match: both must be host-bound
			if !lok || !rok {
				return nil, false
			}
			return dedup(append(left, right...)), true
		}
		switch {
		case lok && rok:
			return intersect(left, right), true
		case lok:
			return left, true
		case rok:
			return right, true
		}
		return nil, false
	case KindMatcher:
		if neg || len(n.Args) != 1 {
			return nil, false
		}
		if name, ok := Resolve(n.Name, HTTPMatchers...); !ok || name != MatchHost {
			return nil, false
		}
		return []string{NormalizeHost(n.Args[0])}, true
	}
	return nil, false
}

// NormalizeHost is the form Host() arguments are compared in: lower case,
// without one trailing dot.
func NormalizeHost(h string) string { return TrimDot(strings.ToLower(h)) }

// covers reports whether host pattern p admits every host of pattern q.
func covers(p, q string) bool {
	if p == q {
		return true
	}
	if suffix, ok := wildcardSuffix(p); ok {
		if _, qw := wildcardSuffix(q); !qw {
			return matchWildcard(q, suffix)
		}
	}
	return false
}

// intersect keeps the patterns of each side that the other side admits.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.ContainsFunc(b, func(y string) bool { return covers(y, x) }) {
			out = append(out, x)
		}
	}
	for _, y := range b {
		if slices.ContainsFunc(a, func(x string) bool { return covers(x, y) }) {
			out = append(out, y)
		}
	}
	if out == nil {
		return []string{}
	}
	return dedup(out)
}

// dedup keeps the sets small: without it, repeated hosts double at each
// level of a nested rule.
func dedup(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Domains lists the arguments of every Host matcher in the rule, lower
// case, sorted and deduplicated: the names a certificate resolver would
// request for the router (negated Host matchers included, as in Traefik).
func Domains(t *Tree) []string {
	if t == nil || t.Root == nil {
		return nil
	}
	var out []string
	var walk func(n *Node)
	walk = func(n *Node) {
		switch n.Kind {
		case KindMatcher:
			if name, ok := Resolve(n.Name, HTTPMatchers...); ok && name == MatchHost {
				for _, a := range n.Args {
					out = append(out, strings.ToLower(a))
				}
			}
		case KindNot:
			walk(n.Left)
		case KindAnd, KindOr:
			walk(n.Left)
			walk(n.Right)
		}
	}
	walk(t.Root)
	slices.Sort(out)
	return slices.Compact(out)
}

// PositiveDomains is Domains without the hosts under a negation: the hosts
// a request can match the rule with (a `!Host(x)` rule never serves x, so
// its TLS options must not claim x).
func PositiveDomains(t *Tree) []string {
	if t == nil || t.Root == nil {
		return nil
	}
	var out []string
	var walk func(n *Node, neg bool)
	walk = func(n *Node, neg bool) {
		switch n.Kind {
		case KindMatcher:
			if name, ok := Resolve(n.Name, HTTPMatchers...); ok && name == MatchHost && !neg {
				for _, a := range n.Args {
					out = append(out, strings.ToLower(a))
				}
			}
		case KindNot:
			walk(n.Left, !neg)
		case KindAnd, KindOr:
			walk(n.Left, neg)
			walk(n.Right, neg)
		}
	}
	walk(t.Root, false)
	slices.Sort(out)
	return slices.Compact(out)
}
