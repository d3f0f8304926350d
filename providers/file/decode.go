package file

import (
	"bytes"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/Masterminds/sprig/v3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/filedecode"
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

// decodeContent decodes rendered content of the given extension (".yml",
// ".yaml", ".json" or ".toml") with Traefik's semantics. On failure it returns
// an *Error located at the offending line and key where they can be found.
// It also lists the top-level keys paerser drops silently (it only knows
// http, tcp, udp and tls), most likely typos, for a warning.
func decodeContent(path, ext, content string) (*dynamic.Configuration, []filedecode.Key, error) {
	el, ignored, err := filedecode.DecodeWithUnknownRootKeys(path, ext, content, func() any { return &dynamic.Configuration{} })
	if err != nil {
		return nil, nil, fromDecode(err)
	}
	return el.(*dynamic.Configuration).Normalize(), ignored, nil
}
