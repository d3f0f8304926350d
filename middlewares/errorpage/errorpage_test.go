package errorpage

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestParseRanges(t *testing.T) {
	r, err := ParseRanges([]string{"404", "500-502", "418,429"})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{404: true, 500: true, 501: true, 502: true, 503: false, 418: true, 429: true, 200: false} {
		if r.Contains(code) != want {
			t.Errorf("%d: %v", code, !want)
		}
	}
	for _, bad := range []string{"abc", "600", "500-400", "5-"} {
		if _, err := ParseRanges([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestErrors(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Page", "1")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "page %s %s", r.Method, r.URL.RequestURI())
	})
	tests := []struct {
		desc       string
		cfg        dynamic.ErrorPage
		code       int
		method     string
		wantStatus int
		wantBody   string
		wantHeader string // X-Backend header expected ("" = absent)
	}{
		{"caught", dynamic.ErrorPage{Status: []string{"500-599"}, Service: "s", Query: "/{status}.html"}, 502, "GET", 502, "page GET /502.html", ""},
		{"url placeholder", dynamic.ErrorPage{Status: []string{"404"}, Service: "s", Query: "/e?u={url}&s={status}"}, 404, "POST", 404, "page GET /e?u=%2Fa%3Fb%3Dc&s=404", ""},
		{"not caught", dynamic.ErrorPage{Status: []string{"500-599"}, Service: "s"}, 404, "GET", 404, "backend", "yes"},
		{"ok passes", dynamic.ErrorPage{Status: []string{"400-599"}, Service: "s"}, 200, "GET", 200, "backend", "yes"},
		{"rewrite", dynamic.ErrorPage{Status: []string{"500"}, StatusRewrites: map[string]int{"418": 400}, Service: "s", Query: "/{status}-{originalStatus}"}, 418, "GET", 400, "page GET /400-418", ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg, pages)
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Backend", "yes")
				w.WriteHeader(tc.code)
				w.Write([]byte("backend"))
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, "/a?b=c", nil))
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody || rec.Header().Get("X-Backend") != tc.wantHeader {
				t.Fatalf("got %d %q (X-Backend %q)", rec.Code, rec.Body.String(), rec.Header().Get("X-Backend"))
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	ok := http.NotFoundHandler()
	for _, tc := range []struct {
		cfg *dynamic.ErrorPage
		svc http.Handler
	}{
		{nil, ok},
		{&dynamic.ErrorPage{Status: []string{"500"}}, ok},
		{&dynamic.ErrorPage{Status: []string{"500"}, Service: "s"}, nil},
		{&dynamic.ErrorPage{Service: "s"}, ok},
		{&dynamic.ErrorPage{Status: []string{"x"}, Service: "s"}, ok},
		{&dynamic.ErrorPage{Status: []string{"500"}, Service: "s", StatusRewrites: map[string]int{"500": 9}}, ok},
		{&dynamic.ErrorPage{Status: []string{"500"}, Service: "s", RequestHeaders: map[string]string{"X Bad": "v"}}, ok},
		{&dynamic.ErrorPage{Status: []string{"500"}, Service: "s", RequestHeaders: map[string]string{"X-Ok": "a\nb"}}, ok},
	} {
		if _, err := Setup(tc.cfg, tc.svc); err == nil {
			t.Errorf("%+v accepted", tc.cfg)
		}
	}
}

func FuzzParseRanges(f *testing.F) {
	f.Add("500-599,404")
	f.Fuzz(func(t *testing.T, s string) { ParseRanges([]string{s}) })
}

// TestNGINXHeaders: ingress-nginx's custom-http-errors headers reach the
// error page service; the client gets the backend's status and the page.
func TestNGINXHeaders(t *testing.T) {
	var got http.Header
	var gotPath string
	svc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotPath = r.Header.Clone(), r.URL.Path
		fmt.Fprint(w, "custom page")
	})
	wrap, err := Setup(&dynamic.ErrorPage{Status: []string{"404", "503"}, Service: "default-backend", NGINXHeaders: true,
		RequestHeaders: map[string]string{"x-namespace": "ns", "X-Ingress-Name": "web", "X-Service-Name": "app", "X-Service-Port": "80"}}, svc)
	if err != nil {
		t.Fatal(err)
	}
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(w, "fine")
			return
		}
		http.Error(w, "backend 503", http.StatusServiceUnavailable)
	}))
	req := httptest.NewRequest("GET", "/missing/x?q=1", nil)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	want := map[string]string{"X-Code": "503", "X-Format": "application/json", "X-Original-Uri": "/missing/x?q=1",
		"X-Namespace": "ns", "X-Ingress-Name": "web", "X-Service-Name": "app", "X-Service-Port": "80"}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	if rec.Code != 503 || rec.Body.String() != "custom page" || gotPath != "/" {
		t.Errorf("answer %d %q, page path %q", rec.Code, rec.Body.String(), gotPath)
	}
	got = nil
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ok", nil))
	if rec.Code != 200 || rec.Body.String() != "fine" || got != nil {
		t.Errorf("not caught: %d %q", rec.Code, rec.Body.String())
	}
}

// TestErrorRequestHeaders: unset sends every request header to the page
// service, a list only those, an empty list none.
func TestErrorRequestHeaders(t *testing.T) {
	for _, tc := range []struct {
		keep []string
		want map[string]string
	}{
		{nil, map[string]string{"Authorization": "secret", "Cookie": "s=1", "Accept": "text/html"}},
		{[]string{"accept"}, map[string]string{"Authorization": "", "Cookie": "", "Accept": "text/html"}},
		{[]string{}, map[string]string{"Authorization": "", "Cookie": "", "Accept": ""}},
	} {
		var got http.Header
		svc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() })
		wrap, err := Setup(&dynamic.ErrorPage{Status: []string{"500"}, Service: "pages", ErrorRequestHeaders: tc.keep}, svc)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "secret")
		req.Header.Set("Cookie", "s=1")
		req.Header.Set("Accept", "text/html")
		wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })).ServeHTTP(httptest.NewRecorder(), req)
		for k, v := range tc.want {
			if got.Get(k) != v {
				t.Errorf("keep %v: %s = %q, want %q", tc.keep, k, got.Get(k), v)
			}
		}
	}
	if _, err := Setup(&dynamic.ErrorPage{Status: []string{"500"}, Service: "p", ErrorRequestHeaders: []string{"bad header"}}, http.NotFoundHandler()); err == nil {
		t.Error("invalid header name accepted")
	}
}
