package filedecode

import (
	"bytes"
	"errors"
	"fmt"

	pfile "github.com/traefik/paerser/file"
	"gopkg.in/yaml.v3"
)

// yaml.v3 checks mapping keys for duplicates pairwise when it decodes into
// a map, which is quadratic: a file with 10,000 routers spends seconds
// there. The fast path below parses to a node tree (linear), detects
// duplicates with a set, and hands paerser an equivalent TOML document,
// which it decodes with the same semantics. Anything unusual (null values,
// a duplicate key, a decode error) falls back to the plain path, so errors
// are always reported by the reference decoder.

// fastPathMin is the size from which the fast path pays for itself.
const fastPathMin = 32 << 10

var errFallback = errors.New("fast path not applicable")

// yamlToMap parses a YAML (or JSON) document into the generic map
// yaml.Unmarshal would produce, in linear time.
func yamlToMap(content string) (map[string]any, error) {
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

// fastDecode decodes large YAML through the linear parser and TOML.
func fastDecode(content string, element any) error {
	raw, err := yamlToMap(content)
	if err != nil {
		return errFallback
	}
	if hasNil(raw, 0) {
		return errFallback // TOML cannot say null; paerser treats it specially
	}
	var buf bytes.Buffer
	if err := tomlEncode(&buf, raw); err != nil {
		return errFallback
	}
	if err := pfile.DecodeContent(buf.String(), ".toml", element); err != nil {
		return fmt.Errorf("%w: %w", errFallback, err)
	}
	return nil
}

func hasNil(v any, depth int) bool {
	if depth > 100 {
		return true
	}
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, c := range t {
			if hasNil(c, depth+1) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if hasNil(c, depth+1) {
				return true
			}
		}
	}
	return false
}
