package ingress

import (
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/routers/rules"
	netv1 "k8s.io/api/networking/v1"
)

func TestRouterAnnotations(t *testing.T) {
	rc, err := parseRouterAnnotations(map[string]string{
		PrefixTraefik + "router.tls.domains.1.main":       "b.com",
		PrefixTraefik + "router.tls.domains.0.main":       "a.com",
		PrefixTraefik + "router.tls.domains.0.sans":       "x.a.com, y.a.com",
		PrefixSwitchyard + "router.tls.certresolver":      "le",
		PrefixTraefik + "router.tls.options":              "modern@file",
		PrefixTraefik + "router.observability.accesslogs": "true",
		PrefixTraefik + "router.rulesyntax":               "v3",
		PrefixTraefik + "service.passhostheader":          "false", // a Service's: ignored here
		"kubernetes.io/ingress.class":                     "traefik",
	})
	if err != nil {
		t.Fatal(err)
	}
	if rc.TLS == nil || rc.TLS.CertResolver != "le" || rc.TLS.Options != "modern@file" || len(rc.TLS.Domains) != 2 ||
		rc.TLS.Domains[0].Main != "a.com" || rc.TLS.Domains[0].SANs[1] != "y.a.com" || rc.TLS.Domains[1].Main != "b.com" {
		t.Errorf("tls: %+v", rc.TLS)
	}
	if o := rc.Observability; o == nil || o.AccessLogs == nil || !*o.AccessLogs || o.Metrics != nil || o.Tracing != nil {
		t.Errorf("observability: %+v", o)
	}
	rc, err = parseRouterAnnotations(map[string]string{PrefixTraefik + "router.observability.metrics": "false", PrefixTraefik + "router.observability.tracing": "false"})
	if err != nil || rc.Observability == nil || rc.Observability.Metrics == nil || *rc.Observability.Metrics || rc.Observability.Tracing == nil || *rc.Observability.Tracing || rc.Observability.AccessLogs != nil {
		t.Errorf("observability false: %+v, %v", rc, err)
	}
	for ann, want := range map[string]string{
		PrefixTraefik + "router.priority":              "is not an integer",
		PrefixTraefik + "router.rulesyntax":            "only v3",
		PrefixTraefik + "router.pathmatcher":           "is not a path matcher",
		PrefixTraefik + "router.tls":                   "is not a boolean",
		PrefixTraefik + "router.tls.domains.x.main":    "unknown annotation",
		PrefixTraefik + "router.observability.tracing": "is not a boolean",
		PrefixSwitchyard + "frobnicate":                "unknown annotation",
	} {
		_, err := parseRouterAnnotations(map[string]string{ann: "bogus"})
		if err == nil || !strings.Contains(err.Error(), ann) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v (want %q naming the annotation)", ann, err, want)
		}
	}
	if _, err := parseRouterAnnotations(map[string]string{PrefixTraefik + "router.priority": "1", PrefixSwitchyard + "router.priority": "2"}); err == nil {
		t.Error("both prefixes disagreeing: no error")
	}
}

func TestServiceAnnotations(t *testing.T) {
	sc, err := parseServiceAnnotations(map[string]string{
		PrefixTraefik + "service.serversscheme":          "h2c",
		PrefixTraefik + "service.serverstransport":       "tr@file",
		PrefixTraefik + "service.passhostheader":         "false",
		PrefixTraefik + "service.nativelb":               "true",
		PrefixTraefik + "service.sticky.cookie":          "true",
		PrefixTraefik + "service.sticky.cookie.samesite": "Lax",
		PrefixTraefik + "service.sticky.cookie.maxage":   "42",
		PrefixTraefik + "service.nodeportlb":             "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if sc.ServersScheme != "h2c" || sc.ServersTransport != "tr@file" || *sc.PassHostHeader || !*sc.NativeLB ||
		sc.Sticky.Cookie.SameSite != "lax" || sc.Sticky.Cookie.MaxAge != 42 || *sc.Sticky.Cookie.Path != "/" {
		t.Errorf("%+v %+v", sc, sc.Sticky.Cookie)
	}
	for ann, v := range map[string]string{
		PrefixTraefik + "service.nodeportlb":    "true",
		PrefixTraefik + "service.serversscheme": "ftp",
		PrefixTraefik + "service.bogus":         "1",
	} {
		if _, err := parseServiceAnnotations(map[string]string{ann: v}); err == nil || !strings.Contains(err.Error(), ann) {
			t.Errorf("%s=%s: %v", ann, v, err)
		}
	}
}

// FuzzAnnotations: any annotation set parses or fails cleanly, and what
// parses gives a rule the rule parser accepts for any path.
func FuzzAnnotations(f *testing.F) {
	f.Add("router.pathmatcher", "PathRegexp", "/a(b", "x.com")
	f.Add("router.tls.domains.3.sans", "a,b,,c", "/", "*.x.com")
	f.Add("service.sticky.cookie.maxage", "-1", "/`) || Host(`evil", "a`b")
	f.Add("router.priority", "99999999999999999999", "", "")
	f.Fuzz(func(t *testing.T, key, value, p, host string) {
		ann := map[string]string{PrefixTraefik + key: value, PrefixSwitchyard + key: value}
		_, _ = parseServiceAnnotations(ann)
		rc, err := parseRouterAnnotations(ann)
		if err != nil {
			return
		}
		pt := netv1.PathTypeImplementationSpecific
		for _, tr := range []*translator{{}, {opts: strictOpts}} {
			r, err := tr.rule(host, netv1.HTTPIngressPath{Path: p, PathType: &pt}, rc)
			if err != nil {
				continue
			}
			if _, err := rules.ParseHTTP(r); err != nil && rc.PathMatcher != "PathRegexp" && !strings.ContainsAny(host+p, "\x00") {
				// Host and path reach the rule quoted: they can make a
				// matcher reject its value, never change the rule's shape.
				if strings.Contains(err.Error(), "expected") || strings.Contains(err.Error(), "unexpected") {
					t.Fatalf("rule %q: %v", r, err)
				}
			}
		}
	})
}

var strictOpts = staticStrict()
