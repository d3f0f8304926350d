package filedecode

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3's parser is general (and keeps comments), hence slow: about 60%
// of decoding a file of 10,000 routers. Generated and hand-written
// configuration files mostly use a small subset of YAML: block mappings and
// sequences indented with spaces, one-line plain or quoted scalars, one-line
// flow lists of scalars, {}. parseYAMLSubset parses that subset into the
// node tree yaml.v3 would build (kinds, tags, styles, values, lines), with
// scalar tags resolved by yaml.v3 itself, and gives up on anything else
// (tabs, non-ASCII, anchors, tags, block scalars, multi-line scalars, flow
// mappings, documents markers...), which yaml.v3 then parses.

// maxSubsetKey is below libyaml's 1024-character limit on simple keys.
const maxSubsetKey = 1000

type subsetLine struct {
	num    int // 1-based
	indent int
	text   string // after the indentation
}

type subsetParser struct {
	lines []subsetLine
	i     int
	depth int
	slab  []yaml.Node // nodes are handed out of chunks: far fewer allocations
}

// node returns a new node holding n.
func (p *subsetParser) node(n yaml.Node) *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 256)
	}
	out := &p.slab[0]
	*out = n
	p.slab = p.slab[1:]
	return out
}

// parseYAMLSubset returns the root node of content (nil for a document
// without content) and ok, or ok=false when content is outside the subset.
func parseYAMLSubset(content string) (root *yaml.Node, ok bool) {
	for i := 0; i < len(content); i++ {
		if c := content[i]; (c < 0x20 || c > 0x7e) && c != '\n' {
			return nil, false // tabs, CR, control characters, non-ASCII
		}
	}
	p := &subsetParser{lines: make([]subsetLine, 0, strings.Count(content, "\n")+1)}
	num := 0
	for rest := content; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		num++
		text := strings.TrimLeft(line, " ")
		if text == "" || text[0] == '#' {
			continue
		}
		indent := len(line) - len(text)
		if indent == 0 && (strings.HasPrefix(text, "---") || strings.HasPrefix(text, "...") || text[0] == '%') {
			return nil, false
		}
		p.lines = append(p.lines, subsetLine{num: num, indent: indent, text: text})
	}
	if len(p.lines) == 0 {
		return nil, true
	}
	if p.lines[0].indent != 0 || isSeqEntry(p.lines[0].text) {
		return nil, false
	}
	root, ok = p.mapping(0)
	if !ok || p.i != len(p.lines) {
		return nil, false
	}
	return root, true
}

func isSeqEntry(text string) bool {
	return text == "-" || strings.HasPrefix(text, "- ")
}

// block parses the mapping or sequence starting at the current line.
func (p *subsetParser) block(indent int) (*yaml.Node, bool) {
	if isSeqEntry(p.lines[p.i].text) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

// mapping parses a block mapping whose keys are at column indent.
func (p *subsetParser) mapping(indent int) (*yaml.Node, bool) {
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	n := p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.lines[p.i].num, Column: indent + 1})
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent || isSeqEntry(l.text) {
			return nil, false
		}
		key, rest, ok := p.key(l.text)
		if !ok {
			return nil, false
		}
		key.Line, key.Column = l.num, indent+1
		var val *yaml.Node
		if rest == "" {
			p.i++
			if val, ok = p.nested(indent, l.num); !ok {
				return nil, false
			}
		} else {
			if val, ok = p.inline(rest, l.num, indent+1+len(l.text)-len(rest)); !ok {
				return nil, false
			}
			p.i++
			if p.i < len(p.lines) && p.lines[p.i].indent > indent {
				return nil, false // a continuation line, or an error
			}
		}
		n.Content = append(n.Content, key, val)
	}
	return n, true
}

// nested parses the value of a key with nothing after its colon: a block
// on the following lines (more indented, or a sequence at the key's own
// indentation), else null.
func (p *subsetParser) nested(indent, line int) (*yaml.Node, bool) {
	if p.i < len(p.lines) {
		next := p.lines[p.i]
		if next.indent > indent {
			return p.block(next.indent)
		}
		if next.indent == indent && isSeqEntry(next.text) {
			return p.sequence(indent)
		}
	}
	// yaml.v3 places an empty value where the key's line ends; only its
	// kind, tag and value matter here.
	return p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line}), true
}

// sequence parses a block sequence whose dashes are at column indent.
func (p *subsetParser) sequence(indent int) (*yaml.Node, bool) {
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	n := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.lines[p.i].num, Column: indent + 1})
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent || (l.indent == indent && !isSeqEntry(l.text)) {
			break
		}
		if l.indent > indent || l.text == "-" {
			return nil, false // a null item or an item on the next lines
		}
		rest := strings.TrimLeft(l.text[2:], " ")
		col := indent + len(l.text) - len(rest) // of rest, 0-based
		if rest == "" || rest[0] == '#' || isSeqEntry(rest) {
			return nil, false
		}
		if _, _, isKey := p.key(rest); isKey {
			// A mapping starting on the dash's line: its keys are at
			// the column of the first.
			p.lines[p.i] = subsetLine{num: l.num, indent: col, text: rest}
			item, ok := p.mapping(col)
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, item)
			continue
		}
		item, ok := p.inline(rest, l.num, col+1)
		if !ok {
			return nil, false
		}
		p.i++
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false
		}
		n.Content = append(n.Content, item)
	}
	return n, true
}

// key parses "key:" at the start of text: a plain key of common
// characters or a one-line quoted key, followed by a colon and a space or
// the end of the line. rest is what follows, without leading spaces, ""
// when only a comment follows.
func (p *subsetParser) key(text string) (key *yaml.Node, rest string, ok bool) {
	var after string
	switch c := text[0]; {
	case c == '"' || c == '\'':
		key, after, ok = p.quoted(text)
		if !ok {
			return nil, "", false
		}
	case isKeyStart(c):
		end := 1
		for end < len(text) && isKeyChar(text[end]) {
			end++
		}
		key = p.plain(text[:end])
		after = text[end:]
	default:
		return nil, "", false
	}
	if len(key.Value) > maxSubsetKey || after == "" || after[0] != ':' || (len(after) > 1 && after[1] != ' ') {
		return nil, "", false
	}
	rest = strings.TrimLeft(after[1:], " ")
	if rest != "" && rest[0] == '#' {
		rest = ""
	}
	return key, rest, true
}

func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '$'
}

func isKeyChar(c byte) bool {
	return isKeyStart(c) || c == '-' || c == '.' || c == '@' || c == '+'
}

// inline parses the value that ends a line: a quoted or plain scalar, a
// flow list of scalars or {}, with an optional comment after it.
func (p *subsetParser) inline(text string, line, col int) (*yaml.Node, bool) {
	var n *yaml.Node
	var after string
	switch c := text[0]; c {
	case '"', '\'':
		var ok bool
		if n, after, ok = p.quoted(text); !ok {
			return nil, false
		}
	case '[':
		var ok bool
		if n, after, ok = p.flowList(text); !ok {
			return nil, false
		}
	case '{':
		after = strings.TrimLeft(text[1:], " ")
		if after == "" || after[0] != '}' {
			return nil, false
		}
		after = after[1:]
		n = p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle})
	default:
		if !plainStart(text) {
			return nil, false
		}
		s := text
		if i := strings.Index(s, " #"); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimRight(s, " ")
		if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") {
			return nil, false // a key where the subset has none: let yaml.v3 say
		}
		n = p.plain(s)
		after = ""
	}
	// Only a comment may follow, after a space ("#" right after a value
	// is no comment).
	if trimmed := strings.TrimLeft(after, " "); trimmed != "" && (trimmed[0] != '#' || len(trimmed) == len(after)) {
		return nil, false
	}
	n.Line, n.Column = line, col
	for _, c := range n.Content { // flow list items
		c.Line = line
	}
	return n, true
}

// plainStart reports whether text can start a plain scalar of the subset.
func plainStart(text string) bool {
	switch text[0] {
	case '-':
		return len(text) > 1 && text[1] != ' '
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// plain is the node of a plain scalar, its tag resolved by yaml.v3.
func (p *subsetParser) plain(s string) *yaml.Node {
	n := p.node(yaml.Node{Kind: yaml.ScalarNode, Value: s})
	if s != "" && !strings.ContainsRune("+-0123456789yYnNtTfFoO~.", rune(s[0])) {
		// yaml.v3 resolves a scalar by its first character: these can
		// only be strings.
		n.Tag = "!!str"
	} else {
		n.Tag = n.ShortTag()
	}
	return n
}

// quoted parses a one-line quoted scalar at the start of text (double
// quotes with \" and \\ escapes only, or single quotes) and returns what
// follows it.
func (p *subsetParser) quoted(text string) (*yaml.Node, string, bool) {
	q := text[0]
	style := yaml.DoubleQuotedStyle
	if q == '\'' {
		style = yaml.SingleQuotedStyle
	}
	// Most quoted scalars hold no escape: their value is a substring.
	if end := strings.IndexByte(text[1:], q) + 1; end > 0 && strings.IndexByte(text[1:end], '\\') < 0 &&
		(q == '"' || end+1 >= len(text) || text[end+1] != '\'') {
		return p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: text[1:end]}), text[end+1:], true
	}
	var b strings.Builder
	for i := 1; i < len(text); i++ {
		c := text[i]
		switch {
		case c == q && q == '\'' && i+1 < len(text) && text[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == q:
			return p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: b.String()}), text[i+1:], true
		case c == '\\' && q == '"':
			if i+1 >= len(text) || (text[i+1] != '"' && text[i+1] != '\\') {
				return nil, "", false
			}
			b.WriteByte(text[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return nil, "", false // not closed on this line
}

// flowList parses a one-line flow sequence of scalars at the start of text
// and returns what follows it.
func (p *subsetParser) flowList(text string) (*yaml.Node, string, bool) {
	n := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle})
	rest := strings.TrimLeft(text[1:], " ")
	if rest != "" && rest[0] == ']' {
		return n, rest[1:], true
	}
	for {
		var item *yaml.Node
		switch {
		case rest == "":
			return nil, "", false
		case rest[0] == '"' || rest[0] == '\'':
			var ok bool
			if item, rest, ok = p.quoted(rest); !ok {
				return nil, "", false
			}
		default:
			end := strings.IndexAny(rest, ",]")
			if end <= 0 || !plainStart(rest) {
				return nil, "", false
			}
			s := strings.TrimRight(rest[:end], " ")
			if strings.ContainsAny(s, "[]{}#:") {
				return nil, "", false
			}
			item, rest = p.plain(s), rest[end:]
		}
		n.Content = append(n.Content, item)
		rest = strings.TrimLeft(rest, " ")
		switch {
		case rest == "":
			return nil, "", false
		case rest[0] == ']':
			return n, rest[1:], true
		case rest[0] != ',':
			return nil, "", false
		}
		rest = strings.TrimLeft(rest[1:], " ")
		if rest == "" || rest[0] == ']' || rest[0] == ',' {
			return nil, "", false // an empty item or a trailing comma
		}
	}
}
