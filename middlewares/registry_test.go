package middlewares

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestNew(t *testing.T) {
	tests := []struct {
		desc    string
		cfg     *dynamic.Middleware
		wantErr string
		is      error
	}{
		{desc: "nil", cfg: nil, wantErr: `middleware "m@file": no middleware type set`, is: ErrNoType},
		{desc: "empty", cfg: &dynamic.Middleware{}, wantErr: `middleware "m@file": no middleware type set`, is: ErrNoType},
		{desc: "empty plugin map", cfg: &dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{}}, is: ErrNoType},
		{desc: "two kinds", cfg: &dynamic.Middleware{StripPrefix: &dynamic.StripPrefix{}, Headers: &dynamic.Headers{FrameDeny: true}},
			wantErr: `middleware "m@file": more than one middleware type set: stripPrefix, headers`, is: ErrManyTypes},
		{desc: "chain", cfg: &dynamic.Middleware{Chain: &dynamic.Chain{Middlewares: []string{"a"}}}, is: ErrChain},
		{desc: "invalid basicAuth", cfg: &dynamic.Middleware{BasicAuth: &dynamic.BasicAuth{Users: []string{"u:p"}}},
			wantErr: `middleware "m@file": basicAuth: user "u": unsupported hash`},
		{desc: "plugin not supported", cfg: &dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"x": {}}},
			wantErr: `middleware "m@file": type "plugin" is not supported yet`, is: ErrNotSupported},
		{desc: "invalid options", cfg: &dynamic.Middleware{AddPrefix: &dynamic.AddPrefix{}},
			wantErr: `middleware "m@file": addPrefix: prefix cannot be empty`},
		{desc: "invalid regex", cfg: &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{Regex: "a(b"}},
			wantErr: `middleware "m@file": redirectRegex: regex "a(b"`},
		{desc: "stripPrefix", cfg: &dynamic.Middleware{StripPrefix: &dynamic.StripPrefix{Prefixes: []string{"/a"}}}},
		{desc: "basicAuth", cfg: &dynamic.Middleware{BasicAuth: &dynamic.BasicAuth{Users: []string{"u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="}}}},
		{desc: "ipAllowList", cfg: &dynamic.Middleware{IPAllowList: &dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}}}},
		{desc: "invalid ipAllowList", cfg: &dynamic.Middleware{IPAllowList: &dynamic.IPAllowList{}}, wantErr: `middleware "m@file": ipAllowList: sourceRange is empty`},
		{desc: "ipDenyList", cfg: &dynamic.Middleware{IPDenyList: &dynamic.IPDenyList{SourceRange: []string{"10.0.0.0/8"}}}},
		{desc: "rateLimit", cfg: &dynamic.Middleware{RateLimit: &dynamic.RateLimit{Average: 10}}},
		{desc: "invalid rateLimit", cfg: &dynamic.Middleware{RateLimit: &dynamic.RateLimit{Average: -1}}, wantErr: `middleware "m@file": rateLimit: average must not be negative`},
		{desc: "inFlightReq", cfg: &dynamic.Middleware{InFlightReq: &dynamic.InFlightReq{Amount: 1}}},
		{desc: "circuitBreaker", cfg: &dynamic.Middleware{CircuitBreaker: &dynamic.CircuitBreaker{Expression: "NetworkErrorRatio() > 0.5"}}},
		{desc: "invalid circuitBreaker", cfg: &dynamic.Middleware{CircuitBreaker: &dynamic.CircuitBreaker{Expression: "Nope()"}}, wantErr: `middleware "m@file": circuitBreaker: expression "Nope()"`},
		{desc: "buffering", cfg: &dynamic.Middleware{Buffering: &dynamic.Buffering{}}},
		{desc: "compress", cfg: &dynamic.Middleware{Compress: &dynamic.Compress{}}},
		{desc: "errors without resolver", cfg: &dynamic.Middleware{Errors: &dynamic.ErrorPage{Status: []string{"500"}, Service: "s"}}, wantErr: `middleware "m@file": errors: no service resolver`},
		{desc: "forwardAuth", cfg: &dynamic.Middleware{ForwardAuth: &dynamic.ForwardAuth{Address: "http://127.0.0.1:1/auth"}}},
		{desc: "retry", cfg: &dynamic.Middleware{Retry: &dynamic.Retry{Attempts: 2}}},
		{desc: "invalid retry", cfg: &dynamic.Middleware{Retry: &dynamic.Retry{}}, wantErr: `middleware "m@file": retry: attempts must be greater than 0`},
		{desc: "contentType", cfg: &dynamic.Middleware{ContentType: &dynamic.ContentType{}}},
		{desc: "passTLSClientCert", cfg: &dynamic.Middleware{PassTLSClientCert: &dynamic.PassTLSClientCert{PEM: true}}},
		{desc: "grpcWeb", cfg: &dynamic.Middleware{GrpcWeb: &dynamic.GrpcWeb{AllowOrigins: []string{"*"}}}},
		{desc: "addPrefix", cfg: &dynamic.Middleware{AddPrefix: &dynamic.AddPrefix{Prefix: "/a"}}},
		{desc: "stripPrefixRegex", cfg: &dynamic.Middleware{StripPrefixRegex: &dynamic.StripPrefixRegex{Regex: []string{"/a"}}}},
		{desc: "replacePath", cfg: &dynamic.Middleware{ReplacePath: &dynamic.ReplacePath{Path: "/a"}}},
		{desc: "replacePathRegex", cfg: &dynamic.Middleware{ReplacePathRegex: &dynamic.ReplacePathRegex{Regex: "^/a", Replacement: "/b"}}},
		{desc: "headers", cfg: &dynamic.Middleware{Headers: &dynamic.Headers{FrameDeny: true}}},
		{desc: "redirectScheme", cfg: &dynamic.Middleware{RedirectScheme: &dynamic.RedirectScheme{Scheme: "https"}}},
		{desc: "redirectRegex", cfg: &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{Regex: "^http://a/", Replacement: "http://b/"}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := New("m@file", tc.cfg)
			if tc.wantErr == "" && tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				h, err := c(http.NotFoundHandler())
				if err != nil || h == nil {
					t.Fatalf("constructor: %v", err)
				}
				if _, err := c(nil); err == nil {
					t.Error("nil next accepted")
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != "" && !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want prefix %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		cfg  *dynamic.Middleware
		want string
	}{
		{nil, ""},
		{&dynamic.Middleware{}, ""},
		{&dynamic.Middleware{StripPrefix: &dynamic.StripPrefix{}}, "stripprefix"},
		{&dynamic.Middleware{Headers: &dynamic.Headers{}}, "headers"},
		{&dynamic.Middleware{IPAllowList: &dynamic.IPAllowList{}}, "ipallowlist"},
		{&dynamic.Middleware{Chain: &dynamic.Chain{}}, "chain"},
		{&dynamic.Middleware{PassTLSClientCert: &dynamic.PassTLSClientCert{}}, "passtlsclientcert"},
		{&dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"MyPlugin": {}}}, "myplugin"},
		{&dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"a": {}, "b": {}}}, "plugin"},
	}
	for _, tc := range tests {
		if got := Kind(tc.cfg); got != tc.want {
			t.Errorf("Kind(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

// TestTableCoversAllKinds sets each field of dynamic.Middleware alone and
// checks the table knows it: a field added there needs a row in kinds.
func TestTableCoversAllKinds(t *testing.T) {
	typ := reflect.TypeFor[dynamic.Middleware]()
	if typ.NumField() != len(kinds) {
		t.Errorf("dynamic.Middleware has %d fields, the table %d rows", typ.NumField(), len(kinds))
	}
	for i := range typ.NumField() {
		var m dynamic.Middleware
		f := reflect.ValueOf(&m).Elem().Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.ValueOf("p"), reflect.Zero(f.Type().Elem()))
		}
		k, err := only(&m)
		if err != nil {
			t.Errorf("field %s: %v", typ.Field(i).Name, err)
			continue
		}
		if !strings.EqualFold(k.key, typ.Field(i).Name) {
			t.Errorf("field %s found as %q", typ.Field(i).Name, k.key)
		}
	}
}

func TestSupported(t *testing.T) {
	// Every kind but chain (the builder's) and plugin is implemented.
	got := strings.Join(Supported(), ",")
	var all []string
	for _, k := range kinds {
		if k.key != "chain" && k.key != "plugin" {
			all = append(all, k.key)
		}
	}
	if want := strings.Join(all, ","); got != want {
		t.Errorf("Supported() = %s, want %s", got, want)
	}
}

// TestChainOfKinds builds a small chain by hand the way the builder does.
func TestChainOfKinds(t *testing.T) {
	var cons []Constructor
	for _, cfg := range []*dynamic.Middleware{
		{StripPrefix: &dynamic.StripPrefix{Prefixes: []string{"/api"}}},
		{AddPrefix: &dynamic.AddPrefix{Prefix: "/v2"}},
		{Headers: &dynamic.Headers{CustomRequestHeaders: map[string]string{"X-A": "1"}, CustomResponseHeaders: map[string]string{"X-B": "2"}}},
	} {
		c, err := New("x@file", cfg)
		if err != nil {
			t.Fatal(err)
		}
		cons = append(cons, c)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path + " " + r.Header.Get("X-A") + " " + r.Header.Get("X-Forwarded-Prefix")))
	})
	for i := len(cons) - 1; i >= 0; i-- {
		var err error
		if h, err = cons[i](h); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/users", nil))
	if rec.Body.String() != "/v2/users 1 /api" || rec.Header().Get("X-B") != "2" {
		t.Fatalf("body %q headers %v", rec.Body.String(), rec.Header())
	}
}

func TestStateKeptAcrossBuilds(t *testing.T) {
	st := NewState()
	cfg := &dynamic.Middleware{RateLimit: &dynamic.RateLimit{Average: 1, Period: 3600_000_000_000, Burst: 1}}
	build := func(c *dynamic.Middleware) http.Handler {
		st.Begin()
		defer st.End()
		con, err := NewWith("rl@file", c, Deps{State: st})
		if err != nil {
			t.Fatal(err)
		}
		h, _ := con(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		return h
	}
	status := func(h http.Handler) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Code
	}
	if s := status(build(cfg)); s != 200 {
		t.Fatalf("first: %d", s)
	}
	// Same config, new generation: the bucket is still empty.
	if s := status(build(cfg)); s != 429 {
		t.Fatalf("after an equal reload: %d, want 429", s)
	}
	// Changed config: fresh bucket, the old one released.
	changed := &dynamic.Middleware{RateLimit: &dynamic.RateLimit{Average: 1, Period: 3600_000_000_000, Burst: 2}}
	if s := status(build(changed)); s != 200 {
		t.Fatalf("after a change: %d", s)
	}
	if st.Len() != 1 {
		t.Errorf("%d states kept, want 1", st.Len())
	}
	st.Begin()
	st.End()
	if st.Len() != 0 {
		t.Errorf("unused state not released")
	}
}

func TestTCPInFlightConnState(t *testing.T) {
	st := NewState()
	cfg := &dynamic.TCPInFlightConn{Amount: 1}
	st.Begin()
	a, err := st.TCPInFlightConn("c@file", cfg)
	st.End()
	if err != nil {
		t.Fatal(err)
	}
	st.Begin()
	b, _ := st.TCPInFlightConn("c@file", &dynamic.TCPInFlightConn{Amount: 1})
	st.End()
	if a != b {
		t.Error("limiter not kept across an equal build")
	}
	if _, err := st.TCPInFlightConn("d@file", &dynamic.TCPInFlightConn{}); err == nil {
		t.Error("amount 0 accepted")
	}
	var none *State
	if l, err := none.TCPInFlightConn("c@file", cfg); err != nil || l == nil {
		t.Error("nil State must build fresh")
	}
}

func TestErrorsUsesServiceResolver(t *testing.T) {
	var asked string
	deps := Deps{Service: func(name string) (http.Handler, error) {
		asked = name
		if name != "pages" {
			return nil, errors.New("no such service")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page " + r.URL.Path)) }), nil
	}}
	c, err := NewWith("e@file", &dynamic.Middleware{Errors: &dynamic.ErrorPage{Status: []string{"500-599"}, Service: "pages", Query: "/{status}"}}, deps)
	if err != nil || asked != "pages" {
		t.Fatalf("%v (asked %q)", err, asked)
	}
	h, _ := c(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 502 || rec.Body.String() != "page /502" {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
	if _, err := NewWith("e@file", &dynamic.Middleware{Errors: &dynamic.ErrorPage{Status: []string{"500"}, Service: "missing"}}, deps); err == nil ||
		!strings.Contains(err.Error(), "no such service") {
		t.Fatalf("missing service: %v", err)
	}
}
