package ingress

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Annotation prefixes: Traefik's, and ours for the same keys.
const (
	PrefixTraefik    = "traefik.ingress.kubernetes.io/"
	PrefixSwitchyard = "switchyard.ingress.kubernetes.io/"
)

// routerConfig is what the router.* annotations of an Ingress say.
type routerConfig struct {
	EntryPoints []string
	Middlewares []string
	Priority    int
	RuleSyntax  string
	PathMatcher string
	TLS         *dynamic.RouterTLSConfig
	// Observability is nil unless a router.observability.* annotation is set.
	Observability *dynamic.RouterObservabilityConfig
}

// serviceConfig is what the service.* annotations of a Service say.
type serviceConfig struct {
	ServersScheme    string
	ServersTransport string
	PassHostHeader   *bool
	NativeLB         *bool
	Sticky           *dynamic.Sticky
}

// annotation is one of ours: its key as written and the part after the
// prefix, lower-cased (Traefik reads these keys case-insensitively).
type annotation struct {
	key, sub, value string
}

// collect returns the annotations under either prefix, sorted by sub-key.
// The same sub-key under both prefixes with two values is an error.
func collect(ann map[string]string) ([]annotation, error) {
	var out []annotation
	seen := map[string]int{}
	for k, v := range ann {
		var sub string
		switch {
		case len(k) > len(PrefixTraefik) && strings.EqualFold(k[:len(PrefixTraefik)], PrefixTraefik):
			sub = k[len(PrefixTraefik):]
		case len(k) > len(PrefixSwitchyard) && strings.EqualFold(k[:len(PrefixSwitchyard)], PrefixSwitchyard):
			sub = k[len(PrefixSwitchyard):]
		default:
			continue
		}
		sub = strings.ToLower(sub)
		if i, ok := seen[sub]; ok {
			if out[i].value != v {
				a, b := out[i].key, k
				if a > b {
					a, b = b, a
				}
				return nil, fmt.Errorf("annotations %s and %s disagree", a, b)
			}
			continue
		}
		seen[sub] = len(out)
		out = append(out, annotation{key: k, sub: sub, value: v})
	}
	slices.SortFunc(out, func(a, b annotation) int { return strings.Compare(a.sub, b.sub) })
	return out, nil
}

func annErr(a annotation, format string, args ...any) error {
	return fmt.Errorf("annotation %s: %s", a.key, fmt.Sprintf(format, args...))
}

func parseBool(a annotation) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(a.value))
	if err != nil {
		return false, annErr(a, "%q is not a boolean", a.value)
	}
	return b, nil
}

// splitList splits a comma-separated value, trimming blanks, dropping empty items.
func splitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseRouterAnnotations reads the router.* annotations of an Ingress. An
// unknown router.* key or a bad value is an error naming the annotation;
// service.* keys belong on Services and are ignored here, as in Traefik.
func parseRouterAnnotations(ann map[string]string) (*routerConfig, error) {
	list, err := collect(ann)
	if err != nil {
		return nil, err
	}
	rc := &routerConfig{}
	domains := map[int]*dynamic.Domain{}
	tlsOn := false
	tls := func() *dynamic.RouterTLSConfig {
		if rc.TLS == nil {
			rc.TLS = &dynamic.RouterTLSConfig{}
		}
		return rc.TLS
	}
	for _, a := range list {
		if !strings.HasPrefix(a.sub, "router.") {
			if strings.HasPrefix(a.sub, "service.") {
				continue
			}
			return nil, annErr(a, "unknown annotation (router.* on Ingresses, service.* on Services)")
		}
		switch key := strings.TrimPrefix(a.sub, "router."); key {
		case "entrypoints":
			rc.EntryPoints = splitList(a.value)
		case "middlewares":
			rc.Middlewares = splitList(a.value)
		case "priority":
			n, err := strconv.Atoi(strings.TrimSpace(a.value))
			if err != nil {
				return nil, annErr(a, "%q is not an integer", a.value)
			}
			rc.Priority = n
		case "rulesyntax":
			switch v := strings.TrimSpace(a.value); v {
			case "v3", "":
				rc.RuleSyntax = v
			default:
				return nil, annErr(a, "rule syntax %q is not supported (only v3)", a.value)
			}
		case "pathmatcher":
			switch v := strings.TrimSpace(a.value); v {
			case "Path", "PathPrefix", "PathRegexp":
				rc.PathMatcher = v
			default:
				return nil, annErr(a, "%q is not a path matcher (Path, PathPrefix or PathRegexp)", a.value)
			}
		case "tls":
			on, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			tlsOn = on
		case "tls.certresolver":
			tls().CertResolver = strings.TrimSpace(a.value)
		case "tls.options":
			tls().Options = strings.TrimSpace(a.value)
		case "observability.accesslogs", "observability.metrics", "observability.tracing":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			if rc.Observability == nil {
				rc.Observability = &dynamic.RouterObservabilityConfig{}
			}
			switch key {
			case "observability.accesslogs":
				rc.Observability.AccessLogs = &b
			case "observability.metrics":
				rc.Observability.Metrics = &b
			default:
				rc.Observability.Tracing = &b
			}
		default:
			rest, ok := strings.CutPrefix(key, "tls.domains.")
			if !ok {
				return nil, annErr(a, "unknown annotation")
			}
			idx, field, ok := strings.Cut(rest, ".")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || n < 0 || n > 1000 || (field != "main" && field != "sans") {
				return nil, annErr(a, "unknown annotation (router.tls.domains.<n>.main or .sans)")
			}
			d := domains[n]
			if d == nil {
				d = &dynamic.Domain{}
				domains[n] = d
			}
			if field == "main" {
				d.Main = strings.TrimSpace(a.value)
			} else {
				d.SANs = splitList(a.value)
			}
		}
	}
	if len(domains) > 0 {
		idx := make([]int, 0, len(domains))
		for n := range domains {
			idx = append(idx, n)
		}
		slices.Sort(idx)
		for _, n := range idx {
			tls().Domains = append(tls().Domains, *domains[n])
		}
	}
	if tlsOn {
		tls()
	}
	return rc, nil
}

// parseServiceAnnotations reads the service.* annotations of a Service.
func parseServiceAnnotations(ann map[string]string) (*serviceConfig, error) {
	list, err := collect(ann)
	if err != nil {
		return nil, err
	}
	sc := &serviceConfig{}
	cookie := func() *dynamic.Cookie {
		if sc.Sticky == nil {
			sc.Sticky = &dynamic.Sticky{}
		}
		if sc.Sticky.Cookie == nil {
			sc.Sticky.Cookie = &dynamic.Cookie{}
			sc.Sticky.Cookie.SetDefaults()
		}
		return sc.Sticky.Cookie
	}
	for _, a := range list {
		if !strings.HasPrefix(a.sub, "service.") {
			if strings.HasPrefix(a.sub, "router.") {
				continue
			}
			return nil, annErr(a, "unknown annotation (router.* on Ingresses, service.* on Services)")
		}
		switch key := strings.TrimPrefix(a.sub, "service."); key {
		case "serversscheme":
			switch v := strings.ToLower(strings.TrimSpace(a.value)); v {
			case "http", "https", "h2c":
				sc.ServersScheme = v
			default:
				return nil, annErr(a, "scheme %q is not supported (http, https or h2c)", a.value)
			}
		case "serverstransport":
			sc.ServersTransport = strings.TrimSpace(a.value)
		case "passhostheader":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			sc.PassHostHeader = &b
		case "nativelb":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			sc.NativeLB = &b
		case "nodeportlb":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			if b {
				return nil, annErr(a, "NodePort load balancing is not supported (it needs the cluster's Node addresses; use nativelb or the endpoints)")
			}
		case "sticky.cookie":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			if b {
				cookie()
			}
		case "sticky.cookie.name":
			cookie().Name = strings.TrimSpace(a.value)
		case "sticky.cookie.secure":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			cookie().Secure = b
		case "sticky.cookie.httponly":
			b, err := parseBool(a)
			if err != nil {
				return nil, err
			}
			cookie().HTTPOnly = b
		case "sticky.cookie.samesite":
			switch v := strings.ToLower(strings.TrimSpace(a.value)); v {
			case "", "none", "lax", "strict":
				cookie().SameSite = v
			default:
				return nil, annErr(a, "sameSite %q is not one of none, lax, strict", a.value)
			}
		case "sticky.cookie.maxage":
			n, err := strconv.Atoi(strings.TrimSpace(a.value))
			if err != nil {
				return nil, annErr(a, "%q is not an integer", a.value)
			}
			cookie().MaxAge = n
		case "sticky.cookie.path":
			v := strings.TrimSpace(a.value)
			cookie().Path = &v
		case "sticky.cookie.domain":
			cookie().Domain = strings.TrimSpace(a.value)
		default:
			return nil, annErr(a, "unknown annotation")
		}
	}
	return sc, nil
}
