package filedecode

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// lineIndex maps a key path (segments joined by \x00, list items as "[i]")
// to the line where the key appears.
type lineIndex map[string]int

func pathKey(path []string) string { return strings.Join(path, "\x00") }

// lookupExact is the line of exactly this path, 0 if unknown.
func (ix lineIndex) lookupExact(path []string) int { return ix[pathKey(path)] }

// lookup is the line of path, or of its nearest known ancestor.
func (ix lineIndex) lookup(path []string) int {
	for i := len(path); i > 0; i-- {
		if l, ok := ix[pathKey(path[:i])]; ok {
			return l
		}
	}
	return 0
}

func (ix lineIndex) setOnce(path []string, line int) {
	k := pathKey(path)
	if _, ok := ix[k]; !ok {
		ix[k] = line
	}
}

// maxYAMLNodes bounds the walk: aliases can make a small document huge.
const maxYAMLNodes = 200_000

// yamlLines indexes the line of every key and list item of a YAML document.
func yamlLines(content string) lineIndex {
	w := yamlWalker{ix: lineIndex{}, budget: maxYAMLNodes, expanding: map[*yaml.Node]bool{}}
	if root, ok := parseYAMLSubset(content); ok {
		if root != nil {
			w.walk(root, nil, 0)
		}
		return w.ix
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		return lineIndex{}
	}
	w.walk(&doc, nil, 0)
	return w.ix
}

type yamlWalker struct {
	ix     lineIndex
	budget int
	// expanding holds the aliased nodes being walked: an alias to one of
	// them (an anchor containing itself) is not followed again.
	expanding map[*yaml.Node]bool
}

func (w *yamlWalker) walk(n *yaml.Node, path []string, depth int) {
	if n == nil || w.budget <= 0 || depth > 256 {
		return
	}
	w.budget--
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, path, depth+1)
		}
	case yaml.AliasNode:
		if n.Alias == nil || w.expanding[n.Alias] {
			return
		}
		w.expanding[n.Alias] = true
		w.walk(n.Alias, path, depth+1)
		delete(w.expanding, n.Alias)
	case yaml.MappingNode:
		// Explicit keys first: they win over keys merged in with "<<".
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			p := append(path[:len(path):len(path)], k.Value)
			w.ix.setOnce(p, k.Line)
			w.walk(v, p, depth+1)
		}
		for _, m := range merges {
			if m.Kind == yaml.SequenceNode {
				for _, c := range m.Content {
					w.walk(c, path, depth+1)
				}
				continue
			}
			w.walk(m, path, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := append(path[:len(path):len(path)], "["+strconv.Itoa(i)+"]")
			w.ix.setOnce(p, c.Line)
			w.walk(c, p, depth+1)
		}
	}
}

// tomlLines indexes the line of every key, table and array item of a TOML
// document. BurntSushi/toml keeps key positions private, so this is a small
// scanner; it runs only on documents the real parser accepted.
func tomlLines(content string) lineIndex {
	sc := &tomlScanner{s: content, line: 1, ix: lineIndex{}, aot: map[string]int{}}
	sc.run()
	return sc.ix
}

type tomlScanner struct {
	s    string
	i    int
	line int
	ix   lineIndex
	aot  map[string]int // items seen so far of each array of tables
}

func (sc *tomlScanner) eof() bool { return sc.i >= len(sc.s) }

func (sc *tomlScanner) peek() byte {
	if sc.eof() {
		return 0
	}
	return sc.s[sc.i]
}

func (sc *tomlScanner) skipBlank() {
	for !sc.eof() && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t' || sc.s[sc.i] == '\r') {
		sc.i++
	}
}

// skipBlankLines also skips newlines and comments (inside arrays/tables).
func (sc *tomlScanner) skipBlankLines() {
	for !sc.eof() {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r':
			sc.i++
		case '\n':
			sc.i++
			sc.line++
		case '#':
			sc.toEOL()
		default:
			return
		}
	}
}

// toEOL moves to the next newline without consuming it.
func (sc *tomlScanner) toEOL() {
	for !sc.eof() && sc.s[sc.i] != '\n' {
		sc.i++
	}
}

func (sc *tomlScanner) run() {
	var table []string
	for !sc.eof() {
		start := sc.i
		sc.skipBlank()
		if sc.eof() {
			break
		}
		switch sc.s[sc.i] {
		case '\n':
			sc.i++
			sc.line++
		case '#':
			sc.toEOL()
		case '[':
			line := sc.line
			array := strings.HasPrefix(sc.s[sc.i:], "[[")
			sc.i++
			if array {
				sc.i++
			}
			key := sc.key()
			if len(key) > 0 {
				table = sc.header(key, array, line)
			}
			sc.toEOL()
		default:
			line := sc.line
			key := sc.key()
			sc.skipBlank()
			if len(key) == 0 || sc.peek() != '=' {
				sc.toEOL()
				break
			}
			sc.i++
			path := sc.record(table, key, line)
			sc.value(path, 0)
			sc.toEOL()
		}
		if sc.i == start {
			sc.i++ // never loop in place on unexpected input
		}
	}
}

// header resolves a [table] or [[array]] header to the path of the table it
// opens, with the index of every array of tables on the way.
func (sc *tomlScanner) header(key []string, array bool, line int) []string {
	var cur []string
	for j, seg := range key {
		cur = append(cur, seg)
		sc.ix.setOnce(cur, line) // a table implied by the header is on its line
		id := pathKey(cur)
		if j == len(key)-1 && array {
			n := sc.aot[id]
			sc.aot[id] = n + 1
			sc.ix.setOnce(cur, line)
			cur = append(cur, "["+strconv.Itoa(n)+"]")
			break
		}
		if n, ok := sc.aot[id]; ok && n > 0 {
			cur = append(cur, "["+strconv.Itoa(n-1)+"]")
		}
	}
	sc.ix.setOnce(cur, line)
	return cur
}

// record notes the line of a (dotted) key and of the tables it implies.
func (sc *tomlScanner) record(table, key []string, line int) []string {
	path := append(table[:len(table):len(table)], key...)
	for i := len(table) + 1; i <= len(path); i++ {
		sc.ix.setOnce(path[:i], line)
	}
	return path
}

// key reads a dotted key of bare, "basic" or 'literal' parts.
func (sc *tomlScanner) key() []string {
	var parts []string
	for {
		sc.skipBlank()
		var part string
		switch sc.peek() {
		case '"':
			raw := sc.quoted('"', true)
			if s, err := strconv.Unquote(`"` + raw + `"`); err == nil {
				part = s
			} else {
				part = raw
			}
		case '\'':
			part = sc.quoted('\'', false)
		default:
			start := sc.i
			for !sc.eof() && !strings.ContainsRune(" \t\r\n=.[]#\"',{}", rune(sc.s[sc.i])) {
				sc.i++
			}
			if sc.i == start {
				return parts
			}
			part = sc.s[start:sc.i]
		}
		parts = append(parts, part)
		sc.skipBlank()
		if sc.peek() != '.' {
			return parts
		}
		sc.i++
	}
}

// quoted reads a single-line string starting at the opening quote and
// returns its raw body.
func (sc *tomlScanner) quoted(q byte, escapes bool) string {
	sc.i++
	start := sc.i
	for !sc.eof() && sc.s[sc.i] != q && sc.s[sc.i] != '\n' {
		if escapes && sc.s[sc.i] == '\\' {
			sc.i++
		}
		sc.i++
	}
	end := min(sc.i, len(sc.s))
	if !sc.eof() && sc.s[sc.i] == q {
		sc.i++
	}
	return sc.s[start:end]
}

// multiline skips a triple-quoted string, counting its lines.
func (sc *tomlScanner) multiline(delim string, escapes bool) {
	sc.i += 3
	for !sc.eof() {
		switch {
		case strings.HasPrefix(sc.s[sc.i:], delim):
			sc.i += 3
			// Up to two more quotes belong to the content ("""a"""").
			for n := 0; n < 2 && !sc.eof() && sc.s[sc.i] == delim[0]; n++ {
				sc.i++
			}
			return
		case escapes && sc.s[sc.i] == '\\':
			sc.i++
			if !sc.eof() && sc.s[sc.i] == '\n' {
				sc.line++
			}
			sc.i++
		case sc.s[sc.i] == '\n':
			sc.line++
			sc.i++
		default:
			sc.i++
		}
	}
}

// value skips one value, indexing the keys of inline tables and the items
// of arrays under path.
func (sc *tomlScanner) value(path []string, depth int) {
	sc.skipBlank()
	if sc.eof() || depth > 128 {
		return
	}
	switch {
	case strings.HasPrefix(sc.s[sc.i:], `"""`):
		sc.multiline(`"""`, true)
	case strings.HasPrefix(sc.s[sc.i:], `'''`):
		sc.multiline(`'''`, false)
	case sc.s[sc.i] == '"':
		sc.quoted('"', true)
	case sc.s[sc.i] == '\'':
		sc.quoted('\'', false)
	case sc.s[sc.i] == '[':
		sc.i++
		for idx := 0; ; idx++ {
			sc.skipBlankLines()
			if sc.eof() || sc.s[sc.i] == ']' {
				break
			}
			item := append(path[:len(path):len(path)], "["+strconv.Itoa(idx)+"]")
			sc.ix.setOnce(item, sc.line)
			start := sc.i
			sc.value(item, depth+1)
			sc.skipBlankLines()
			if sc.peek() != ',' || sc.i == start {
				break
			}
			sc.i++
		}
		if sc.peek() == ']' {
			sc.i++
		}
	case sc.s[sc.i] == '{':
		sc.i++
		for {
			sc.skipBlankLines()
			if sc.eof() || sc.s[sc.i] == '}' {
				break
			}
			line := sc.line
			key := sc.key()
			sc.skipBlank()
			if len(key) == 0 || sc.peek() != '=' {
				break
			}
			sc.i++
			sc.value(sc.record(path, key, line), depth+1)
			sc.skipBlankLines()
			if sc.peek() != ',' {
				break
			}
			sc.i++
		}
		if sc.peek() == '}' {
			sc.i++
		}
	default: // number, bool, date-time
		for !sc.eof() && !strings.ContainsRune(",]}#\n", rune(sc.s[sc.i])) {
			sc.i++
		}
	}
}
