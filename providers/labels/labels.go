// Package labels turns flat key/value trees into dynamic configuration: the
// dotted labels or tags of container/catalog providers
// (`switchyard.http.routers.x.rule=Host(...)`) and the slash-separated keys
// of KV stores (`switchyard/http/routers/x/rule`). Decoding is per object:
// a bad key skips only the router, service, middleware or TLS entry it
// belongs to, and the error names that key.
package labels

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/traefik/paerser/parser"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Pair is one leaf: its path below the root (e.g. http, routers, x, rule),
// its value, and the original key for error messages.
type Pair struct {
	Path  []string
	Value string
	Key   string
}

// Mode selects the struct tag that may hide fields and whether a struct
// slice may be written without index (labels) or needs one (KV).
type Mode struct {
	TagName            string
	AllowSliceAsStruct bool
}

var (
	// LabelMode is Traefik's label semantics (server URLs come from the
	// platform, so `label:"-"` fields are refused).
	LabelMode = Mode{TagName: parser.TagLabel, AllowSliceAsStruct: true}
	// KVMode is Traefik's KV semantics: every field, lists by index.
	KVMode = Mode{TagName: "kv"}
)

// ObjectError reports one skipped object.
type ObjectError struct {
	Object string // e.g. http.routers.x
	Key    string // the first key of the object
	Err    error
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("%s (key %q): %v", e.Object, e.Key, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// ParseLabels keeps the labels under one of roots (compared without case;
// first match wins) and splits them into Pairs. Keys under no root are
// ignored: they belong to someone else.
func ParseLabels(lbls map[string]string, roots ...string) []Pair {
	var out []Pair
	for k, v := range lbls {
		for _, root := range roots {
			if len(k) > len(root) && k[len(root)] == '.' && strings.EqualFold(k[:len(root)], root) {
				out = append(out, Pair{Path: splitLabel(k[len(root)+1:]), Value: v, Key: k})
				break
			}
		}
	}
	return out
}

// splitLabel splits on dots and turns "servers[0]" into "servers", "[0]".
func splitLabel(s string) []string {
	parts := strings.Split(s, ".")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
			out = append(out, p[:i], p[i:])
			continue
		}
		out = append(out, p)
	}
	return out
}

// ParseKV splits KV keys (already stripped of "<root>/") into Pairs.
// Numeric segments index lists: a numeric leaf is an element of a list of
// scalars (joined in index order), a numeric inner segment a list of structs.
func ParseKV(kv map[string]string) []Pair {
	type elem struct {
		idx int
		val string
	}
	lists := map[string][]elem{}
	listKey := map[string]string{}
	var out []Pair
	for k, v := range kv {
		segs := strings.Split(strings.Trim(k, "/"), "/")
		last := len(segs) - 1
		for i, s := range segs {
			if i < last && isIndex(s) {
				segs[i] = "[" + s + "]"
			}
		}
		if last > 0 && isIndex(segs[last]) {
			n, _ := strconv.Atoi(segs[last])
			parent := strings.Join(segs[:last], "\x00")
			lists[parent] = append(lists[parent], elem{n, v})
			if prev, ok := listKey[parent]; !ok || k < prev {
				listKey[parent] = k
			}
			continue
		}
		out = append(out, Pair{Path: segs, Value: v, Key: k})
	}
	for parent, els := range lists {
		sort.Slice(els, func(i, j int) bool { return els[i].idx < els[j].idx })
		vals := make([]string, len(els))
		for i, e := range els {
			vals[i] = e.val
		}
		out = append(out, Pair{Path: strings.Split(parent, "\x00"), Value: strings.Join(vals, ","), Key: listKey[parent]})
	}
	return out
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Decode builds a configuration from pairs, one object at a time. It never
// fails as a whole: objects that do not decode are left out and reported.
func Decode(pairs []Pair, mode Mode) (*dynamic.Configuration, []error) {
	groups := map[string][]Pair{}
	var errs []error
	for _, p := range pairs {
		obj, err := objectOf(p.Path)
		if err != nil {
			errs = append(errs, &ObjectError{Object: strings.Join(p.Path, "."), Key: p.Key, Err: err})
			continue
		}
		groups[obj] = append(groups[obj], p)
	}
	names := make([]string, 0, len(groups))
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)

	conf := &dynamic.Configuration{}
	for _, obj := range names {
		g := groups[obj]
		sort.Slice(g, func(i, j int) bool { return g[i].Key < g[j].Key })
		one, err := decodeOne(g, mode)
		if err != nil {
			errs = append(errs, &ObjectError{Object: obj, Key: g[0].Key, Err: err})
			continue
		}
		merge(reflect.ValueOf(conf).Elem(), reflect.ValueOf(one).Elem())
	}
	return conf, errs
}

// objectOf names the object a path belongs to: section, kind, name.
func objectOf(path []string) (string, error) {
	if len(path) < 4 && (len(path) != 3 || !strings.EqualFold(path[0], "tls")) {
		return "", fmt.Errorf("incomplete key: want <http|tcp|udp>.<kind>.<name>.<field>")
	}
	for _, s := range path {
		if s == "" {
			return "", fmt.Errorf("empty path segment")
		}
	}
	switch strings.ToLower(path[0]) {
	case "http", "tcp", "udp", "tls":
	default:
		return "", fmt.Errorf("unknown section %q (want http, tcp, udp or tls)", path[0])
	}
	return strings.ToLower(path[0]) + "." + strings.ToLower(path[1]) + "." + path[2], nil
}

func decodeOne(pairs []Pair, mode Mode) (conf *dynamic.Configuration, err error) {
	defer func() {
		// paerser reflects over arbitrary input; never let it take the process down.
		if r := recover(); r != nil {
			conf, err = nil, fmt.Errorf("decode: %v", r)
		}
	}()
	root := &parser.Node{Name: "root"}
	for _, p := range pairs {
		n := root
		for _, seg := range p.Path {
			var child *parser.Node
			for _, c := range n.Children {
				if strings.EqualFold(c.Name, seg) {
					child = c
					break
				}
			}
			if child == nil {
				child = &parser.Node{Name: seg}
				n.Children = append(n.Children, child)
			}
			n = child
		}
		if len(n.Children) > 0 {
			return nil, fmt.Errorf("key %q is both a value and a parent", p.Key)
		}
		n.Value = p.Value
	}
	if err := checkLeaves(root); err != nil {
		return nil, err
	}
	conf = &dynamic.Configuration{}
	if err := parser.AddMetadata(conf, root, parser.MetadataOpts{TagName: mode.TagName, AllowSliceAsStruct: mode.AllowSliceAsStruct}); err != nil {
		return nil, err
	}
	if err := parser.Fill(conf, root, parser.FillerOpts{AllowSliceAsStruct: mode.AllowSliceAsStruct}); err != nil {
		return nil, err
	}
	return conf, nil
}

// checkLeaves refuses a node that has both a value and children (a key set
// both as "a" and "a/b").
func checkLeaves(n *parser.Node) error {
	if n.Value != "" && len(n.Children) > 0 {
		return fmt.Errorf("%q is both a value and a parent", n.Name)
	}
	for _, c := range n.Children {
		if err := checkLeaves(c); err != nil {
			return err
		}
	}
	return nil
}

// merge copies src's non-zero content into dst: maps key by key, slices
// appended, pointers to structs recursively.
func merge(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		if dst.IsNil() || src.Elem().Kind() != reflect.Struct {
			dst.Set(src)
			return
		}
		merge(dst.Elem(), src.Elem())
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				merge(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
		}
		it := src.MapRange()
		for it.Next() {
			dst.SetMapIndex(it.Key(), it.Value())
		}
	case reflect.Slice:
		if src.Len() > 0 {
			dst.Set(reflect.AppendSlice(dst, src))
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

// ObjectKind maps a label object ("http.routers.x") to the kind the API
// names it by and its name; ok is false for anything else.
func ObjectKind(obj string) (kind, name string, ok bool) {
	parts := strings.SplitN(obj, ".", 3)
	if len(parts) != 3 || parts[2] == "" {
		return "", "", false
	}
	var k string
	switch parts[1] {
	case "routers":
		k = "router"
	case "services":
		k = "service"
	case "middlewares":
		k = "middleware"
	default:
		return "", "", false
	}
	switch parts[0] {
	case "http":
		return k, parts[2], true
	case "tcp":
		return "tcp " + k, parts[2], true
	case "udp":
		if k == "middleware" {
			return "", "", false
		}
		return "udp " + k, parts[2], true
	}
	return "", "", false
}

// Problem turns a decode error into a problem on the object it concerns
// (left out, disabled in the API); ok is false for an error outside any
// object (the caller reports it elsewhere). where prefixes the message
// (the source of the labels) and key shows the key (and, unless it names a
// secret, the value) that failed.
func Problem(err error, where string, key func(*ObjectError) string) (dynamic.ObjectProblem, bool) {
	var oe *ObjectError
	if !errors.As(err, &oe) {
		return dynamic.ObjectProblem{}, false
	}
	kind, name, ok := ObjectKind(oe.Object)
	if !ok {
		return dynamic.ObjectProblem{}, false
	}
	return dynamic.ObjectProblem{Kind: kind, Name: name, Error: fmt.Sprintf("%s: %s: %v", where, key(oe), oe.Err)}, true
}
