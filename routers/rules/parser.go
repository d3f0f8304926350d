package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a rule error with the byte offset where it was found.
type Error struct {
	Pos int    // byte offset in the rule, 0-based
	Msg string // what is wrong, without the position
}

func (e *Error) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Pos) }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Kind is the type of a Node.
type Kind uint8

// Node kinds.
const (
	KindMatcher Kind = iota // Name(Args...)
	KindAnd                 // Left && Right
	KindOr                  // Left || Right
	KindNot                 // !Left
)

// Node is one node of a rule's syntax tree.
type Node struct {
	Kind Kind
	Pos  int // byte offset of the matcher name or operator in the rule

	// KindMatcher: the matcher name as written (e.g. "Host", "pathprefix")
	// and its unquoted arguments.
	Name string
	Args []string

	// KindAnd, KindOr: both operands; KindNot: the operand in Left.
	Left, Right *Node
}

// Tree is a parsed rule. It says nothing about which matchers exist: the
// HTTP and TCP compilers each check the names they know.
type Tree struct {
	Rule string // the source text
	Root *Node
}

// maxDepth bounds nesting so that a hostile rule cannot exhaust the stack.
const maxDepth = 200

// Parse parses a rule in the Traefik v3 syntax: matcher calls with string
// arguments (`raw` or "interpreted", as Go literals), combined with !, &&,
// || and parentheses; ! binds tighter than &&, which binds tighter than ||.
func Parse(rule string) (*Tree, error) {
	p := parser{lex: lexer{src: rule}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, errorf(0, "empty rule")
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("'&&', '||' or end of rule")
	}
	return &Tree{Rule: rule, Root: root}, nil
}

// ParseSyntax parses a rule written in the given ruleSyntax. Only "v3" (and
// "", meaning the default) is supported.
func ParseSyntax(rule, syntax string) (*Tree, error) {
	switch syntax {
	case "", "v3":
		return Parse(rule)
	case "v2":
		return nil, fmt.Errorf("rule syntax %q is not supported: only v3 rules are (rewrite the rule, e.g. Host(`a`) || Host(`b`) instead of Host(`a`, `b`))", syntax)
	}
	return nil, fmt.Errorf("unknown rule syntax %q: only v3 is supported", syntax)
}

type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) error {
	return errorf(p.tok.pos, "unexpected %s, expected %s", p.tok.describe(), want)
}

func (p *parser) parseOr(depth int) (*Node, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = &Node{Kind: KindOr, Pos: pos, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int) (*Node, error) {
	left, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		left = &Node{Kind: KindAnd, Pos: pos, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseUnary(depth int) (*Node, error) {
	if depth > maxDepth {
		return nil, errorf(p.tok.pos, "rule nested too deeply")
	}
	switch p.tok.kind {
	case tokNot:
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		operand, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Node{Kind: KindNot, Pos: pos, Left: operand}, nil
	case tokLParen:
		open := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokRParen {
			return nil, errorf(p.tok.pos, "empty parentheses")
		}
		inner, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokEOF {
				return nil, errorf(open, "unclosed '('")
			}
			return nil, p.unexpected("'&&', '||' or ')'")
		}
		return inner, p.advance()
	case tokIdent:
		return p.parseMatcher()
	case tokEOF:
		return nil, errorf(p.tok.pos, "unexpected end of rule, expected a matcher, '!' or '('")
	}
	return nil, p.unexpected("a matcher, '!' or '('")
}

func (p *parser) parseMatcher() (*Node, error) {
	n := &Node{Kind: KindMatcher, Pos: p.tok.pos, Name: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokLParen {
		return nil, errorf(p.tok.pos, "unexpected %s after %s, expected '('", p.tok.describe(), n.Name)
	}
	open := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	for p.tok.kind != tokRParen {
		switch p.tok.kind {
		case tokString:
			n.Args = append(n.Args, p.tok.text)
		case tokEOF:
			return nil, errorf(open, "unclosed '(' of %s", n.Name)
		default:
			return nil, errorf(p.tok.pos, "unexpected %s in arguments of %s, expected a string", p.tok.describe(), n.Name)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tokComma: // a trailing comma is valid Go, hence valid in Traefik
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tokRParen:
		case tokEOF:
			return nil, errorf(open, "unclosed '(' of %s", n.Name)
		default:
			return nil, errorf(p.tok.pos, "unexpected %s in arguments of %s, expected ',' or ')'", p.tok.describe(), n.Name)
		}
	}
	return n, p.advance()
}

// String renders the tree as a rule that parses back to the same tree:
// minimal parentheses, arguments in backticks unless they need escaping.
func (t *Tree) String() string {
	if t == nil || t.Root == nil {
		return ""
	}
	var b strings.Builder
	t.Root.write(&b)
	return b.String()
}

// String renders the subtree as a rule.
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	switch n.Kind {
	case KindMatcher:
		b.WriteString(n.Name)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(a))
		}
		b.WriteByte(')')
	case KindNot:
		b.WriteByte('!')
		n.Left.writeOperand(b, KindNot)
	case KindAnd, KindOr:
		n.Left.writeOperand(b, n.Kind)
		if n.Kind == KindAnd {
			b.WriteString(" && ")
		} else {
			b.WriteString(" || ")
		}
		// The right operand of a left-associative chain needs parentheses
		// when it has the same operator, to keep the tree shape.
		if n.Right.Kind == n.Kind {
			b.WriteByte('(')
			n.Right.write(b)
			b.WriteByte(')')
			return
		}
		n.Right.writeOperand(b, n.Kind)
	}
}

// writeOperand writes n as an operand of parent, in parentheses when the
// operator binds looser than the parent.
func (n *Node) writeOperand(b *strings.Builder, parent Kind) {
	if bindsLooser(n.Kind, parent) {
		b.WriteByte('(')
		n.write(b)
		b.WriteByte(')')
		return
	}
	n.write(b)
}

func bindsLooser(child, parent Kind) bool {
	rank := func(k Kind) int {
		switch k {
		case KindOr:
			return 1
		case KindAnd:
			return 2
		}
		return 3
	}
	return rank(child) < rank(parent)
}

// quote renders s as a Go literal, preferring a raw string: raw strings
// cannot hold a backtick and drop carriage returns.
func quote(s string) string {
	if strings.ContainsAny(s, "`\r") {
		return strconv.Quote(s)
	}
	return "`" + s + "`"
}
