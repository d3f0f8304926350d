package filedecode

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	pfile "github.com/traefik/paerser/file"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
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
	if _, err := fastDecode(content, &fast); err != nil {
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
		if _, err := fastDecode(doc, &c); err == nil {
			t.Errorf("%s: fast path accepted a document it must leave to the reference decoder", name)
		}
	}
}

// fastMatches decodes content with the fast path and with paerser's own
// YAML path into fresh elements. When the fast path succeeds, the reference
// must succeed too, with an equal element and the same unknown root keys.
// When paerser fails on the fast path's tree, the reference fails with the
// same error. It reports whether the fast path was taken.
func fastMatches(t testing.TB, name, content string, newElement func() any) bool {
	t.Helper()
	fast, ref := newElement(), newElement()
	root, ferr := fastDecode(content, fast)
	rerr := referenceDecode(content, ".yml", ref)
	if fe := (*fillError)(nil); errors.As(ferr, &fe) {
		// paerser's error on the fast path's tree is the reference's.
		if rerr == nil || rerr.Error() != fe.err.Error() {
			t.Fatalf("%s (%T): fast path error %q, reference %v:\n%s", name, fast, fe.err, rerr, content)
		}
		return false
	}
	if ferr != nil {
		return false
	}
	if rerr != nil {
		t.Fatalf("%s (%T): fast path accepted a document paerser rejects (%v):\n%s", name, fast, rerr, content)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("%s (%T): fast path differs from paerser's YAML path:\nfast: %+v\nref:  %+v\n%s", name, fast, fast, ref, content)
	}
	want, err := UnknownRootKeys(".yml", content, ref)
	if err != nil {
		t.Fatalf("%s: UnknownRootKeys: %v", name, err)
	}
	if got := unknownRootKeysOf(root, reflect.TypeOf(fast)); len(got) != 0 || len(want) != 0 {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (%T): unknown root keys %v, want %v", name, fast, got, want)
		}
	}
	return true
}

var fastElements = []func() any{
	func() any { return &dynamic.Configuration{} },
	func() any { return &static.Configuration{} },
	newTestConfig,
}

// fastEdgeCases are documents on the edges of what the fast path accepts.
var fastEdgeCases = []string{
	"",
	"~\n",
	"# only a comment\n",
	"http: {}\n",
	"http:\n  routers: {}\n",
	"http:\n  routers:\n    a:\n",
	"http:\n  routers:\n    a: {rule: \"Host(`a`)\", service: s, priority: 0x1F, entryPoints: []}\n",
	"HTTP:\n  Routers:\n    A:\n      Rule: x\n      RuleSyntax: v3\n      Priority: 1_000\n",
	"http:\n  routers:\n    a:\n      priority: 12345678901234567890\n",
	"http:\n  routers:\n    a:\n      priority: -3\n      tls: {}\n",
	"http:\n  routers:\n    a:\n      priority: 1.5\n",
	"http:\n  routers:\n    a:\n      service: 2001-12-14\n",
	"http:\n  routers:\n    a:\n      service: !!str 12\n      rule: !!binary aGVsbG8=\n",
	"http:\n  routers:\n    a:\n      service: yes\n      rule: true\n",
	"http:\n  routers:\n    a:\n      entryPoints: [web, ~]\n",
	"http:\n  routers:\n    a:\n      entryPoints: [web, [x]]\n",
	"http:\n  routers:\n    a:\n      entryPoints: [1, 2.5, true, web]\n",
	"http:\n  routers:\n    a:\n      entryPoints: !!set {a, b}\n",
	"http:\n  routers:\n    \"a.b\":\n      rule: 'x''y'\n    'c d':\n      rule: |\n        multi\n        line\n",
	"http:\n  routers:\n    1:\n      rule: x\n",
	"http:\n  routers:\n    a: {rule: x}\n    a: {rule: y}\n",
	"x-base: &b\n  rule: x\n  service: s\nhttp:\n  routers:\n    a: *b\n    b: *b\n",
	"x-base: &b {rule: x}\nhttp:\n  routers:\n    a:\n      <<: *b\n",
	"x-eps: &e [web, websecure]\nhttp:\n  routers:\n    a:\n      entryPoints: *e\n",
	"a: &a [*a]\n",
	"http:\n  middlewares:\n    p:\n      plugin:\n        demo:\n          list: [1, a, {x: 1}, 2.5]\n          nums: [1, 2]\n          floats: [1.5, 2]\n          bools: [true, false]\n          maps: [{a: 1}, {b: [x, y]}]\n          empty: []\n          nested: {deep: {er: 1, n: ~}}\n          big: 18446744073709551615\n",
	"http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://a\n            weight: 2\n          - url: http://b\n        healthCheck: {interval: 5s, headers: {X-A: \"1\"}}\n",
	"unknown: 1\nx-anchor: 2\nhttp: {}\nTls:\n  options: {}\nzzz: ~\n",
	"{\"http\": {\"routers\": {\"a\": {\"rule\": \"x\", \"priority\": 3}}}, \"other\": []}",
	"http:\n  routers:\n    a:\n      rule: x\n---\nhttp:\n  routers:\n    b:\n      rule: y\n",
	"- 1\n- 2\n",
	"scalar\n",
	"server:\n  address: :80\n  readTimeout: 5s\n  maxConns: 10\n  debug: true\n  tls:\n    domains: [a, b]\nbackends:\n  - url: a\n    weight: 1\n  - {url: b}\nextra:\n  a: [1, {b: 2}]\n  c: {d: [x, 1.5]}\nlabels: {a: b}\n",
	"backends: []\nroutes: {}\n",
	"entryPoints:\n  web:\n    address: :80\n    transport:\n      lifeCycle:\n        graceTimeOut: 3s\nproviders:\n  file:\n    directory: /etc\n    watch: true\nlog:\n  level: DEBUG\n",
	"experimental:\n  plugins:\n    x:\n      moduleName: m\n      version: v1\n",
	// paerser's own errors
	"http:\n  routers:\n    a:\n      rul: x\n",
	"http:\n  routers:\n    a:\n      priority: x\n",
	"http:\n  routers:\n    a:\n      tls:\n        certResolver: [a]\n",
	"tcp:\n  routers:\n    t:\n      tls:\n        passthrough: maybe\n",
	"http:\n  services:\n    s:\n      loadBalancer:\n        servers: x\n",
	"server:\n  readTimeout: 5x\n",
	"server:\n  maxConns: 1.5\n",
	"backends:\n  - url: a\n  - wieght: 1\n",
}

// yamlCorpus is every YAML block of the documentation and every YAML file
// of the examples: real configurations, static and dynamic.
func yamlCorpus(t testing.TB) map[string]string {
	out := map[string]string{}
	root := filepath.Join("..", "..")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		switch ext := filepath.Ext(p); {
		case err != nil:
		case ext == ".yml" || ext == ".yaml":
			out[p] = string(b)
		case ext == ".md":
			blocks := strings.Split(string(b), "```yaml\n")
			for i, blk := range blocks[1:] {
				body, _, _ := strings.Cut(blk, "```")
				out[fmt.Sprintf("%s#%d", p, i+1)] = body
			}
		}
		return nil
	})
	if len(out) < 20 {
		t.Fatalf("only %d YAML documents found in the repository", len(out))
	}
	return out
}

func TestFastPathMatchesReferenceCorpus(t *testing.T) {
	docs := yamlCorpus(t)
	for i, c := range fastEdgeCases {
		docs[fmt.Sprintf("edge case %d", i)] = c
	}
	taken := 0
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		for _, el := range fastElements {
			if fastMatches(t, name, docs[name], el) {
				taken++
			}
		}
	}
	if taken < len(docs) {
		t.Fatalf("fast path taken %d times over %d documents × %d elements", taken, len(docs), len(fastElements))
	}
	t.Logf("fast path taken %d times over %d documents × %d elements", taken, len(docs), len(fastElements))
}

// FuzzFastPath: on any document, the fast path either steps aside or
// decodes exactly what paerser's YAML path decodes.
func FuzzFastPath(f *testing.F) {
	for _, c := range fastEdgeCases {
		f.Add(uint8(0), c)
	}
	f.Add(uint8(1), "http:\n  routers:\n    r:\n      rule: \"Host(`a`)\"\n      middlewares: [a, b]\n")
	f.Fuzz(func(t *testing.T, which uint8, content string) {
		if len(content) > 4096 {
			return
		}
		fastMatches(t, "fuzz", content, fastElements[int(which)%len(fastElements)])
	})
}
