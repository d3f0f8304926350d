package filedecode

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	pfile "github.com/traefik/paerser/file"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// The fast path must decode exactly what paerser's own YAML path decodes.
func TestFastPathMatchesReference(t *testing.T) {
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	for i := range 600 {
		fmt.Fprintf(&b, "    r%d:\n      rule: \"Host(`h%d.example.com`) && PathPrefix(`/v%d`)\"\n      service: s%d\n      priority: %d\n      entryPoints: [web, websecure]\n      middlewares:\n        - strip\n        - other@file\n", i, i, i, i%7, i)
	}
	b.WriteString("  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [\"/a\", \"/b\"]\n    hdr:\n      headers:\n        customRequestHeaders:\n          X-One: \"1\"\n          X-Empty: \"\"\n")
	b.WriteString("  services:\n")
	for i := range 7 {
		fmt.Fprintf(&b, "    s%d:\n      loadBalancer:\n        passHostHeader: false\n        servers:\n          - url: http://127.0.0.1:%d\n            weight: 3\n          - url: http://127.0.0.2:%d\n        healthCheck:\n          path: /health\n          interval: 5s\n", i, 9000+i, 9000+i)
	}
	content := b.String()
	if len(content) < fastPathMin {
		t.Fatalf("test document too small (%d bytes) to take the fast path", len(content))
	}

	var fast, ref dynamic.Configuration
	if err := fastDecode(content, &fast); err != nil {
		t.Fatalf("fast path: %v", err)
	}
	if err := pfile.DecodeContent(content, ".yml", &ref); err != nil {
		t.Fatalf("reference: %v", err)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("fast path differs from paerser's YAML path:\nfast: %s\nref:  %s", dynamic.Hash(fast), dynamic.Hash(ref))
	}
}

func TestFastPathFallsBack(t *testing.T) {
	for name, doc := range map[string]string{
		"duplicate key": "http:\n  routers:\n    a:\n      rule: x\n    a:\n      rule: y\n",
		"null value":    "http:\n  routers:\n    a:\n",
		"merge key":     "base: &b {rule: x}\nhttp:\n  routers:\n    a:\n      <<: *b\n",
		"not a mapping": "- 1\n- 2\n",
	} {
		var c dynamic.Configuration
		if err := fastDecode(doc, &c); err == nil {
			t.Errorf("%s: fast path accepted a document it must leave to the reference decoder", name)
		}
	}
}
