package labeled

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode"

	"github.com/Masterminds/sprig/v3"
)

// Normalize replaces every run of characters other than letters and digits
// with one "-", as Traefik does for names used in rules and object names.
func Normalize(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsNumber(c)
	}), "-")
}

// CompileRule compiles a defaultRule template (Go template with sprig's
// functions and normalize).
func CompileRule(rule string) (*template.Template, error) {
	funcs := sprig.TxtFuncMap()
	funcs["normalize"] = Normalize
	t, err := template.New("defaultRule").Funcs(funcs).Parse(rule)
	if err != nil {
		return nil, fmt.Errorf("defaultRule %q: %w", rule, err)
	}
	return t, nil
}

// RenderRule runs a compiled defaultRule on data (.Name, .Labels and what
// else the provider offers).
func RenderRule(t *template.Template, data any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
