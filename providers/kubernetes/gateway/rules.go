package gateway

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// q quotes a rule argument: a Go interpreted string, safe for any value.
func q(s string) string { return strconv.Quote(s) }

// hostRule is the Host part of a router's rule for effective hostnames
// (empty: any host). A wildcard hostname is a suffix match over one or more
// labels, as the Gateway API defines it.
func hostRule(hosts []string) string {
	var parts []string
	for _, h := range hosts {
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			parts = append(parts, "HostRegexp("+q(`^[^.]+(\.[^.]+)*\.`+regexp.QuoteMeta(strings.ToLower(rest))+`$`)+")")
			continue
		}
		parts = append(parts, "Host("+q(strings.ToLower(h))+")")
	}
	return orRule(parts)
}

// sniRule is hostRule for TCP routers (HostSNI / HostSNIRegexp).
func sniRule(hosts []string) string {
	if len(hosts) == 0 {
		return "HostSNI(`*`)"
	}
	var parts []string
	for _, h := range hosts {
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			parts = append(parts, "HostSNIRegexp("+q(`^[^.]+(\.[^.]+)*\.`+regexp.QuoteMeta(strings.ToLower(rest))+`$`)+")")
			continue
		}
		parts = append(parts, "HostSNI("+q(strings.ToLower(h))+")")
	}
	return orRule(parts)
}

func orRule(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

func andRule(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " && ")
}

// hostScore ranks hostnames as the Gateway API's precedence does: any
// exact hostname over any wildcard one, more characters first.
func hostScore(hosts []string) int {
	best := 0
	for _, h := range hosts {
		s := 300 + len(h)
		if !strings.HasPrefix(h, "*.") {
			s = 600 + len(h)
		}
		best = max(best, s)
	}
	return best
}

// anchored makes a Gateway API regular expression match the whole value.
func anchored(re string) (string, error) {
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("regular expression %q: %w", re, err)
	}
	return "^(?:" + re + ")$", nil
}

// httpMatch is one HTTPRouteMatch as a rule, its precedence, and the
// prefix it matched (for ReplacePrefixMatch filters).
type httpMatch struct {
	rule   string
	prio   int
	prefix string
}

// matchRule translates an HTTPRouteMatch. Precedence within one hostname
// score: an exact path, then the longest prefix, then a method, then the
// most header matches, then the most query parameter matches.
func matchRule(m gatev1.HTTPRouteMatch) (httpMatch, error) {
	var out httpMatch
	var parts []string
	typ, value := gatev1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			value = *m.Path.Value
		}
	}
	pathScore := 0
	switch typ {
	case gatev1.PathMatchExact:
		if !strings.HasPrefix(value, "/") {
			return out, fmt.Errorf("path %q does not start with /", value)
		}
		parts = append(parts, "Path("+q(value)+")")
		pathScore = 5000 + len(value)
	case gatev1.PathMatchPathPrefix:
		if !strings.HasPrefix(value, "/") {
			return out, fmt.Errorf("path %q does not start with /", value)
		}
		// A prefix matches whole path elements: /foo is /foo, /foo/ and
		// /foo/bar, never /foobar.
		p := strings.TrimRight(value, "/")
		if p == "" {
			parts = append(parts, "PathPrefix(`/`)")
		} else {
			parts = append(parts, "(Path("+q(p)+") || PathPrefix("+q(p+"/")+"))")
		}
		out.prefix = value
		pathScore = len(p) + 1
	case gatev1.PathMatchRegularExpression:
		re, err := anchored(value)
		if err != nil {
			return out, err
		}
		parts = append(parts, "PathRegexp("+q(re)+")")
		pathScore = 1
	default:
		return out, fmt.Errorf("path match type %q is not supported", typ)
	}
	method := 0
	if m.Method != nil {
		parts = append(parts, "Method("+q(string(*m.Method))+")")
		method = 1
	}
	for _, h := range m.Headers {
		if h.Name == "" {
			return out, errors.New("header match without a name")
		}
		if h.Type != nil && *h.Type == gatev1.HeaderMatchRegularExpression {
			re, err := anchored(h.Value)
			if err != nil {
				return out, err
			}
			parts = append(parts, "HeaderRegexp("+q(string(h.Name))+", "+q(re)+")")
			continue
		}
		if h.Type != nil && *h.Type != gatev1.HeaderMatchExact {
			return out, fmt.Errorf("header match type %q is not supported", *h.Type)
		}
		if h.Value == "" {
			// The rule language refuses empty values: an empty header
			// value is matched by a regexp.
			parts = append(parts, "HeaderRegexp("+q(string(h.Name))+", "+q("^$")+")")
			continue
		}
		parts = append(parts, "Header("+q(string(h.Name))+", "+q(h.Value)+")")
	}
	for _, p := range m.QueryParams {
		if p.Name == "" {
			return out, errors.New("query parameter match without a name")
		}
		if p.Type != nil && *p.Type == gatev1.QueryParamMatchRegularExpression {
			re, err := anchored(p.Value)
			if err != nil {
				return out, err
			}
			parts = append(parts, "QueryRegexp("+q(string(p.Name))+", "+q(re)+")")
			continue
		}
		if p.Type != nil && *p.Type != gatev1.QueryParamMatchExact {
			return out, fmt.Errorf("query parameter match type %q is not supported", *p.Type)
		}
		if p.Value == "" {
			parts = append(parts, "Query("+q(string(p.Name))+")")
			continue
		}
		parts = append(parts, "Query("+q(string(p.Name))+", "+q(p.Value)+")")
	}
	out.rule = andRule(parts...)
	out.prio = pathScore*100_000 + method*10_000 + min(len(m.Headers), 99)*100 + min(len(m.QueryParams), 99)
	return out, nil
}

// grpcMatchRule translates a GRPCRouteMatch: the method is the path
// /service/method.
func grpcMatchRule(m gatev1.GRPCRouteMatch) (httpMatch, error) {
	var out httpMatch
	var parts []string
	pathScore := 1
	if mm := m.Method; mm != nil {
		svc, meth := "", ""
		if mm.Service != nil {
			svc = *mm.Service
		}
		if mm.Method != nil {
			meth = *mm.Method
		}
		regex := mm.Type != nil && *mm.Type == gatev1.GRPCMethodMatchRegularExpression
		switch {
		case svc == "" && meth == "":
			return out, errors.New("method match needs a service or a method")
		case regex:
			s, m2 := svc, meth
			if s == "" {
				s = `[^/]+`
			} else if _, err := regexp.Compile(s); err != nil {
				return out, fmt.Errorf("service regular expression %q: %w", s, err)
			}
			if m2 == "" {
				m2 = `[^/]+`
			} else if _, err := regexp.Compile(m2); err != nil {
				return out, fmt.Errorf("method regular expression %q: %w", m2, err)
			}
			parts = append(parts, "PathRegexp("+q("^/(?:"+s+")/(?:"+m2+")$")+")")
			pathScore = 2
		case meth == "":
			parts = append(parts, "PathPrefix("+q("/"+svc+"/")+")")
			pathScore = 3 + len(svc)
		case svc == "":
			parts = append(parts, "PathRegexp("+q("^/[^/]+/"+regexp.QuoteMeta(meth)+"$")+")")
			pathScore = 3 + len(meth)
		default:
			parts = append(parts, "Path("+q("/"+svc+"/"+meth)+")")
			pathScore = 5000 + len(svc) + len(meth)
		}
	} else {
		parts = append(parts, "PathPrefix(`/`)")
	}
	for _, h := range m.Headers {
		if h.Type != nil && *h.Type == gatev1.GRPCHeaderMatchRegularExpression {
			re, err := anchored(h.Value)
			if err != nil {
				return out, err
			}
			parts = append(parts, "HeaderRegexp("+q(string(h.Name))+", "+q(re)+")")
			continue
		}
		if h.Value == "" {
			parts = append(parts, "HeaderRegexp("+q(string(h.Name))+", "+q("^$")+")")
			continue
		}
		parts = append(parts, "Header("+q(string(h.Name))+", "+q(h.Value)+")")
	}
	out.rule = andRule(parts...)
	out.prio = pathScore*100_000 + min(len(m.Headers), 99)*100
	return out, nil
}
