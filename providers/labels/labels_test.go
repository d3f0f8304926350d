package labels

import (
	"strings"
	"testing"
)

func TestDecodeLabels(t *testing.T) {
	lbls := map[string]string{
		"switchyard.http.routers.a.rule":                                 "Host(`a`)",
		"switchyard.http.routers.a.entryPoints":                          "web,websecure",
		"traefik.http.routers.b.rule":                                    "Host(`b`)",
		"traefik.http.routers.b.middlewares":                             "mw@file",
		"switchyard.http.services.s.loadBalancer.passHostHeader":         "false",
		"switchyard.http.middlewares.m.headers.customRequestHeaders.X-A": "1",
		"switchyard.http.routers.bad.priority":                           "notanumber",
		"switchyard.http.routers.unk.nosuchfield":                        "x",
		"switchyard.nope":                                                "x",
		"other.http.routers.z.rule":                                      "Host(`z`)",
	}
	conf, errs := Decode(ParseLabels(lbls, "switchyard", "traefik"), LabelMode)
	if got := conf.HTTP.Routers["a"]; got == nil || got.Rule != "Host(`a`)" || strings.Join(got.EntryPoints, ",") != "web,websecure" {
		t.Fatalf("router a = %+v", got)
	}
	if got := conf.HTTP.Routers["b"]; got == nil || got.Middlewares[0] != "mw@file" {
		t.Fatalf("router b = %+v", got)
	}
	if s := conf.HTTP.Services["s"]; s == nil || s.LoadBalancer == nil || s.LoadBalancer.PassHostHeader == nil || *s.LoadBalancer.PassHostHeader {
		t.Fatalf("service s = %+v", s)
	}
	if m := conf.HTTP.Middlewares["m"]; m == nil || m.Headers == nil || m.Headers.CustomRequestHeaders["X-A"] != "1" {
		t.Fatalf("middleware m = %+v", m)
	}
	for _, n := range []string{"bad", "unk", "z"} {
		if conf.HTTP.Routers[n] != nil {
			t.Errorf("router %s should be skipped", n)
		}
	}
	all := ""
	for _, e := range errs {
		all += e.Error() + "\n"
	}
	for _, want := range []string{"switchyard.http.routers.bad.priority", "switchyard.http.routers.unk.nosuchfield", "switchyard.nope"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors do not name %q:\n%s", want, all)
		}
	}
	if len(errs) != 3 {
		t.Errorf("got %d errors, want 3:\n%s", len(errs), all)
	}
}

func TestDecodeKV(t *testing.T) {
	kv := map[string]string{
		"http/routers/r/rule":                        "Host(`r`)",
		"http/routers/r/entryPoints/1":               "b",
		"http/routers/r/entryPoints/0":               "a",
		"http/routers/r/service":                     "s",
		"http/services/s/loadBalancer/servers/0/url": "http://127.0.0.1:1",
		"http/services/s/loadBalancer/servers/1/url": "http://127.0.0.1:2",
		"http/middlewares/m/stripPrefix/prefixes/0":  "/api",
		"tls/certificates/0/certFile":                "/c.pem",
		"tls/certificates/0/keyFile":                 "/k.pem",
		"tcp/routers/t/rule":                         "HostSNI(`*`)",
		"http/routers/broken/priority":               "abc",
		"http/routers":                               "dangling",
	}
	conf, errs := Decode(ParseKV(kv), KVMode)
	r := conf.HTTP.Routers["r"]
	if r == nil || strings.Join(r.EntryPoints, ",") != "a,b" || r.Service != "s" {
		t.Fatalf("router r = %+v", r)
	}
	s := conf.HTTP.Services["s"]
	if s == nil || len(s.LoadBalancer.Servers) != 2 || s.LoadBalancer.Servers[1].URL != "http://127.0.0.1:2" {
		t.Fatalf("service s = %+v", s)
	}
	if m := conf.HTTP.Middlewares["m"]; m == nil || m.StripPrefix == nil || m.StripPrefix.Prefixes[0] != "/api" {
		t.Fatalf("middleware m = %+v", m)
	}
	if len(conf.TLS.Certificates) != 1 || conf.TLS.Certificates[0].CertFile != "/c.pem" {
		t.Fatalf("tls = %+v", conf.TLS)
	}
	if conf.TCP.Routers["t"] == nil {
		t.Fatal("tcp router missing")
	}
	if conf.HTTP.Routers["broken"] != nil {
		t.Error("broken router should be skipped")
	}
	if len(errs) != 2 {
		t.Errorf("errors = %v", errs)
	}
}

func FuzzDecodeLabels(f *testing.F) {
	f.Add("switchyard.http.routers.a.rule", "Host(`a`)")
	f.Add("switchyard.http.services.s.loadBalancer.servers[0].port", "80")
	f.Add("switchyard.tls.stores.default.defaultCertificate.certFile", "x")
	f.Fuzz(func(t *testing.T, k, v string) {
		Decode(ParseLabels(map[string]string{k: v, "switchyard.http.routers.ok.rule": "Host(`ok`)"}, "switchyard"), LabelMode)
	})
}

func FuzzDecodeKV(f *testing.F) {
	f.Add("http/routers/a/entryPoints/0", "web")
	f.Add("http/services/s/loadBalancer/servers/0/url", "http://x")
	f.Fuzz(func(t *testing.T, k, v string) {
		Decode(ParseKV(map[string]string{k: v}), KVMode)
	})
}

func TestDecodeCaseAndEmptyStructs(t *testing.T) {
	lbls := map[string]string{
		"traefik.http.routers.x.entrypoints":                        "web",
		"traefik.http.routers.x.tls":                                "true",
		"traefik.http.services.x.loadbalancer.server.port":          "8080",
		"Switchyard.http.routers.y.rule":                            "Path(`/y`)",
		"traefik.http.middlewares.m.stripprefix.prefixes":           "/a,/b",
		"traefik.http.routers.z.tls.domains[0].main":                "example.com",
		"traefik.http.routers.z.tls.domains[0].sans":                "a.example.com,b.example.com",
		"traefik.http.services.w.loadbalancer.healthcheck.path":     "/health",
		"traefik.http.services.w.loadbalancer.healthcheck.interval": "5s",
	}
	conf, errs := Decode(ParseLabels(lbls, "switchyard", "traefik"), LabelMode)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	x := conf.HTTP.Routers["x"]
	if x == nil || x.EntryPoints[0] != "web" || x.TLS == nil {
		t.Fatalf("x = %+v", x)
	}
	if s := conf.HTTP.Services["x"]; s == nil || len(s.LoadBalancer.Servers) != 1 || s.LoadBalancer.Servers[0].Port != "8080" {
		t.Fatalf("service x = %+v", s)
	}
	if conf.HTTP.Routers["y"] == nil {
		t.Fatal("root prefix is case-insensitive")
	}
	if m := conf.HTTP.Middlewares["m"]; m == nil || len(m.StripPrefix.Prefixes) != 2 {
		t.Fatalf("m = %+v", m)
	}
	if z := conf.HTTP.Routers["z"]; z == nil || z.TLS == nil || len(z.TLS.Domains) != 1 || len(z.TLS.Domains[0].SANs) != 2 {
		t.Fatalf("z = %+v", z)
	}
	if w := conf.HTTP.Services["w"]; w == nil || w.LoadBalancer.HealthCheck == nil || w.LoadBalancer.HealthCheck.Path != "/health" {
		t.Fatalf("w = %+v", w)
	}
}
