package compat

import (
	"reflect"
	"strings"
)

// Key is one option of a configuration tree.
type Key struct {
	// Path is the option as a user writes it, dot separated, with <name>
	// for a map key and [n] for a list element: "entryPoints.<name>.address".
	Path string
	// Owner is the struct type declaring the field and Field its Go name:
	// together they say which code reads the option.
	Owner reflect.Type
	Field string
	// Leaf: the option holds a value (not a struct with options of its own).
	Leaf bool
}

// FieldID names the field as "import/path.Type.Field".
func (k Key) FieldID() string {
	return k.Owner.PkgPath() + "." + k.Owner.Name() + "." + k.Field
}

// Keys lists every option reachable from root (a struct type or a pointer
// to one), parents before their children. Fields a file cannot set
// (yaml:"-" or file:"-") are left out.
func Keys(root reflect.Type) []Key {
	var out []Key
	walkType(root, "", &out, map[reflect.Type]bool{})
	return out
}

func walkType(t reflect.Type, prefix string, out *[]Key, onPath map[reflect.Type]bool) {
	t = deref(t)
	if t.Kind() != reflect.Struct || onPath[t] {
		return
	}
	onPath[t] = true
	defer delete(onPath, t)
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
			walkType(f.Type, prefix, out, onPath) // fields inlined, as encoding/json
			continue
		}
		path := join(prefix, name)
		ft, sub := elemPath(f.Type, path)
		leaf := !hasOptions(ft)
		*out = append(*out, Key{Path: path, Owner: t, Field: f.Name, Leaf: leaf})
		if !leaf {
			walkType(ft, sub, out, onPath)
		}
	}
}

// elemPath goes through maps and lists of structs: the element type and
// the path its fields hang under.
func elemPath(t reflect.Type, path string) (reflect.Type, string) {
	for {
		t = deref(t)
		switch t.Kind() {
		case reflect.Map:
			if !hasOptions(t.Elem()) {
				return t, path
			}
			t, path = t.Elem(), path+".<name>"
		case reflect.Slice, reflect.Array:
			if !hasOptions(t.Elem()) {
				return t, path
			}
			t, path = t.Elem(), path+"[n]"
		default:
			return t, path
		}
	}
}

// hasOptions: t is a struct (maybe behind pointers, maps, lists) with at
// least one settable field.
func hasOptions(t reflect.Type) bool {
	t = deref(t)
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return hasOptions(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				if _, skip := fieldName(f); !skip {
					return true
				}
			}
		}
	}
	return false
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldName is the option name of f: its yaml, then json tag name, else
// the Go name with a lower-case first letter (as paerser).
func fieldName(f reflect.StructField) (name string, skip bool) {
	if f.Tag.Get("file") == "-" || f.Tag.Get("yaml") == "-" {
		return "", true
	}
	for _, tag := range []string{"yaml", "json"} {
		v, ok := f.Tag.Lookup(tag)
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(v, ",")
		if n == "-" {
			return "", true
		}
		if n != "" {
			return n, false
		}
		if strings.Contains(v, "inline") {
			return "", false
		}
	}
	if f.Anonymous {
		return "", false
	}
	return strings.ToLower(f.Name[:1]) + f.Name[1:], false
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
