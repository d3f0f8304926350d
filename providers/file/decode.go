package file

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/sprig/v3"
	pfile "github.com/traefik/paerser/file"
	"gopkg.in/yaml.v3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// templateFuncs are sprig's text functions plus the two Traefik adds.
var templateFuncs = func() template.FuncMap {
	m := sprig.TxtFuncMap()
	m["normalize"] = normalizeName
	m["split"] = strings.Split
	return m
}()

// normalizeName turns any name into letters and digits joined by dashes,
// e.g. "my_app.v2" -> "my-app-v2".
func normalizeName(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	}), "-")
}

// render executes src as a Go template. Content without an action is
// returned as is: executing it would change nothing.
func render(path, src string) (string, error) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	tmpl, err := template.New(path).Funcs(templateFuncs).Parse(src)
	if err != nil {
		return "", templateError(path, err)
	}
	var buf bytes.Buffer
	// Traefik executes templates with the value false as data.
	if err := tmpl.Execute(&buf, false); err != nil {
		return "", templateError(path, err)
	}
	return buf.String(), nil
}

// templateError moves the line text/template puts after the template name
// ("template: NAME:LINE[:COL]: msg") to the front, like every other error.
func templateError(path string, err error) *Error {
	e := &Error{File: path, Reason: err.Error(), Err: err}
	rest, ok := strings.CutPrefix(err.Error(), "template: "+path+":")
	if !ok {
		return e
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	line, convErr := strconv.Atoi(rest[:digits])
	if convErr != nil {
		return e
	}
	rest = rest[digits:]
	if len(rest) > 1 && rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9' { // column
		rest = strings.TrimLeft(rest[1:], "0123456789")
	}
	e.Line = line
	e.Reason = "template: " + strings.TrimPrefix(rest, ": ")
	return e
}

// ignoredKey is a top-level key paerser drops silently (it only knows http,
// tcp, udp and tls); we warn about it since it is most likely a typo. Keys
// starting with "x-" hold YAML anchors to reuse and are not reported.
type ignoredKey struct {
	Key  string
	Line int
}

var rootKeys = []string{"http", "tcp", "udp", "tls"}

// decodeContent decodes rendered content of the given extension (".yml",
// ".yaml", ".json" or ".toml") with Traefik's semantics. On failure it returns
// an *Error located at the offending line and key where they can be found.
func decodeContent(path, ext, content string) (*dynamic.Configuration, []ignoredKey, error) {
	raw, lines, err := parseRaw(path, ext, content)
	if err != nil {
		return nil, nil, err
	}

	conf := &dynamic.Configuration{}
	if err := paerserDecode(content, ext, conf); err != nil {
		keyPath, cause := locate(raw, ext, lines, err)
		keyPath = trimToNode(keyPath, cause)
		e := &Error{File: path, Reason: describe(cause), Err: cause}
		if len(keyPath) > 0 {
			e.Key = formatPath(keyPath)
			e.Line = lines.lookup(keyPath)
		}
		return nil, nil, e
	}

	var ignored []ignoredKey
	for k := range raw {
		if strings.HasPrefix(strings.ToLower(k), "x-") {
			continue
		}
		if !slices.ContainsFunc(rootKeys, func(r string) bool { return strings.EqualFold(r, k) }) {
			ignored = append(ignored, ignoredKey{Key: k, Line: lines.lookup([]string{k})})
		}
	}
	slices.SortFunc(ignored, func(a, b ignoredKey) int { return strings.Compare(a.Key, b.Key) })
	return conf.Normalize(), ignored, nil
}

// paerserDecode is paerser's DecodeContent, with a panic (paerser has a few
// on odd raw maps) turned into an error.
func paerserDecode(content, ext string, conf *dynamic.Configuration) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return pfile.DecodeContent(content, ext, conf)
}

// parseRaw parses content into the generic tree paerser works from, and
// indexes the line of every key. Syntax errors keep the parser's line.
func parseRaw(path, ext, content string) (map[string]any, lineIndex, error) {
	raw := map[string]any{}
	switch ext {
	case ".toml":
		if _, err := toml.Decode(content, &raw); err != nil {
			return nil, nil, tomlError(path, err)
		}
		return raw, tomlLines(content), nil
	case ".yml", ".yaml", ".json":
		if err := yaml.Unmarshal([]byte(content), &raw); err != nil {
			return nil, nil, yamlError(path, err)
		}
		if raw == nil { // a document holding only null
			raw = map[string]any{}
		}
		return raw, yamlLines(content), nil
	default:
		return nil, nil, &Error{File: path, Reason: fmt.Sprintf("unsupported file extension %q", ext)}
	}
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

func yamlError(path string, err error) *Error {
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
				e.Line = n
				msg = after
			}
		}
	}
	if strings.Contains(msg, " into map[string]interface {}") {
		msg = "the document must be a mapping (http:, tcp:, udp:, tls:)"
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
		if errors.Is(ne.Err, strconv.ErrRange) {
			return fmt.Sprintf("%s %q out of range", what, ne.Num)
		}
		return fmt.Sprintf("invalid %s %q", what, ne.Num)
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
const locateTimeout = 2 * time.Second

// locate finds the key paerser rejects. paerser's errors say what is wrong
// but not where; its checks are local to one key, so we narrow the document
// down: at each level, bisect the children (in file order) to the first one
// that still fails on its own, and descend into it. It returns the path of
// the deepest failing key and paerser's error for it.
func locate(raw map[string]any, ext string, lines lineIndex, rawErr error) ([]string, error) {
	deadline := time.Now().Add(locateTimeout)
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
			if e := decodeWith(raw, path, subset(cur, kids[lo:mid]), ext); e != nil {
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
			if kidErr = decodeWith(raw, next, kids[lo].value, ext); kidErr == nil {
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
		if l := lines.lookupExact(append(at[:len(at):len(at)], s.name)); l > 0 {
			return l
		}
		return math.MaxInt
	}
	slices.SortStableFunc(kids, func(a, b step) int {
		if c := cmp.Compare(line(a), line(b)); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
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

// decodeWith decodes a document holding nothing but the given path (list
// items become the only item of their list), with value at its end, and
// returns paerser's error.
func decodeWith(raw map[string]any, path []step, value any, ext string) error {
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
	return paerserDecode(buf.String(), ext, &dynamic.Configuration{})
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

// formatPath renders a key path as http.routers.web.rule or
// http.services.s.loadBalancer.servers[0].url; names holding a dot or a
// space are quoted.
func formatPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if strings.HasPrefix(p, "[") {
			b.WriteString(p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if p == "" || strings.ContainsAny(p, ". \t\"[]") {
			b.WriteString(strconv.Quote(p))
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}
