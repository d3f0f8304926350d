package filedecode

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// subsetCases exercise the edges of the YAML subset (and just past them).
var subsetCases = []string{
	"a: 1\n",
	"a:\n",
	"a:\nb: 2\n",
	"a:   \n  b: 1\n",
	"a: # c\n  b: 1\n",
	"a:\n- x\n- y\nb: 1\n",
	"a:\n  - x\n  -  y\n",
	"a:\n  - x: 1\n    y: 2\n  -   z: 3\n      w: [1, 2]\n  - q\n",
	"a:\n  - b:\n    - c\n    - d\n    e: 1\n",
	"a:\n  - b:\n      c: 1\n",
	"- a\n",
	"  a: 1\n",
	"a: 1\n  b: 2\n",
	"a: 1\n b: 2\n",
	"a:\n    b: 1\n  c: 2\n",
	"a: x\n  y\n",
	"a:\n  - x\n    y\n",
	"a: b: c\n",
	"a: b:\n",
	"a: b :c\n",
	"a: b#c\n",
	"a: b #c\n",
	"a: \"b\"#c\n",
	"a: \"b\" #c\n",
	"a: 'b''c' # x\n",
	"a: 'b\\c'\n",
	"a: \"b\\\"c\\\\d\\/e\"\n",
	"a: \"b\\nc\"\n",
	"a: \"b\n  c\"\n",
	"a: 'unclosed\n",
	"\"a b\": 1\n'c': 2\n\"d\" : 3\n",
	"a: [x, \"y\", 'z', 1, 2.5, true, ~, null]\n",
	"a: [ ]\nb: []\nc: [x,]\nd: [,x]\ne: [x y, z]\nf: [x] y\ng: [[x]]\nh: [x, {y: 1}]\ni: [http://x]\n",
	"a: {}\nb: { }\nc: {x: 1}\nd: {} x\n",
	"a: -1\nb: - x\nc: -\nd: -x\n",
	"a: ?x\nb: :x\nc: @x\nd: `x`\ne: %x\n",
	"a: &x 1\nb: *x\nc: !!str 1\nd: |\n  x\ne: >\n  y\n",
	"a: 0x1F\nb: 0o17\nc: 1_000\nd: .inf\ne: -.Inf\nf: .NaN\ng: 1e3\nh: 2001-12-14\ni: 2001-12-14t21:59:43.10-05:00\nj: TRUE\nk: Yes\nl: on\nm: ~\nn: Null\no: 012\np: +12\nq: 1.\n",
	"1: a\ntrue: b\nnull: c\n~: d\n2.5: e\n0x10: f\n",
	"a.b: 1\na-b: 2\na/b: 3\n$a: 4\na@b: 5\na+b: 6\n_a: 7\n.a: 8\n-a: 9\n<<: 10\n",
	"a:\n  b:\n    c:\n      d:\n        e: [1]\n",
	"---\na: 1\n",
	"a: 1\n---\nb: 2\n",
	"a: 1\n...\n",
	"%YAML 1.2\n---\na: 1\n",
	"a:\t1\n",
	"a: 1\r\nb: 2\r\n",
	"a: \u00e9\n",
	"\ufeffa: 1\n",
	"# only\n  # comments\n",
	"",
	"\n\n",
	"a: 1\n# c\n  # c\nb: 2\n",
	"a: 1 # c: d\n",
	"a: x: y\n",
	"a: Host(`x`) || Path(`/a: b`)\n",
	"a: Host(`x`) || Path(`/a:b`)\n",
	"a: x,y]z{w}\n",
	"a:\n  -\n  - x\n",
	"a:\n  - - x\n",
	"a:\n  - # c\n    x\n",
	"a:\n  - x # c\n  - \"y\" # c\n",
	"a: 1\na: 2\n",
	strings.Repeat("k", 1001) + ": 1\n",
	strings.Repeat("k", 999) + ": 1\n",
	"a:\n" + strings.Repeat("  ", 60) + "b: 1\n",
}

// subsetNodesEqual compares what the decoder uses of two node trees.
func subsetNodesEqual(a, b *yaml.Node, path string) error {
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("%s: %v vs %v", path, a, b)
		}
		return nil
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Style != b.Style || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: kind %v/%v tag %q/%q style %v/%v value %q/%q children %d/%d",
			path, a.Kind, b.Kind, a.Tag, b.Tag, a.Style, b.Style, a.Value, b.Value, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		// Lines of keys and list items are reported in errors.
		if (a.Kind == yaml.MappingNode && i%2 == 0 || a.Kind == yaml.SequenceNode) && a.Content[i].Line != b.Content[i].Line {
			return fmt.Errorf("%s[%d]: line %d vs %d", path, i, a.Content[i].Line, b.Content[i].Line)
		}
		if err := subsetNodesEqual(a.Content[i], b.Content[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// subsetMatches checks that when the subset parser accepts content,
// yaml.v3 parses it into the same tree. It reports whether it accepted.
func subsetMatches(t testing.TB, name, content string) bool {
	t.Helper()
	got, ok := parseYAMLSubset(content)
	if !ok {
		return false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		t.Fatalf("%s: subset accepted what yaml.v3 rejects (%v):\n%s", name, err, content)
	}
	var want *yaml.Node
	if doc.Kind != 0 && len(doc.Content) > 0 {
		want = doc.Content[0]
	}
	if err := subsetNodesEqual(got, want, "root"); err != nil {
		t.Fatalf("%s: subset tree differs from yaml.v3's: %v\n%s", name, err, content)
	}
	return true
}

func TestYAMLSubsetMatchesYAMLv3(t *testing.T) {
	docs := yamlCorpus(t)
	for i, c := range append(slices.Clone(subsetCases), fastEdgeCases...) {
		docs[fmt.Sprintf("case %d", i)] = c
	}
	accepted := 0
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		if subsetMatches(t, name, docs[name]) {
			accepted++
		}
	}
	t.Logf("subset parser took %d of %d documents", accepted, len(docs))
	if accepted < len(docs)/2 {
		t.Fatalf("subset parser took only %d of %d documents", accepted, len(docs))
	}
}

// The benchmark's file is within the subset.
func TestYAMLSubsetTakesGeneratedFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "    h%d:\n      rule: \"Host(`h%d.bench.test`)\"\n      service: backend\n      entryPoints: [web, h2c]\n", i, i)
	}
	b.WriteString("  services:\n    backend:\n      loadBalancer:\n        servers:\n          - url: \"http://127.0.0.1:1\"\n")
	if !subsetMatches(t, "generated", b.String()) {
		t.Fatal("subset parser gave up on a generated file")
	}
}

// FuzzYAMLSubset: whatever the subset parser accepts, yaml.v3 parses into
// the same tree.
func FuzzYAMLSubset(f *testing.F) {
	for _, c := range subsetCases {
		f.Add(c)
	}
	for _, c := range fastEdgeCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, content string) {
		subsetMatches(t, "fuzz", content)
	})
}

// Random documents: trees rendered in the styles of configuration files
// (indent widths, sequences at the key's indentation or deeper, mappings
// starting on the dash's line, comments, blank lines), some then corrupted
// by moving one line's indentation. Wherever the subset parser accepts
// one, yaml.v3 must build the same tree.
func TestYAMLSubsetRandomDocuments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	scalar := func() string {
		return pick("x", "Host(`a.b`)", "\"q #x\"", "'it''s'", "1", "-2", "0x1F", "true", "~", "2001-12-14",
			"a b", "http://h:1", "[a, \"b\", 1]", "[]", "{}", "x #c", "\"e\\\"\"", "a: b", "- a", "[a,]", "*x")
	}
	key := func() string { return pick("a", "b", "c", "d", "e", "\"f g\"", "'h'", "1", "x.y", "a") }
	var b strings.Builder
	var node func(indent, width, depth int, inSeq bool)
	// mapping writes a block mapping at indent; the first key goes on the
	// current line when inSeq (after "- ").
	mapping := func(indent, width, depth int, first bool) {
		for i := range 1 + rng.IntN(3) {
			if i > 0 || !first {
				b.WriteString(strings.Repeat(" ", indent))
			}
			k := key()
			if depth > 3 || rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "%s: %s\n", k, scalar())
				continue
			}
			fmt.Fprintf(&b, "%s:%s\n", k, pick("", "", " # c", "  "))
			if rng.IntN(6) == 0 {
				b.WriteString(pick("\n", "# c\n", "   # c\n"))
			}
			switch rng.IntN(4) {
			case 0: // sequence at the key's indentation
				node(indent, width, depth+1, true)
			case 1:
				node(indent+width, width, depth+1, true)
			default:
				node(indent+width, width, depth+1, false)
			}
		}
	}
	node = func(indent, width, depth int, seq bool) {
		if !seq {
			mapping(indent, width, depth, false)
			return
		}
		for range 1 + rng.IntN(3) {
			b.WriteString(strings.Repeat(" ", indent) + "-" + strings.Repeat(" ", 1+rng.IntN(2)))
			if depth > 3 || rng.IntN(2) == 0 {
				b.WriteString(scalar() + "\n")
				continue
			}
			col := strings.LastIndexByte(b.String(), '\n')
			mapping(b.Len()-col-1, width, depth+1, true)
		}
	}
	accepted := 0
	for range 5000 {
		b.Reset()
		mapping(0, 1+rng.IntN(4), 0, false)
		doc := b.String()
		if rng.IntN(4) == 0 { // corrupt one line's indentation
			lines := strings.Split(doc, "\n")
			i := rng.IntN(len(lines))
			if rng.IntN(2) == 0 {
				lines[i] = " " + lines[i]
			} else {
				lines[i] = strings.TrimPrefix(lines[i], " ")
			}
			doc = strings.Join(lines, "\n")
		}
		if subsetMatches(t, "random", doc) {
			accepted++
		}
	}
	t.Logf("subset parser took %d of 5000 random documents", accepted)
	if accepted < 500 {
		t.Fatalf("subset parser took only %d random documents", accepted)
	}
}

// The shortcut for plain scalars resolves them as yaml.v3 does.
func TestYAMLSubsetPlainTags(t *testing.T) {
	p := &subsetParser{}
	for c := byte(0x20); c < 0x7f; c++ {
		for _, s := range []string{string(c), string(c) + "abc", string(c) + "12", string(c) + "rue", string(c) + "ull", string(c) + "inf"} {
			want := (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
			if got := p.plain(s).Tag; got != want {
				t.Errorf("plain(%q).Tag = %q, want %q", s, got, want)
			}
		}
	}
}
