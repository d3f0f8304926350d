package rules

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokLParen
	tokRParen
	tokComma
	tokAnd
	tokOr
	tokNot
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of rule"
	case tokIdent:
		return "identifier"
	case tokString:
		return "string"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokComma:
		return "','"
	case tokAnd:
		return "'&&'"
	case tokOr:
		return "'||'"
	case tokNot:
		return "'!'"
	}
	return "token"
}

type token struct {
	kind tokenKind
	pos  int    // byte offset of the token in the rule
	text string // identifier name or the unquoted string value
}

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tokIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	}
	return t.kind.String()
}

// lexer splits a rule into tokens. Strings follow Go's literal syntax, as
// Traefik's rules are parsed as Go expressions: `raw` or "interpreted".
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[start]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tokLParen, pos: start}, nil
	case c == ')':
		l.pos++
		return token{kind: tokRParen, pos: start}, nil
	case c == ',':
		l.pos++
		return token{kind: tokComma, pos: start}, nil
	case c == '!':
		l.pos++
		return token{kind: tokNot, pos: start}, nil
	case c == '&' || c == '|':
		if start+1 < len(l.src) && l.src[start+1] == c {
			l.pos += 2
			if c == '&' {
				return token{kind: tokAnd, pos: start}, nil
			}
			return token{kind: tokOr, pos: start}, nil
		}
		return token{}, errorf(start, "unexpected %q (did you mean %q?)", string(c), string([]byte{c, c}))
	case c == '`':
		end := start + 1
		for end < len(l.src) && l.src[end] != '`' {
			end++
		}
		if end >= len(l.src) {
			return token{}, errorf(start, "unterminated string")
		}
		l.pos = end + 1
		s, err := strconv.Unquote(l.src[start:l.pos])
		if err != nil { // cannot happen for a well-delimited raw string
			return token{}, errorf(start, "invalid string literal")
		}
		return token{kind: tokString, pos: start, text: s}, nil
	case c == '"':
		end := start + 1
		for end < len(l.src) {
			b := l.src[end]
			if b == '"' || b == '\n' {
				break
			}
			if b == '\\' {
				end++
			}
			end++
		}
		if end >= len(l.src) || l.src[end] != '"' {
			return token{}, errorf(start, "unterminated string")
		}
		l.pos = end + 1
		s, err := strconv.Unquote(l.src[start:l.pos])
		if err != nil {
			return token{}, errorf(start, "invalid string literal %s", l.src[start:l.pos])
		}
		return token{kind: tokString, pos: start, text: s}, nil
	case c == '\'':
		return token{}, errorf(start, "single-quoted strings are not supported, use backticks or double quotes")
	case isIdentStart(c):
		end := start + 1
		for end < len(l.src) && isIdentPart(l.src[end]) {
			end++
		}
		l.pos = end
		return token{kind: tokIdent, pos: start, text: l.src[start:end]}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, errorf(start, "unexpected character %q", r)
}
