package file

import (
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

var fuzzSeeds = []string{
	"",
	"http:\n  routers:\n    web:\n      rule: Host(`a`)\n      rul: x\n",
	"http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://a\n          - wieght: 1\n        healthCheck:\n          interval: 5x\n",
	"http:\n  middlewares:\n    p:\n      plugin:\n        x:\n          a: [1, {b: 2}]\n",
	"x: &a\n  y: *a\n",
	"a: &a [*a, *a]\nhttp:\n  routers:\n    r:\n      <<: *a\n",
	"http:\n  routers: [1, 2]\n",
	"http:\n  routers:\n    1: {rule: x}\n    true: {rule: y}\n",
	"tls:\n  certificates:\n    - certFile: a\n      keyFile: b\n      stores: [default]\n",
	"tcp:\n  routers:\n    r:\n      tls:\n        passthrough: maybe\n",
	"http:\n  routers:\n    r:\n      entryPoints: [a, ~, [b]]\n",
	"{{ if }}",
}

// FuzzDecode: decoding any YAML content never panics, and either succeeds
// with a normalized configuration or fails with a located *Error.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		conf, _, err := decodeContent("/f/x.yml", ".yml", content)
		checkDecode(t, conf, err)
	})
}

// FuzzDecodeTOML is FuzzDecode for TOML.
func FuzzDecodeTOML(f *testing.F) {
	for _, s := range []string{
		"",
		"[http.routers.web]\nrule = \"a\"\nrul = 1\n",
		"[[http.services.s.loadBalancer.servers]]\nurl = \"a\"\n[[http.services.s.loadBalancer.servers]]\nwieght = 1\n",
		"a = \"\"\"\nx\n\"\"\"\nb = [ { c = 1 }, \n { d = '2' } ]\n",
		"http.routers.r = { priority = \"x\" }\n",
		"t = 1979-05-27T07:32:00Z\n[http.routers.r]\nrule = 1979-05-27\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		conf, _, err := decodeContent("/f/x.toml", ".toml", content)
		checkDecode(t, conf, err)
	})
}

func checkDecode(t *testing.T, conf *dynamic.Configuration, err error) {
	t.Helper()
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %T is not an *Error: %v", err, err)
		}
		return
	}
	if conf == nil || conf.HTTP == nil || conf.HTTP.Routers == nil || conf.TCP == nil || conf.UDP == nil || conf.TLS == nil {
		t.Fatalf("configuration not normalized: %+v", conf)
	}
}
