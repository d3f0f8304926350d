package labels

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// decodeTwice decodes the same pairs twice, in opposite orders: the result
// must not depend on the order (labels and KV pairs come from maps).
func decodeTwice(t *testing.T, pairs []Pair, mode Mode) ([]error, bool) {
	t.Helper()
	conf, errs := Decode(pairs, mode)
	rev := make([]Pair, len(pairs))
	for i, p := range pairs {
		rev[len(pairs)-1-i] = p
	}
	conf2, errs2 := Decode(rev, mode)
	if len(errs) != len(errs2) || !reflect.DeepEqual(conf, conf2) {
		t.Fatalf("decoding depends on the order of %v:\n%v %+v\n%v %+v", pairs, errs, conf, errs2, conf2)
	}
	for _, err := range errs {
		var oe *ObjectError
		if errors.As(err, &oe) && (oe.Object == "" && oe.Key == "" || oe.Err == nil) {
			t.Fatalf("object error naming neither object nor key, or without cause: %#v", oe)
		}
	}
	ok := conf != nil && conf.HTTP != nil && conf.HTTP.Routers["ok"] != nil && conf.HTTP.Routers["ok"].Rule == "Host(`ok`)"
	return errs, ok
}

// touches reports whether a label/KV key (in either syntax) may address
// the sentinel router "ok".
func touches(key string) bool {
	k := strings.ToLower(strings.NewReplacer("/", ".", "[", ".", "]", ".").Replace(key))
	return strings.Contains(k, "routers") && strings.Contains(k, "ok") || strings.Count(k, ".") < 3
}

// FuzzLabelTree: two arbitrary labels next to a good router, decoded as
// container labels / Consul Catalog tags (LabelMode) and as a Consul KV tree
// (KVMode). Asserts: no panic; the result does not depend on the order the
// pairs come in; errors name their object; an object with a bad key never
// takes another object down (the sentinel router survives unless a key
// addresses it or a whole section); and the same scalar setting written as
// a label and as a KV key decodes to the same configuration.
func FuzzLabelTree(f *testing.F) {
	for _, s := range [][4]string{
		{"http.routers.a.rule", "Host(`a`)", "http.routers.a.service", "s"},
		{"http.services.s.loadBalancer.servers[0].url", "http://127.0.0.1:80", "http.services.s.loadBalancer.servers[1].url", "http://127.0.0.1:81"},
		{"http.services.s.loadBalancer.server.port", "80", "http.services.s.loadBalancer.server.scheme", "h2c"},
		{"http.middlewares.m.stripPrefix.prefixes", "/a,/b", "http.routers.a.middlewares", "m,n"},
		{"http.routers.a.priority", "x", "http.routers.a.rule", "Host(`a`)"},
		{"http.routers.a.tls.domains[0].main", "a.example", "http.routers.a.tls.domains[0].sans", "b.example,c.example"},
		{"http.services.w.weighted.services[0].name", "s", "http.services.w.weighted.services[0].weight", "-1"},
		{"tcp.routers.t.rule", "HostSNI(`*`)", "tcp.routers.t.tls.passthrough", "maybe"},
		{"udp.services.u.loadBalancer.servers[0].address", "127.0.0.1:53", "udp.routers.u.entryPoints", "dns"},
		{"tls.stores.default.defaultCertificate.certFile", "/c.pem", "tls.options.o.minVersion", "VersionTLS12"},
		{"http.routers", "x", "http", "y"},
		{"http.routers.a", "x", "http.routers.a.rule.x", "y"},
		{"http.services.s.loadBalancer.servers[99999999999].url", "x", "http.services.s.loadBalancer.servers[-1].url", "y"},
		{"http.routers.ok.rule", "Host(`other`)", "HTTP.Routers.OK.Rule", "x"},
		{"http.middlewares.m.plugin.p.a", "1", "http.middlewares.m.plugin.p.b[0]", "2"},
		{"http.serversTransports.t.maxIdleConnsPerHost", "9999999999999999999999", "http.serversTransports.t.forwardingTimeouts.dialTimeout", "1x"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		lbls := map[string]string{"switchyard." + k1: v1, "switchyard." + k2: v2, "switchyard.http.routers.ok.rule": "Host(`ok`)"}
		errs, ok := decodeTwice(t, ParseLabels(lbls, "switchyard"), LabelMode)
		if !ok && !touches(k1) && !touches(k2) {
			t.Fatalf("labels %q=%q, %q=%q took the good router down: %v", k1, v1, k2, v2, errs)
		}

		if k1 == "" || k2 == "" || strings.HasSuffix(k1, "/") || strings.HasSuffix(k2, "/") {
			return // folders: the Consul provider skips them before decoding
		}
		kv := map[string]string{k1: v1, k2: v2, "http/routers/ok/rule": "Host(`ok`)"}
		kerrs, kok := decodeTwice(t, ParseKV(kv), KVMode)
		if !kok && !touches(k1) && !touches(k2) {
			t.Fatalf("KV %q=%q, %q=%q took the good router down: %v", k1, v1, k2, v2, kerrs)
		}

		// One scalar setting, both syntaxes: same result.
		if strings.ContainsAny(k1, "[]/") || strings.Contains(k1, "..") || strings.HasPrefix(k1, ".") || strings.HasSuffix(k1, ".") ||
			strings.ContainsRune(v1, ',') {
			return
		}
		lc, lerrs := Decode(ParseLabels(map[string]string{"switchyard." + k1: v1}, "switchyard"), LabelMode)
		kc, kerrs2 := Decode(ParseKV(map[string]string{strings.ReplaceAll(k1, ".", "/"): v1}), KVMode)
		if len(lerrs) == 0 && len(kerrs2) == 0 && !reflect.DeepEqual(lc, kc) {
			t.Fatalf("%q=%q decodes differently as a label and as a KV key:\n%+v\n%+v", k1, v1, lc, kc)
		}
	})
}
