package file

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/Masterminds/sprig/v3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/filedecode"
)

// templateFuncs are sprig's text functions plus the two Traefik adds.
// templateFuncs are the functions every render starts from; render adds
// the bounded generators (boundedFuncs).
var templateFuncs = func() template.FuncMap {
	m := sprig.TxtFuncMap()
	m["normalize"] = normalizeName
	m["split"] = strings.Split
	return m
}()

var (
	sprigUntil     = templateFuncs["until"].(func(int) []int)
	sprigUntilStep = templateFuncs["untilStep"].(func(int, int, int) []int)
	sprigSeq       = templateFuncs["seq"].(func(...int) string)
)

// boundedFuncs returns templateFuncs with sprig's generators (until,
// untilStep, seq, repeat) sharing one budget of maxTemplateCount elements
// for the whole render. They allocate their result before anything is
// written, so without it a few bytes of template (a range over until of a
// billion, or two nested ranges of a million) could ask for gigabytes or
// spin a core for hours.
func boundedFuncs() template.FuncMap {
	m := make(template.FuncMap, len(templateFuncs)+4)
	for k, v := range templateFuncs {
		m[k] = v
	}
	budget := maxTemplateCount
	spend := func(fn string, n int) error {
		if n < 0 {
			n = -n
		}
		if n > budget {
			return fmt.Errorf("%s: templates may generate at most %d elements in all", fn, maxTemplateCount)
		}
		budget -= n
		return nil
	}
	m["until"] = func(n int) ([]int, error) {
		if err := spend("until", n); err != nil {
			return nil, err
		}
		return sprigUntil(n), nil
	}
	m["untilStep"] = func(start, stop, step int) ([]int, error) {
		n := 0
		if step != 0 {
			n = (stop - start) / step
		}
		if err := spend("untilStep", n); err != nil {
			return nil, err
		}
		return sprigUntilStep(start, stop, step), nil
	}
	m["seq"] = func(params ...int) (string, error) {
		n := 0
		switch len(params) {
		case 1:
			n = params[0]
		case 2:
			n = params[1] - params[0]
		case 3:
			if params[1] != 0 {
				n = (params[2] - params[0]) / params[1]
			}
		}
		if err := spend("seq", n); err != nil {
			return "", err
		}
		return sprigSeq(params...), nil
	}
	m["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || len(s) > 0 && count > MaxFileSize/len(s) {
			return "", fmt.Errorf("repeat %d: the result would exceed %d bytes", count, MaxFileSize)
		}
		if err := spend("repeat", count); err != nil {
			return "", err
		}
		return strings.Repeat(s, count), nil
	}
	return m
}

// MaxFileSize bounds one configuration file, before and after its template
// is rendered, and the certificate and key files it names. Decoding takes
// about 40 times the file's size in memory at its peak (a 50 MB file of
// 720,000 routers took 1.9 GB): past this size a file is refused with an
// error naming it and the last good configuration keeps serving.
const MaxFileSize = 32 << 20

// maxTemplateCount bounds the lists sprig's generators may build.
const maxTemplateCount = 1_000_000

// limitedBuffer is a bytes.Buffer that refuses to grow past max.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

var errTooLarge = fmt.Errorf("rendered template larger than %d bytes", MaxFileSize)

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

func (b *limitedBuffer) WriteString(s string) (int, error) {
	if b.Len()+len(s) > b.max {
		return 0, errTooLarge
	}
	return b.Buffer.WriteString(s)
}

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
	tmpl, err := template.New(path).Funcs(boundedFuncs()).Parse(src)
	if err != nil {
		return "", templateError(path, err)
	}
	buf := limitedBuffer{max: MaxFileSize}
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
