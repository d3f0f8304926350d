package filedecode

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/traefik/paerser/parser"
	"gopkg.in/yaml.v3"
)

// paerser decodes YAML in three steps: yaml.v3 into a generic map (whose
// duplicate-key check is pairwise, quadratic: seconds for a file of 10,000
// routers), the map into its label tree (parser.Node), the tree into the
// element. The fast path below builds the same label tree straight from a
// node tree (parseYAMLSubset's, else yaml.v3's; one linear pass, duplicates
// found by sorting) and hands it to paerser's own AddMetadata and Fill.
// Scalars other than plain strings are resolved by yaml.v3 itself, exactly
// as the map decode does. Anything unusual (duplicate or non-string keys,
// merge keys, null list items, heavy aliasing, a YAML error) falls back to
// paerser's path, so errors are always those of the reference decoder;
// when AddMetadata or Fill rejects the tree, the reference would reject the
// same tree with the same error (fillError).

// fastPathMin is the size from which the fast path is taken: every
// document, as a directory of many small files gains as much as one big
// file (100 files of 100 routers: 0.7 s -> 0.09 s), and every test of a
// YAML configuration then exercises it.
const fastPathMin = 0

// linearMapMin is the size from which the generic map of a YAML document
// (for UnknownRootKeys and to locate errors) is built by yamlToMap rather
// than yaml.Unmarshal and its quadratic duplicate check.
const linearMapMin = 32 << 10

var errFallback = errors.New("fast path not applicable")

// rawSliceSeparator is paerser's separator of list values in a label.
const rawSliceSeparator = "║"

// parseYAMLRoot parses content into yaml.v3's node tree and returns its root
// mapping; nil (no error) for an empty or null document.
func parseYAMLRoot(content string) (*yaml.Node, error) {
	if root, ok := parseYAMLSubset(content); ok {
		return root, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	switch {
	case root.Kind == yaml.MappingNode:
		return root, nil
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		return nil, nil
	}
	return nil, errFallback
}

// fastDecode decodes YAML content into element through the label tree
// built from yaml.v3's nodes. It returns the root mapping (nil for an empty
// document) for callers that need the top-level keys. On error element may
// be partly filled.
func fastDecode(content string, element any) (_ *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // paerser panics on a few odd trees
			err = errFallback
		}
	}()
	root, err := parseYAMLRoot(content)
	if err != nil {
		return nil, errFallback
	}
	if root == nil {
		return nil, nil
	}
	if err := fillFromYAML(root, element); err != nil {
		return nil, err
	}
	return root, nil
}

// fillFromYAML is paerser's DecodeContent from the root mapping on.
func fillFromYAML(root *yaml.Node, element any) error {
	b := labelBuilder{}
	node := &parser.Node{Name: parser.DefaultRootName}
	var filters []string
	for _, f := range rootFields(reflect.TypeOf(element)) {
		filters = append(filters, f.Name)
	}
	if err := b.mapping(node, root, filters, 0); err != nil {
		return err
	}
	if len(node.Children) == 0 {
		return nil
	}
	if err := parser.AddMetadata(element, node, parser.MetadataOpts{TagName: parser.TagFile, AllowSliceAsStruct: false}); err != nil {
		return &fillError{err}
	}
	if err := parser.Fill(element, node, parser.FillerOpts{AllowSliceAsStruct: false, RawSliceSeparator: rawSliceSeparator}); err != nil {
		return &fillError{err}
	}
	return nil
}

// fillError is paerser's error on a label tree the fast path built: its
// own path builds the same tree, so it fails the same way; there is no
// need to decode the document again to get the error.
type fillError struct{ err error }

func (e *fillError) Error() string { return e.err.Error() }

// labelBuilder turns yaml.v3 nodes into paerser labels.
type labelBuilder struct {
	aliases int           // aliases followed
	slab    []parser.Node // labels are handed out of chunks: far fewer allocations
}

// label returns a new label named name.
func (b *labelBuilder) label(name string) *parser.Node {
	if len(b.slab) == 0 {
		b.slab = make([]parser.Node, 256)
	}
	out := &b.slab[0]
	out.Name = name
	b.slab = b.slab[1:]
	return out
}

// maxAliases bounds alias expansion; more is left to yaml.v3, which
// rejects excessive aliasing.
const maxAliases = 100

// maxDepth bounds recursion (an anchor can contain an alias to itself).
const maxDepth = 100

// deref follows aliases.
func (b *labelBuilder) deref(n *yaml.Node) (*yaml.Node, error) {
	for n.Kind == yaml.AliasNode {
		b.aliases++
		if n.Alias == nil || b.aliases > maxAliases {
			return nil, errFallback
		}
		n = n.Alias
	}
	return n, nil
}

type yamlPair struct {
	key string
	val *yaml.Node
}

// mapping adds to parent one child per key of the mapping n whose value is
// not null, in key order. filters (the root only) keeps the keys equal,
// ignoring case, to one of them: once per match, as paerser does.
func (b *labelBuilder) mapping(parent *parser.Node, n *yaml.Node, filters []string, depth int) error {
	if depth > maxDepth || n.ShortTag() != "!!map" {
		return errFallback
	}
	pairs := make([]yamlPair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return errFallback // merge keys, non-string keys: reference path
		}
		pairs = append(pairs, yamlPair{key: k.Value, val: n.Content[i+1]})
	}
	slices.SortFunc(pairs, func(a, c yamlPair) int { return strings.Compare(a.key, c.key) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].key == pairs[i-1].key {
			return errFallback // let the reference decoder word the error
		}
	}
	if len(parent.Children) == 0 {
		parent.Children = make([]*parser.Node, 0, len(pairs))
	}
	for _, p := range pairs {
		times := 1
		if filters != nil {
			times = 0
			for _, f := range filters {
				if strings.EqualFold(p.key, f) {
					times++
				}
			}
		}
		// A key filtered out is still walked: paerser decodes the whole
		// document first, so an error there (a duplicate key, an anchor
		// containing itself) fails the decode.
		for i := range max(times, 1) {
			child, err := b.value(p.key, p.val, depth)
			if err != nil {
				return err
			}
			if child != nil && i < times {
				parent.Children = append(parent.Children, child)
			}
		}
	}
	return nil
}

// value is the label for the value v of key name; nil for null.
func (b *labelBuilder) value(name string, v *yaml.Node, depth int) (*parser.Node, error) {
	v, err := b.deref(v)
	if err != nil {
		return nil, err
	}
	child := b.label(name)
	switch v.Kind {
	case yaml.ScalarNode:
		s, _, isNull, err := scalar(v)
		if err != nil {
			return nil, err
		}
		if isNull {
			return nil, nil
		}
		child.Value = s
	case yaml.MappingNode:
		if err := b.mapping(child, v, nil, depth+1); err != nil {
			return nil, err
		}
	case yaml.SequenceNode:
		if err := b.sequence(child, v, depth+1); err != nil {
			return nil, err
		}
	default:
		return nil, errFallback
	}
	return child, nil
}

// sequence fills child from a list: mapping items become children "[i]",
// scalars are joined into the value, prefixed by the largest reflect.Kind
// of the items (paerser's raw slice encoding).
func (b *labelBuilder) sequence(child *parser.Node, n *yaml.Node, depth int) error {
	if depth > maxDepth || n.ShortTag() != "!!seq" {
		return errFallback
	}
	var values []string
	var kind reflect.Kind
	for i, item := range n.Content {
		item, err := b.deref(item)
		if err != nil {
			return err
		}
		switch item.Kind {
		case yaml.MappingNode:
			kind = max(kind, reflect.Map)
			ch := b.label("[" + strconv.Itoa(i) + "]")
			if err := b.mapping(ch, item, nil, depth+1); err != nil {
				return err
			}
			child.Children = append(child.Children, ch)
		case yaml.ScalarNode:
			s, k, isNull, err := scalar(item)
			if err != nil || isNull {
				return errFallback // paerser rejects null items
			}
			kind = max(kind, k)
			values = append(values, s)
		default:
			return errFallback // nested lists: paerser rejects them
		}
	}
	if len(values) > 0 {
		child.Value = rawSliceSeparator + strconv.Itoa(int(kind)) + rawSliceSeparator + strings.Join(values, rawSliceSeparator)
	}
	return nil
}

// scalar renders a scalar as paerser does, with the reflect.Kind of the
// value yaml.v3 decodes it to.
func scalar(n *yaml.Node) (s string, kind reflect.Kind, isNull bool, err error) {
	switch n.ShortTag() {
	case "!!str":
		return n.Value, reflect.String, false, nil
	case "!!null":
		return "", 0, true, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", 0, false, errFallback
	}
	switch t := v.(type) {
	case nil:
		return "", 0, true, nil
	case string:
		return t, reflect.String, false, nil
	case bool:
		return strconv.FormatBool(t), reflect.Bool, false, nil
	case int:
		return strconv.FormatInt(int64(t), 10), reflect.Int, false, nil
	case int64:
		return strconv.FormatInt(t, 10), reflect.Int64, false, nil
	case uint64:
		return strconv.FormatUint(t, 10), reflect.Uint64, false, nil
	case float64:
		return strings.TrimSuffix(strconv.FormatFloat(t, 'f', 6, 64), ".000000"), reflect.Float64, false, nil
	}
	return "", 0, false, errFallback
}

// unknownRootKeysOf is UnknownRootKeys from an already parsed root mapping
// that the fast path accepted (string keys, no duplicates, no merge keys).
func unknownRootKeysOf(root *yaml.Node, t reflect.Type) []Key {
	fields := rootFields(t)
	if root == nil || fields == nil {
		return nil
	}
	var out []Key
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i].Value
		if strings.HasPrefix(strings.ToLower(k), "x-") ||
			slices.ContainsFunc(fields, func(f reflect.StructField) bool { return strings.EqualFold(f.Name, k) }) {
			continue
		}
		out = append(out, Key{Name: k, Line: root.Content[i].Line})
	}
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Name, b.Name))
	})
	return out
}

// yamlToMap parses a YAML (or JSON) document into the generic map
// yaml.Unmarshal would produce, in linear time.
func yamlToMap(content string) (map[string]any, error) {
	if root, ok := parseYAMLSubset(content); ok {
		if root == nil {
			return map[string]any{}, nil
		}
		v, err := nodeValue(root, 0)
		if err != nil {
			return nil, err
		}
		return v.(map[string]any), nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return map[string]any{}, nil
	}
	v, err := nodeValue(&doc, 0)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case nil:
		return map[string]any{}, nil
	default:
		return nil, errFallback
	}
}

func nodeValue(n *yaml.Node, depth int) (any, error) {
	if depth > 100 {
		return nil, errFallback
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return nodeValue(n.Alias, depth+1)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, errFallback // merge keys and complex keys: reference path
			}
			if _, dup := out[k.Value]; dup {
				return nil, errFallback // let the reference decoder word the error
			}
			val, err := nodeValue(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	}
	return nil, errFallback
}
