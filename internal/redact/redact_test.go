package redact

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

// notSecret lists fields whose names look like secrets but are not, each
// with the reason. Anything else whose name looks like a secret must be
// tagged loggable:"false".
var notSecret = map[string]string{
	"dynamic.ForwardAuth.AddAuthCookiesToResponse": "cookie names, not values",
	"dynamic.Headers.ProxyCookieDomain":            "a Set-Cookie Domain rewrite (ingress-nginx proxy-cookie-domain), not a cookie value",
	"dynamic.Headers.ProxyCookiePath":              "a Set-Cookie Path rewrite (ingress-nginx proxy-cookie-path), not a cookie value",
}

// TestConfigTypesRedacted walks every static and dynamic configuration
// type; a field whose name looks like a secret (SecretName on its Go or
// JSON name) must be tagged loggable:"false" or be listed above with a
// reason. A new option holding a password, token or key fails here until
// it is tagged.
func TestConfigTypesRedacted(t *testing.T) {
	bad, used, tagged, walked := audit(reflect.TypeOf(dynamic.Configuration{}), reflect.TypeOf(static.Configuration{}))
	for _, id := range bad {
		t.Errorf("%s looks like a secret: tag it loggable:\"false\" (or list it in notSecret with a reason)", id)
	}
	if walked < 50 || tagged < 10 {
		t.Fatalf("walked only %d types, %d tagged fields", walked, tagged)
	}
	for id := range notSecret {
		if !used[id] {
			t.Errorf("notSecret lists %s, which is no longer a secret-looking field: remove it", id)
		}
	}
	// The audit itself catches an untagged secret.
	type probe struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Nested   *struct {
			APIToken []string `json:"apiToken"`
		}
	}
	if bad, _, _, _ := audit(reflect.TypeOf(probe{})); len(bad) != 2 {
		t.Fatalf("audit of a probe with two untagged secrets found %v", bad)
	}
}

// audit walks types and returns the secret-looking fields without
// loggable:"false" (not excused by notSecret), the excuses used, the number
// of tagged fields and of struct types walked.
func audit(types ...reflect.Type) (bad []string, used map[string]bool, tagged, walked int) {
	seen := map[reflect.Type]bool{}
	used = map[string]bool{}
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice || tp.Kind() == reflect.Array || tp.Kind() == reflect.Map {
			if tp.Kind() == reflect.Map {
				walk(tp.Key())
			}
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || seen[tp] {
			return
		}
		seen[tp] = true
		for i := range tp.NumField() {
			f := tp.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Tag.Get("loggable") == "false" {
				tagged++
			}
			jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if (SecretName(f.Name) || SecretName(jsonName)) && f.Tag.Get("loggable") != "false" && canHold(f.Type) {
				id := tp.String() + "." + f.Name
				if _, ok := notSecret[id]; ok {
					used[id] = true
				} else {
					bad = append(bad, id)
				}
			}
			walk(f.Type)
		}
	}
	for _, tp := range types {
		walk(tp)
	}
	return bad, used, tagged, len(seen)
}

// canHold: only text can hold a secret (strings, lists and maps of them,
// interfaces); a boolean or a number named "credentials" cannot.
func canHold(tp reflect.Type) bool {
	for {
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			tp = tp.Elem()
		case reflect.Map:
			return true
		case reflect.String, reflect.Interface:
			return true
		case reflect.Struct:
			return false // walked on its own
		default:
			return false
		}
	}
}

func TestCopyRedacts(t *testing.T) {
	in := &dynamic.Middleware{
		BasicAuth: &dynamic.BasicAuth{Users: []string{"alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"}, Realm: "r"},
		Headers:   &dynamic.Headers{CustomRequestHeaders: map[string]string{"Authorization": "Bearer abc", "X-Plain": "v"}},
	}
	out := Copy(in)
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
	s := buf.String()
	for _, secret := range []string{"apr1", "Bearer abc"} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q in %s", secret, s)
		}
	}
	for _, kept := range []string{`"realm":"r"`, `"X-Plain":"v"`, Marker} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q missing from %s", kept, s)
		}
	}
	if in.BasicAuth.Users[0] == Marker || in.Headers.CustomRequestHeaders["Authorization"] != "Bearer abc" {
		t.Fatal("the original was modified")
	}
	plugin := map[string]any{"demo": map[string]any{"apiKey": "k1", "nested": map[string]any{"password": "p"}, "n": 1}}
	ps, _ := json.Marshal(Copy(plugin))
	if strings.Contains(string(ps), "k1") || strings.Contains(string(ps), `"p"`) || !strings.Contains(string(ps), `"n":1`) {
		t.Errorf("plugin config: %s", ps)
	}
}

func TestText(t *testing.T) {
	for k, want := range map[string]bool{
		"switchyard.http.middlewares.a.basicauth.users":                            true,
		"switchyard.http.middlewares.a.basicauth.users.0":                          true,
		"switchyard.http.routers.r.rule":                                           false,
		"switchyard.http.middlewares.a.headers.customrequestheaders.Authorization": true,
		"switchyard.http.middlewares.a.forwardauth.tls.key":                        true,
	} {
		if got := strings.Contains(Text(k, "v"), Marker); got != want {
			t.Errorf("Text(%q) redacted=%v", k, got)
		}
	}
}

func TestCopyRedactsURLPasswords(t *testing.T) {
	in := &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{
		{URL: "http://alice:s3cr3t@10.0.0.1:8080/x"}, {URL: "http://10.0.0.2"}, {URL: "http://bob@10.0.0.3"},
	}}}
	out := Copy(in)
	got := []string{out.LoadBalancer.Servers[0].URL, out.LoadBalancer.Servers[1].URL, out.LoadBalancer.Servers[2].URL}
	want := []string{"http://alice:xxxxx@10.0.0.1:8080/x", "http://10.0.0.2", "http://bob@10.0.0.3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if in.LoadBalancer.Servers[0].URL != "http://alice:s3cr3t@10.0.0.1:8080/x" {
		t.Fatal("the original was modified")
	}
}
