package forwardedheaders

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
)

func TestForwardedHeaders(t *testing.T) {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	for _, tc := range []struct {
		name       string
		insecure   bool
		trusted    []string
		connection []string
		remote     string
		host       string
		tls        bool
		in         http.Header
		want       map[string]string // "" means absent
	}{
		{
			name:   "untrusted client: incoming values replaced",
			remote: "10.0.0.1:1234", host: "example.com",
			in: http.Header{
				"X-Forwarded-For": {"1.1.1.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil"},
				"X-Forwarded-Port": {"1"}, "X-Real-Ip": {"6.6.6.6"}, "Forwarded": {"for=1.1.1.1"},
				"X-Forwarded-Uri": {"/x"}, "X-Forwarded-Tls-Client-Cert": {"c"}, "X_forwarded_for": {"2.2.2.2"},
				"X-Other": {"kept"},
			},
			want: map[string]string{
				"X-Forwarded-For": "", "X_forwarded_for": "", "Forwarded": "", "X-Forwarded-Uri": "",
				"X-Forwarded-Tls-Client-Cert": "", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "example.com",
				"X-Forwarded-Port": "80", "X-Real-Ip": "10.0.0.1", "X-Forwarded-Server": host, "X-Other": "kept",
			},
		},
		{
			name: "trusted CIDR keeps values", trusted: []string{"10.0.0.0/8"},
			remote: "10.0.0.1:1234", host: "example.com",
			in: http.Header{
				"X-Forwarded-For": {"1.1.1.1", "2.2.2.2"}, "X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host": {"front.example"}, "X-Real-Ip": {"1.1.1.1"}, "Forwarded": {"for=1.1.1.1"},
			},
			want: map[string]string{
				"X-Forwarded-For": "1.1.1.1, 2.2.2.2", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "front.example",
				"X-Forwarded-Port": "443", "X-Real-Ip": "1.1.1.1", "Forwarded": "for=1.1.1.1", "X-Forwarded-Server": host,
			},
		},
		{
			name: "trusted single IP, IPv6", trusted: []string{"::1"},
			remote: "[::1]:1234", host: "example.com:8443",
			in:   http.Header{"X-Forwarded-Proto": {"https"}},
			want: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443", "X-Real-Ip": "::1"},
		},
		{
			name: "untrusted: other IP", trusted: []string{"10.0.0.2"},
			remote: "10.0.0.1:1234", host: "example.com",
			in:   http.Header{"X-Forwarded-Proto": {"https"}},
			want: map[string]string{"X-Forwarded-Proto": "http"},
		},
		{
			name: "insecure trusts all", insecure: true,
			remote: "10.0.0.1:1234", host: "example.com",
			in:   http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Server": {"upstream"}},
			want: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Server": host},
		},
		{
			name:   "tls",
			remote: "10.0.0.1:1234", host: "example.com", tls: true,
			want: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
		},
		{
			name:   "websocket",
			remote: "10.0.0.1:1234", host: "example.com",
			in:   http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"websocket"}},
			want: map[string]string{"X-Forwarded-Proto": "ws", "Connection": "Upgrade", "Upgrade": "websocket"},
		},
		{
			name:   "websocket over tls",
			remote: "10.0.0.1:1234", host: "example.com", tls: true,
			in:   http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}},
			want: map[string]string{"X-Forwarded-Proto": "wss"},
		},
		{
			name:   "connection-listed headers removed, managed ones protected",
			remote: "10.0.0.1:1234", host: "example.com", trusted: []string{"10.0.0.1"},
			in: http.Header{
				"Connection": {"X-Hop, keep-alive, X-Forwarded-For"}, "X-Hop": {"1"}, "Keep-Alive": {"300"},
				"X-Forwarded-For": {"1.1.1.1"},
			},
			want: map[string]string{"Connection": "", "X-Hop": "", "Keep-Alive": "", "X-Forwarded-For": "1.1.1.1"},
		},
		{
			name:   "allowed connection headers stay listed",
			remote: "10.0.0.1:1234", host: "example.com", connection: []string{"x-keep"},
			in:   http.Header{"Connection": {"x-keep, x-drop"}, "X-Keep": {"1"}, "X-Drop": {"1"}},
			want: map[string]string{"Connection": "X-Keep", "X-Keep": "1", "X-Drop": ""},
		},
		{
			name:   "unparsable remote address",
			remote: "@", host: "example.com",
			want: map[string]string{"X-Real-Ip": "", "X-Forwarded-Proto": "http"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got http.Header
			h, err := New(tc.insecure, tc.trusted, tc.connection, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header
			}))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			req.Host = tc.host
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			req.Header = tc.in
			if req.Header == nil {
				req.Header = http.Header{}
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			for k, want := range tc.want {
				v, ok := got[k]
				if want == "" {
					if ok {
						t.Errorf("%s = %v, want absent", k, v)
					}
					continue
				}
				if !reflect.DeepEqual(v, []string{want}) {
					t.Errorf("%s = %v, want [%s]", k, v, want)
				}
			}
		})
	}
}

func TestBadTrustedIPs(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "not-an-ip", "1.2.3"} {
		if _, err := New(false, []string{s}, nil, http.NotFoundHandler()); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestIPv4MappedTrusted(t *testing.T) {
	h, _ := New(false, []string{"192.0.2.0/24"}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-Proto") != "https" {
			t.Errorf("mapped address not trusted: %v", r.Header)
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "[::ffff:192.0.2.7]:1"
	req.Header.Set("X-Forwarded-Proto", "https")
	h.ServeHTTP(httptest.NewRecorder(), req)
}

func TestAllocs(t *testing.T) {
	h, _ := New(false, []string{"10.0.0.0/8"}, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	n := testing.AllocsPerRun(100, func() {
		req.Header = http.Header{"User-Agent": {"x"}, "Connection": {"keep-alive"}, "Keep-Alive": {"1"}}
		h.ServeHTTP(w, req)
	})
	// The header map literal itself costs a few; the handler adds one (the values).
	base := testing.AllocsPerRun(100, func() {
		req.Header = http.Header{"User-Agent": {"x"}, "Connection": {"keep-alive"}, "Keep-Alive": {"1"}}
	})
	if n-base > 2 {
		t.Errorf("handler allocates %.0f times per request", n-base)
	}
}

func BenchmarkForwardedHeaders(b *testing.B) {
	h, _ := New(false, []string{"10.0.0.0/8"}, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	hdr := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		clear(hdr)
		hdr["User-Agent"] = nil
		hdr["X-Forwarded-For"] = nil
		req.Header = hdr
		h.ServeHTTP(w, req)
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"example.com": "", "example.com:8080": "8080", "[::1]:443": "443", "[::1]": "", "::1": "", "a:": "",
	} {
		if got := hostPort(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
