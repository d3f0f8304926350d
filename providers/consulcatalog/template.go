package consulcatalog

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode"

	ptypes "github.com/traefik/paerser/types"

	"github.com/Masterminds/sprig/v3"
)

// Normalize replaces every run of characters other than letters and digits
// with one "-", as Traefik does for names used in rules and object names.
func Normalize(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsNumber(c)
	}), "-")
}

func compileRule(rule string) (*template.Template, error) {
	funcs := sprig.TxtFuncMap()
	funcs["normalize"] = Normalize
	t, err := template.New("defaultRule").Funcs(funcs).Parse(rule)
	if err != nil {
		return nil, fmt.Errorf("defaultRule %q: %w", rule, err)
	}
	return t, nil
}

// ruleData is what a defaultRule template sees.
type ruleData struct {
	Name   string
	Labels map[string]string
}

func renderRule(t *template.Template, d ruleData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

func ptypesDuration(d time.Duration) ptypes.Duration { return ptypes.Duration(d) }
