// Package filedecode decodes YAML, TOML and JSON configuration files into
// any paerser element (the static or the dynamic configuration) with
// paerser's semantics, and turns its terse errors into located ones:
// "/etc/dyn.yml:12: http.routers.web.rul: field not found".
package filedecode

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	pfile "github.com/traefik/paerser/file"
	"gopkg.in/yaml.v3"
)

// Decode decodes content (ext ".yml", ".yaml", ".json" or ".toml") into the
// element newElement returns, with paerser's semantics (keys match fields
// ignoring case; unknown top-level keys are dropped, see UnknownRootKeys).
// On failure it returns a located *Error; newElement is then called again
// for a fresh element for each probe of the search.
func Decode(path, ext, content string, newElement func() any) (any, error) {
	el := newElement()
	if err := DecodeInto(path, ext, content, el, newElement); err != nil {
		return nil, err
	}
	return el, nil
}

// DecodeInto is Decode into an existing element (a pointer, possibly
// pre-filled with defaults). newElement supplies fresh elements of the same
// type for the search of a failing key; when nil, zero values of element's
// type are used.
func DecodeInto(path, ext, content string, element any, newElement func() any) error {
	return decodeInto(path, strings.ToLower(ext), content, element, newElement, true)
}

// decodeInto is DecodeInto; fast is false when the fast path already
// failed on this content.
func decodeInto(path, ext, content string, element any, newElement func() any, fast bool) error {
	var decErr error
	if fast {
		decErr = paerserDecode(content, ext, element)
	} else {
		decErr = referenceDecode(content, ext, element)
	}
	if decErr == nil {
		return nil
	}
	return locateError(path, ext, content, element, newElement, decErr)
}

// locateError turns paerser's error decErr on content into a located *Error.
func locateError(path, ext, content string, element any, newElement func() any, decErr error) error {
	if newElement == nil {
		newElement = zeroOf(element)
	}
	// The source is parsed again only on failure: a syntax error keeps the
	// parser's line; anything else is located by narrowing the document.
	t := reflect.TypeOf(element)
	raw, err := parseRaw(path, ext, content, t)
	if err != nil {
		return err
	}
	lines := indexLines(ext, content)
	rawPath, cause := locate(raw, ext, lines, decErr, newElement)
	rawPath = trimToNode(rawPath, cause)
	e := &Error{File: path, Reason: describe(cause), Err: cause}
	if len(rawPath) > 0 {
		e.Key = formatPath(spell(t, rawPath))
		e.Line = lines.lookup(rawPath)
	}
	return e
}

// DecodeWithUnknownRootKeys is Decode followed by UnknownRootKeys on the
// decoded element; a large YAML document is parsed once for both.
func DecodeWithUnknownRootKeys(path, ext, content string, newElement func() any) (any, []Key, error) {
	ext = strings.ToLower(ext)
	el := newElement()
	root, ok, fillErr := tryFast(content, ext, el)
	if ok {
		return el, unknownRootKeysOf(root, reflect.TypeOf(el)), nil
	}
	if fillErr != nil {
		return nil, nil, locateError(path, ext, content, el, newElement, fillErr)
	}
	if err := decodeInto(path, ext, content, el, newElement, false); err != nil {
		return nil, nil, err
	}
	unknown, err := UnknownRootKeys(ext, content, el)
	if err != nil {
		return nil, nil, err
	}
	return el, unknown, nil
}

// zeroOf returns a constructor of zero values of element's type.
func zeroOf(element any) func() any {
	t := reflect.TypeOf(element)
	if t == nil || t.Kind() != reflect.Pointer {
		return func() any { return element }
	}
	return func() any { return reflect.New(t.Elem()).Interface() }
}

// Key is a top-level key of a file and the line it is on.
type Key struct {
	Name string // as written
	Line int
}

// RootKeys lists the top-level keys of content in file order.
func RootKeys(ext, content string) ([]Key, error) {
	raw, err := parseRaw("", strings.ToLower(ext), content, nil)
	if err != nil {
		return nil, err
	}
	return rootKeys(ext, content, raw, func(string) bool { return true }), nil
}

// UnknownRootKeys lists, in file order, the top-level keys of content that
// match no field of element's root (ignoring case, as paerser does): paerser
// drops them silently. Keys starting with "x-" are not reported: they hold
// YAML anchors to reuse. A root that is not a struct accepts every key.
func UnknownRootKeys(ext, content string, element any) ([]Key, error) {
	ext = strings.ToLower(ext)
	raw, err := parseRaw("", ext, content, reflect.TypeOf(element))
	if err != nil {
		return nil, err
	}
	fields := rootFields(reflect.TypeOf(element))
	if fields == nil {
		return nil, nil
	}
	return rootKeys(ext, content, raw, func(k string) bool {
		if strings.HasPrefix(strings.ToLower(k), "x-") {
			return false
		}
		return !slices.ContainsFunc(fields, func(f reflect.StructField) bool { return strings.EqualFold(f.Name, k) })
	}), nil
}

// rootKeys lists the keys of raw that keep holds, with their lines, in file
// order; lines are indexed only when there is a key to report.
func rootKeys(ext, content string, raw map[string]any, keep func(string) bool) []Key {
	var out []Key
	for k := range raw {
		if keep(k) {
			out = append(out, Key{Name: k})
		}
	}
	if len(out) == 0 {
		return nil
	}
	lines := indexLines(ext, content)
	for i := range out {
		out[i].Line = lines.lookupExact([]string{out[i].Name})
	}
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(cmp.Compare(lineOrMax(a.Line), lineOrMax(b.Line)), strings.Compare(a.Name, b.Name))
	})
	return out
}

func lineOrMax(l int) int {
	if l > 0 {
		return l
	}
	return math.MaxInt
}

// paerserDecode is paerser's DecodeContent (through the fast path for
// large YAML), with a panic (paerser has a few on odd raw maps) turned into
// an error.
func paerserDecode(content, ext string, element any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	if _, ok, fillErr := tryFast(content, ext, element); ok || fillErr != nil {
		return fillErr
	}
	return pfile.DecodeContent(content, ext, element)
}

// referenceDecode is paerser's DecodeContent alone, panics turned into
// errors.
func referenceDecode(content, ext string, element any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return pfile.DecodeContent(content, ext, element)
}

// tryFast decodes large YAML (or JSON) documents through the fast path;
// ok reports success, with the root mapping parsed (nil for an empty
// document). fillErr, when not nil, is paerser's error on the document,
// the one its own path would return. element is left untouched unless ok.
func tryFast(content, ext string, element any) (root *yaml.Node, ok bool, fillErr error) {
	if len(content) < fastPathMin || (ext != ".yml" && ext != ".yaml" && ext != ".json") {
		return nil, false, nil
	}
	ev := reflect.ValueOf(element)
	if ev.Kind() != reflect.Pointer || ev.IsNil() {
		return nil, false, nil
	}
	// The fast path may have filled part of element before failing:
	// only take it when it succeeds outright on a scratch value.
	scratch := reflect.New(ev.Type().Elem())
	scratch.Elem().Set(ev.Elem())
	root, err := fastDecode(content, scratch.Interface())
	if fe := (*fillError)(nil); errors.As(err, &fe) {
		return nil, false, fe.err
	}
	if err != nil {
		return nil, false, nil
	}
	ev.Elem().Set(scratch.Elem())
	return root, true, nil
}

// parseRaw parses content into the generic tree paerser works from. Syntax
// errors keep the parser's line; root is the element type, to name the
// expected keys when the document is not a mapping.
func parseRaw(path, ext, content string, root reflect.Type) (map[string]any, error) {
	raw := map[string]any{}
	switch ext {
	case ".toml":
		if _, err := toml.Decode(content, &raw); err != nil {
			return nil, tomlError(path, err)
		}
		return raw, nil
	case ".yml", ".yaml", ".json":
		if len(content) >= linearMapMin {
			if m, err := yamlToMap(content); err == nil {
				return m, nil
			}
		}
		if err := yaml.Unmarshal([]byte(content), &raw); err != nil {
			return nil, yamlError(path, content, err, root)
		}
		if raw == nil { // a document holding only null
			raw = map[string]any{}
		}
		return raw, nil
	default:
		return nil, &Error{File: path, Reason: fmt.Sprintf("unsupported file extension %q", ext)}
	}
}

// indexLines indexes the line of every key of content (already parsed).
func indexLines(ext, content string) lineIndex {
	if ext == ".toml" {
		return tomlLines(content)
	}
	return yamlLines(content)
}

func tomlError(path string, err error) *Error {
	e := &Error{File: path, Reason: err.Error(), Err: err}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		e.Line = pe.Position.Line
		e.Key = pe.LastKey
		e.Reason = "toml: " + pe.Message
	}
	return e
}

func yamlError(path, content string, err error, root reflect.Type) *Error {
	e := &Error{File: path, Reason: err.Error(), Err: err}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				// At the end of the stream the parser counts one line
				// past a last line without a newline.
				e.Line = min(n, strings.Count(content, "\n")+1)
				msg = after
			}
		}
	}
	if strings.Contains(msg, " into map[string]interface {}") {
		msg = "the document must be a mapping" + mappingHint(root)
	}
	e.Reason = "yaml: " + msg
	return e
}

// describe turns paerser's terse errors into a reason a user can act on;
// the key they concern is reported separately.
func describe(err error) string {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		what := map[string]string{
			"ParseBool":  "boolean",
			"ParseInt":   "integer",
			"ParseUint":  "unsigned integer",
			"ParseFloat": "number",
		}[ne.Func]
		if what == "" {
			what = "value"
		}
		num := ne.Num
		// paerser writes a float of the file as "1.500000".
		if _, err := strconv.ParseFloat(num, 64); err == nil && strings.Contains(num, ".") {
			num = strings.TrimSuffix(strings.TrimRight(num, "0"), ".")
		}
		if errors.Is(ne.Err, strconv.ErrRange) {
			return fmt.Sprintf("%s %q out of range", what, num)
		}
		return fmt.Sprintf("invalid %s %q", what, num)
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "field not found, node: "):
		return "field not found"
	case strings.HasPrefix(msg, "time: "):
		msg = strings.TrimPrefix(msg, "time: ")
		if detail, value, ok := strings.Cut(msg, " in duration "); ok {
			return "invalid duration " + value + ": " + detail
		}
		return msg
	case strings.Contains(msg, " cannot be a standalone element "):
		return "must be a section (a mapping), not a single value"
	case strings.HasPrefix(msg, "invalid node "):
		return "must be a single value, not a section or a list"
	case strings.HasPrefix(msg, "unsupported simple value type: invalid"):
		return "empty list item"
	}
	return msg
}

// trimToNode cuts path after the node paerser's message names: descending
// into a value that is wrongly a mapping goes one level too deep.
func trimToNode(path []string, err error) []string {
	if err == nil {
		return path
	}
	msg := err.Error()
	var node string
	switch {
	case strings.HasPrefix(msg, "invalid node "):
		node, _, _ = strings.Cut(strings.TrimPrefix(msg, "invalid node "), ":")
	case strings.Contains(msg, " cannot be a standalone element "):
		node, _, _ = strings.Cut(msg, " cannot be a standalone element ")
	default:
		return path
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == node {
			return path[:i+1]
		}
	}
	return path
}

// locateTimeout bounds the search in a pathological file; the deepest key
// found by then is reported.
const locateTimeout = 5 * time.Second

// locate finds the key paerser rejects. paerser's errors say what is wrong
// but not where; its checks are local to one key, so we narrow the document
// down: at each level, bisect the children (in file order) to the first one
// that still fails on its own, and descend into it. Each probe decodes into
// a fresh element from newElement. It returns the path of the deepest
// failing key and paerser's error for it.
func locate(raw map[string]any, ext string, lines lineIndex, rawErr error, newElement func() any) ([]string, error) {
	deadline := time.Now().Add(locateTimeout)
	probe := func(path []step, value any) error {
		return decodeWith(raw, path, value, ext, newElement)
	}
	var (
		path []step
		cur  any = raw
		err      = rawErr // paerser's error for cur at path
	)
	for time.Now().Before(deadline) {
		kids := sortedChildren(cur, names(path), lines)
		// Invariant: cur restricted to kids[lo:hi] fails, with kidErr
		// when known. paerser's checks are local to a key, so when the
		// first half passes the second fails; that is verified at the end.
		lo, hi, kidErr := 0, len(kids), err
		for hi-lo > 1 && time.Now().Before(deadline) {
			mid := (lo + hi) / 2
			if e := probe(path, subset(cur, kids[lo:mid])); e != nil {
				hi, kidErr = mid, e
			} else {
				lo, kidErr = mid, nil
			}
		}
		if hi-lo != 1 {
			break
		}
		next := append(slices.Clip(path), kids[lo])
		if kidErr == nil {
			// The document for next is the one for cur restricted to kids[lo].
			if kidErr = probe(next, kids[lo].value); kidErr == nil {
				break // only a combination of keys fails: stop here
			}
		}
		path, cur, err = next, kids[lo].value, kidErr
	}
	return names(path), err
}

// sortedChildren lists the children of v in file order (unknown lines last,
// then by name).
func sortedChildren(v any, at []string, lines lineIndex) []step {
	kids := children(v)
	line := func(s step) int {
		return lineOrMax(lines.lookupExact(append(at[:len(at):len(at)], s.name)))
	}
	slices.SortStableFunc(kids, func(a, b step) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), strings.Compare(a.name, b.name))
	})
	return kids
}

// subset is v (a map or a list) with only the given children.
func subset(v any, kids []step) any {
	switch v.(type) {
	case map[string]any:
		m := make(map[string]any, len(kids))
		for _, k := range kids {
			m[k.name] = k.value
		}
		return m
	case map[any]any:
		m := make(map[any]any, len(kids))
		for _, k := range kids {
			m[k.key] = k.value
		}
		return m
	default:
		l := make([]any, len(kids))
		for i, k := range kids {
			l[i] = k.value
		}
		return l
	}
}

// step is one edge from a node to a child: a map key or a list index.
type step struct {
	name  string // key, or "[i]" for a list item
	key   any    // original map key (nil for a list item)
	value any
}

func names(path []step) []string {
	out := make([]string, len(path))
	for i, s := range path {
		out[i] = s.name
	}
	return out
}

// children lists the child nodes of a generic YAML/TOML value, skipping
// null map values as paerser does.
func children(v any) []step {
	var out []step
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if c != nil {
				out = append(out, step{name: k, key: k, value: c})
			}
		}
	case map[any]any:
		for k, c := range t {
			if c != nil {
				out = append(out, step{name: fmt.Sprint(k), key: k, value: c})
			}
		}
	case []any:
		for i, c := range t {
			out = append(out, step{name: "[" + strconv.Itoa(i) + "]", value: c})
		}
	case []map[string]any:
		for i, c := range t {
			out = append(out, step{name: "[" + strconv.Itoa(i) + "]", value: c})
		}
	}
	return out
}

// decodeWith decodes, into a fresh element, a document holding nothing but
// the given path (list items become the only item of their list), with
// value at its end, and returns paerser's error.
func decodeWith(raw map[string]any, path []step, value any, ext string, newElement func() any) error {
	v := value
	for i := len(path) - 1; i >= 0; i-- {
		var parent any = raw
		if i > 0 {
			parent = path[i-1].value
		}
		switch {
		case path[i].key == nil:
			v = []any{v}
		case isAnyMap(parent):
			v = map[any]any{path[i].key: v}
		default:
			v = map[string]any{path[i].name: v}
		}
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var buf bytes.Buffer
	switch ext {
	case ".toml":
		if err := tomlEncode(&buf, doc); err != nil {
			return nil
		}
	default:
		// JSON is YAML and much faster to write; it cannot hold the
		// non-string keys YAML allows.
		out, err := json.Marshal(doc)
		if err != nil {
			if out, err = yamlMarshal(doc); err != nil {
				return nil
			}
		}
		buf.Write(out)
	}
	return paerserDecode(buf.String(), ext, newElement())
}

func isAnyMap(v any) bool {
	_, ok := v.(map[any]any)
	return ok
}

// yamlMarshal is yaml.Marshal with its panics (on values it cannot encode)
// turned into errors.
func yamlMarshal(v any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml marshal: %v", r)
		}
	}()
	return yaml.Marshal(v)
}

// tomlEncode is toml's Encode with any panic turned into an error.
func tomlEncode(buf *bytes.Buffer, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("toml encode: %v", r)
		}
	}()
	return toml.NewEncoder(buf).Encode(v)
}
