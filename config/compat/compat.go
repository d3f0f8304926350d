// Package compat is the table of how Switchyard treats each configuration
// option: every option of config/static and config/dynamic is either read
// by the code that acts on it or refused at load by name. A test walks both
// structs and enforces it; docs/compatibility.md is generated from the same
// table (go generate ./config/compat).
package compat

//go:generate go run ./gendoc -out ../../docs/compatibility.md -readme ../../README.md

import (
	"fmt"
	"reflect"
	"strings"
)

// Status is how Switchyard treats an option.
type Status string

const (
	// Supported options are honoured; an entry only adds a note.
	Supported Status = "supported"
	// Refused options are accepted by the decoder (Traefik has them) but
	// a configuration that sets them is rejected, naming the option.
	Refused Status = "refused"
	// Extension options are Switchyard's own (Traefik has no such option).
	Extension Status = "extension"
	// NoOp options are accepted and have no effect, as in Traefik itself
	// (deprecated or ignored there too); the note says why. The code may
	// still read them to warn.
	NoOp Status = "no-op"
)

// Entry is one row of a table. Key is an option path as Keys writes it
// ("entryPoints.<name>.observability.traceVerbosity"); an entry on a
// struct option covers every option under it.
type Entry struct {
	Key    string
	Status Status
	Note   string
	// Allow, for a refused option, is the one value still accepted (its
	// default, written as fmt.Sprint prints it): "v3" for
	// core.defaultRuleSyntax. Empty: only the zero value is accepted.
	Allow string
}

// Lookup returns the entry for path: its own or its nearest parent's.
func Lookup(table []Entry, path string) (Entry, bool) {
	best, found := Entry{}, false
	for _, e := range table {
		if covers(e.Key, path) && (!found || len(e.Key) > len(best.Key)) {
			best, found = e, true
		}
	}
	return best, found
}

func covers(entry, path string) bool {
	return entry == path || strings.HasPrefix(path, entry+".") || strings.HasPrefix(path, entry+"[n]") ||
		strings.HasPrefix(path, entry+".<name>")
}

// RefusedError is a refused option found set in a configuration.
type RefusedError struct {
	Key  string // the option as written, map keys filled in
	Note string
}

func (e *RefusedError) Error() string {
	msg := e.Key + ": not supported by Switchyard"
	if e.Note != "" {
		msg += " (" + e.Note + ")"
	}
	return msg
}

// CheckRefused walks v (a configuration struct or a pointer to one) and
// returns an error for every refused option of table that is set to
// anything but its zero value. Paths are prefixed by prefix.
func CheckRefused(v any, prefix string, table []Entry) []error {
	return CheckRefusedAt(v, prefix, prefix, table)
}

// CheckRefusedAt is CheckRefused for a value found under a map key:
// pattern is its table path ("http.middlewares.<name>"), concrete the one
// errors name ("http.middlewares.auth").
func CheckRefusedAt(v any, pattern, concrete string, table []Entry) []error {
	var refused []Entry
	for _, e := range table {
		if e.Status == Refused {
			refused = append(refused, e)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	var errs []error
	walkValue(reflect.ValueOf(v), pattern, concrete, refused, &errs)
	return errs
}

// walkValue descends v; pattern is the table form of the path, concrete
// the one a user reads (map keys and list indexes filled in).
func walkValue(v reflect.Value, pattern, concrete string, refused []Entry, errs *[]error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if !hasOptions(v.Type().Elem()) {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			walkValue(iter.Value(), pattern+".<name>", concrete+"."+fmt.Sprint(iter.Key().Interface()), refused, errs)
		}
	case reflect.Slice, reflect.Array:
		if !hasOptions(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			walkValue(v.Index(i), pattern+"[n]", fmt.Sprintf("%s[%d]", concrete, i), refused, errs)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, skip := fieldName(f)
			if skip {
				continue
			}
			if f.Anonymous && name == "" {
				walkValue(v.Field(i), pattern, concrete, refused, errs)
				continue
			}
			p, c := join(pattern, name), join(concrete, name)
			fv := v.Field(i)
			if e, ok := exact(refused, p); ok {
				if !fv.IsZero() && !allowed(fv, e.Allow) {
					*errs = append(*errs, &RefusedError{Key: c, Note: e.Note})
				}
				continue
			}
			if !anyUnder(refused, p) {
				continue
			}
			walkValue(fv, p, c, refused, errs)
		}
	}
}

func exact(table []Entry, path string) (Entry, bool) {
	for _, e := range table {
		if e.Key == path {
			return e, true
		}
	}
	return Entry{}, false
}

func anyUnder(table []Entry, path string) bool {
	for _, e := range table {
		if covers(path, e.Key) {
			return true
		}
	}
	return false
}

func allowed(v reflect.Value, allow string) bool {
	if allow == "" {
		return false
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	return fmt.Sprint(v.Interface()) == allow
}
