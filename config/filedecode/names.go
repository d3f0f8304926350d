package filedecode

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// spell renders a raw key path (keys as written in the file) with every
// struct field in its documented spelling (the json tag, e.g. "lifecycle"
// -> "lifeCycle"), as paerser matches fields case-insensitively. Map keys,
// list indexes and keys that match no field are kept as written.
func spell(t reflect.Type, path []string) []string {
	out := slices.Clone(path)
	for i, seg := range path {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil {
			break
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := findField(t, seg)
			if !ok {
				return out
			}
			out[i] = fieldName(f)
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		case reflect.Slice, reflect.Array:
			if !strings.HasPrefix(seg, "[") {
				return out
			}
			t = t.Elem()
		default:
			return out
		}
	}
	return out
}

// findField finds the field paerser decodes key into: exported, name equal
// ignoring case, looking into embedded structs.
func findField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if sf, ok := findField(f.Type, key); ok {
				return sf, true
			}
			continue
		}
		if strings.EqualFold(f.Name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldName is the documented name of a field: its json (or yaml, toml)
// tag name, else the Go name.
func fieldName(f reflect.StructField) string {
	for _, tag := range []string{"json", "yaml", "toml"} {
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		if name != "" && name != "-" {
			return name
		}
	}
	return f.Name
}

// rootFields lists the fields of the element's root the way paerser filters
// top-level keys: exported fields, embedded structs (or pointers to them)
// flattened. nil means the root is not a struct and paerser keeps every key.
func rootFields(t reflect.Type) []reflect.StructField {
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("file") == "-" {
			continue // file:"-": never read from files (dynamic.Configuration.Problems)
		}
		ft := f.Type
		if f.Anonymous && (ft.Kind() == reflect.Struct || ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct) {
			out = append(out, rootFields(ft)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

// mappingHint names the expected top-level keys when there are few
// ("http:, tcp:, udp:, tls:"), for a document that is not a mapping.
func mappingHint(t reflect.Type) string {
	fields := rootFields(t)
	if len(fields) == 0 || len(fields) > 5 {
		return ""
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = fieldName(f) + ":"
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// formatPath renders a key path as http.routers.web.rule or
// http.services.s.loadBalancer.servers[0].url; names holding a dot or a
// space are quoted.
func formatPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if strings.HasPrefix(p, "[") {
			b.WriteString(p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if p == "" || strings.ContainsAny(p, ". \t\"[]") {
			b.WriteString(strconv.Quote(p))
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}
