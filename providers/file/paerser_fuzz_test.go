package file

import (
	"reflect"
	"testing"

	pfile "github.com/traefik/paerser/file"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// FuzzDecodeVsPaerser: a dynamic configuration file (YAML or TOML) that
// the file provider accepts is accepted by paerser (Traefik's decoder, the
// reference for what a Traefik user's file means) and decodes to the same
// configuration.
func FuzzDecodeVsPaerser(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(uint8(0), s)
	}
	for _, s := range []string{
		"http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n      middlewares: [m]\n      tls: {}\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:8080\n        passHostHeader: false\n  middlewares:\n    m:\n      stripPrefix:\n        prefixes: [/a]\n",
		"tcp:\n  routers:\n    t:\n      rule: HostSNI(`*`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - address: 127.0.0.1:9000\n",
		"http:\n  services:\n    w:\n      weighted:\n        services:\n          - name: a\n            weight: 3\n",
	} {
		f.Add(uint8(0), s)
	}
	f.Add(uint8(1), "[http.routers.r]\nrule = \"Host(`a`)\"\nservice = \"s\"\n[[http.services.s.loadBalancer.servers]]\nurl = \"http://127.0.0.1\"\n")
	f.Add(uint8(1), "[http.middlewares.m.headers.customRequestHeaders]\nX-A = \"1\"\n")
	exts := []string{".yml", ".toml"}
	f.Fuzz(func(t *testing.T, extIdx uint8, content string) {
		if len(content) > 16<<10 {
			return
		}
		ext := exts[int(extIdx)%len(exts)]
		conf, _, err := decodeContent("/f/x"+ext, ext, content)
		if err != nil {
			return
		}
		ref := &dynamic.Configuration{}
		if rerr := pfile.DecodeContent(content, ext, ref); rerr != nil {
			t.Fatalf("accepted, paerser refuses: %v\n%s", rerr, content)
		}
		if !reflect.DeepEqual(conf, ref.Normalize()) {
			t.Fatalf("decodes differently from paerser:\n%s\nours:     %+v\nparser:   %+v", content, conf, ref)
		}
	})
}
