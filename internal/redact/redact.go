// Package redact is the one place where secrets are taken out of
// configuration before it is shown (the API, logs, error messages).
//
// What is secret is said once, on the configuration types: a field tagged
// `loggable:"false"` (Traefik's tag) is replaced by Marker. Maps keyed by
// strings (custom headers, plugin configurations) are judged by their keys:
// an entry whose key looks like a secret (SecretName: Authorization,
// password, token, apiKey...) is replaced too. TestConfigTypesRedacted
// walks every configuration type and fails when a field whose name looks
// like a secret is not tagged, so a new option cannot leak by omission.
// Any string that is a URL with a password (a server at
// http://user:pass@host) shows the password as "xxxxx".
package redact

import (
	"net/url"
	"reflect"
	"strings"
)

// Marker replaces every redacted value.
const Marker = "<redacted>"

// Copy returns a deep copy of v with every secret replaced by Marker; v is
// never modified. Unexported fields are copied as they are.
func Copy[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	out := reflect.New(rv.Type()).Elem()
	copyValue(out, rv, false)
	return out.Interface().(T)
}

// SecretName reports whether a key or field name looks like it holds a
// secret: password, passwd, secret, token, credential(s), authorization,
// cookie, apikey, privatekey, hmac, users, or a name that is or ends with
// "key" (but not the known non-secret keys: keyType, publicKey, rootKey,
// hashKey...).
func SecretName(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "", "_", "", ".", "", " ", "").Replace(n)
	for _, s := range []string{"password", "passwd", "secret", "token", "credential", "authorization",
		"cookie", "apikey", "privatekey", "hmac", "bearer"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	switch n {
	case "users", "key", "kid", "auth", "pass", "pwd":
		return true
	}
	if strings.HasSuffix(n, "key") {
		switch n {
		case "publickey", "rootkey", "hashkey", "sortkey", "querykey", "headerkey", "cachekey":
			return false
		}
		return true
	}
	return false
}

// Text returns "key=value" for an error or a log line, with the value
// replaced by Marker when the key (its last dotted segment) names a secret.
// A numeric last segment (a list index: users.0) is skipped.
func Text(key, value string) string {
	segs := strings.Split(key, ".")
	for i := len(segs) - 1; i >= 0; i-- {
		s := strings.Trim(segs[i], "[]")
		if s == "" || strings.Trim(s, "0123456789") == "" {
			continue
		}
		if SecretName(s) {
			return key + "=" + Marker
		}
		break
	}
	return key + "=" + value
}

func copyValue(dst, src reflect.Value, secret bool) {
	if secret {
		redactValue(dst, src)
		return
	}
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem(), false)
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		inner := src.Elem()
		c := reflect.New(inner.Type()).Elem()
		copyValue(c, inner, false)
		dst.Set(c)
	case reflect.Struct:
		dst.Set(src) // unexported fields as they are
		t := src.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			copyValue(dst.Field(i), src.Field(i), f.Tag.Get("loggable") == "false")
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(s.Index(i), src.Index(i), false)
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			copyValue(dst.Index(i), src.Index(i), false)
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		byKey := src.Type().Key().Kind() == reflect.String
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, it.Value(), byKey && SecretName(it.Key().String()) && leaf(it.Value()))
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.String:
		dst.Set(src)
		if v := src.String(); strings.Contains(v, "://") && strings.Contains(v, "@") {
			dst.SetString(URL(v))
		}
	default:
		dst.Set(src)
	}
}

// URL returns s with the password of a URL's user information replaced
// (http://user:xxxxx@host/, as url.URL.Redacted does); anything that is not
// such a URL is returned as it is.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return u.Redacted()
}

// leaf: a map value judged by its key is redacted when it is a value (a
// string, number, list of them); a nested object is walked instead, so its
// own keys decide.
func leaf(v reflect.Value) bool {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	return v.Kind() != reflect.Map && v.Kind() != reflect.Struct
}

// redactValue stores in dst the redacted form of src: a non-empty string
// becomes Marker, a list keeps its length with each element redacted,
// anything else its zero value.
func redactValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.String:
		if src.Len() > 0 {
			dst.SetString(Marker)
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			redactValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		if src.Elem().Kind() == reflect.String {
			dst.Set(reflect.ValueOf(Marker))
			return
		}
		inner := src.Elem()
		c := reflect.New(inner.Type()).Elem()
		redactValue(c, inner)
		dst.Set(c)
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		redactValue(p.Elem(), src.Elem())
		dst.Set(p)
	default:
		// numbers, booleans, structs: nothing of them is shown
	}
}
