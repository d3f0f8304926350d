package accesslog

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard-proxy/switchyard/config/static"
)

var (
	clfTimeRe     = regexp.MustCompile(`\[[^\]]+\]`)
	clfDurationRe = regexp.MustCompile(` \d+ms$`)
)

// normCLF replaces the timestamp and duration, which tests cannot pin.
func normCLF(l string) string {
	l = clfTimeRe.ReplaceAllString(l, "[TS]")
	return clfDurationRe.ReplaceAllString(l, " Nms")
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// proxied acts like router + service + proxy: names, origin status.
func proxied(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		SetRouter(r, "whoami@file")
		SetService(r, "whoami@file", nil)
		SetService(r, "", mustURL("http://10.0.0.7:8080"))
		SetOriginStatus(r, status, int64(len(body)))
		SetOriginDuration(r, time.Millisecond)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestCLF(t *testing.T) {
	keepUA := &static.AccessLogFields{DefaultMode: "keep", Headers: &static.FieldHeaders{DefaultMode: "drop", Names: map[string]string{"User-Agent": "keep", "Referer": "redact"}}}
	tests := []struct {
		name   string
		fields *static.AccessLogFields
		req    func() *http.Request
		inner  http.HandlerFunc
		want   string
	}{
		{
			name:  "proxied request, headers dropped by default",
			req:   func() *http.Request { return httptest.NewRequest("GET", "http://example.com/api/v1?x=1&y=2", nil) },
			inner: proxied(200, "hello"),
			want:  `192.0.2.1 - - [TS] "GET /api/v1?x=1&y=2 HTTP/1.1" 200 5 "-" "-" 42 "whoami@file" "http://10.0.0.7:8080" Nms`,
		},
		{
			name: "user agent kept, referer redacted",
			req: func() *http.Request {
				r := httptest.NewRequest("POST", "/form", strings.NewReader("a=b"))
				r.Header.Set("User-Agent", `curl/8 "quoted"`)
				r.Header.Set("Referer", "https://ref.example/")
				return r
			},
			fields: keepUA,
			inner:  proxied(201, ""),
			want:   `192.0.2.1 - - [TS] "POST /form HTTP/1.1" 201 0 "REDACTED" "curl/8 \"quoted\"" 42 "whoami@file" "http://10.0.0.7:8080" Nms`,
		},
		{
			name: "no router matched: origin fields absent",
			req:  func() *http.Request { return httptest.NewRequest("GET", "/nowhere", nil) },
			inner: func(w http.ResponseWriter, r *http.Request) {
				http.NotFound(w, r)
			},
			want: `192.0.2.1 - - [TS] "GET /nowhere HTTP/1.1" - - "-" "-" 42 "-" "-" Nms`,
		},
		{
			name: "middleware answered: origin 0",
			req:  func() *http.Request { return httptest.NewRequest("GET", "/old", nil) },
			inner: func(w http.ResponseWriter, r *http.Request) {
				SetRouter(r, "redir@file")
				http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			},
			want: `192.0.2.1 - - [TS] "GET /old HTTP/1.1" 0 0 "-" "-" 42 "redir@file" "-" Nms`,
		},
		{
			name: "X-Forwarded-For is the client host; authenticated user",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("X-Forwarded-For", "203.0.113.9")
				return r
			},
			inner: func(w http.ResponseWriter, r *http.Request) {
				SetClientUsername(r, "alice")
				proxied(200, "")(w, r)
			},
			want: `203.0.113.9 - alice [TS] "GET / HTTP/1.1" 200 0 "-" "-" 42 "whoami@file" "http://10.0.0.7:8080" Nms`,
		},
		{
			name:   "dropped fields print as dashes",
			fields: &static.AccessLogFields{DefaultMode: "keep", Names: map[string]string{"RouterName": "drop", "ClientHost": "drop", "RequestPath": "drop", "OriginStatus": "drop", "RequestCount": "drop", "ServiceURL": "drop"}},
			req:    func() *http.Request { return httptest.NewRequest("GET", "/secret", nil) },
			inner:  proxied(200, "x"),
			want:   `- - - [TS] "GET - HTTP/1.1" - 1 "-" "-" - "-" "-" Nms`,
		},
		{
			name: "escaped path kept as sent",
			req:  func() *http.Request { return httptest.NewRequest("GET", "/a%20b/%7e!?q=%22", nil) },
			inner: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(204)
			},
			want: `192.0.2.1 - - [TS] "GET /a%20b/%7e!?q=%22 HTTP/1.1" - - "-" "-" 42 "-" "-" Nms`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			h := mustHandler(t, &static.AccessLog{Format: "common", Fields: tt.fields}, &buf)
			requestCount.Store(41)
			serve(h, "web", tt.req(), tt.inner)
			lines := buf.lines()
			if len(lines) != 1 {
				t.Fatalf("got %d lines: %q", len(lines), buf.String())
			}
			if got := normCLF(lines[0]); got != tt.want {
				t.Errorf("line\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCLFTimestamp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields *static.AccessLogFields
		utc    bool
	}{
		{"StartUTC by default", nil, true},
		{"StartLocal when StartUTC dropped", &static.AccessLogFields{Names: map[string]string{"StartUTC": "drop"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			h := mustHandler(t, &static.AccessLog{Fields: tc.fields}, &buf)
			before := time.Now()
			serve(h, "web", httptest.NewRequest("GET", "/", nil), func(http.ResponseWriter, *http.Request) {})
			m := clfTimeRe.FindString(buf.String())
			ts, err := time.Parse(clfTime, strings.Trim(m, "[]"))
			if err != nil {
				t.Fatalf("timestamp %q: %v", m, err)
			}
			if d := ts.Sub(before.Truncate(time.Second)); d < 0 || d > 5*time.Second {
				t.Errorf("timestamp %v far from %v", ts, before)
			}
			_, off := ts.Zone()
			_, localOff := before.Local().Zone()
			if tc.utc && off != 0 {
				t.Errorf("StartUTC written with offset %d", off)
			}
			if !tc.utc && off != localOff {
				t.Errorf("StartLocal offset %d, local is %d", off, localOff)
			}
		})
	}
	// Both dropped: "-".
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Fields: &static.AccessLogFields{Names: map[string]string{"StartUTC": "drop", "StartLocal": "drop"}}}, &buf)
	serve(h, "web", httptest.NewRequest("GET", "/", nil), func(http.ResponseWriter, *http.Request) {})
	if !strings.Contains(buf.String(), " [-] ") {
		t.Errorf("line = %q", buf.String())
	}
}

func decodeJSONLine(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	return m
}

func TestJSON(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json", Fields: &static.AccessLogFields{
		DefaultMode: "keep",
		Headers: &static.FieldHeaders{DefaultMode: "keep", Names: map[string]string{
			"Authorization": "redact", "Cookie": "drop", "X-Secret": "drop",
		}},
	}}, &buf)
	requestCount.Store(41)

	req := httptest.NewRequest("PUT", "http://api.example.com:8443/v1/items?id=7", strings.NewReader("0123456789"))
	req.RemoteAddr = "198.51.100.4:51234"
	req.Header.Set("Authorization", "Bearer xyz")
	req.Header.Set("Cookie", "c=1")
	req.Header.Add("Accept", "text/plain")
	req.Header.Add("Accept", "application/json")
	req.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
		PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: "alice", Organization: []string{"acme"}}}}}

	serve(h, "websecure", req, func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 4))
		SetRouter(r, "api@file")
		SetService(r, "api-svc@file", mustURL("http://10.1.2.3:9000"))
		IncRetry(r)
		SetOriginStatus(r, 200, 100)
		SetOriginDuration(r, time.Nanosecond)
		SetOriginHeaders(r, http.Header{"Content-Type": {"application/json"}, "X-Secret": {"s"}})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(make([]byte, 40))
	})

	lines := buf.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines", len(lines))
	}
	m := decodeJSONLine(t, lines[0])

	want := map[string]any{
		ClientAddr:                    "198.51.100.4:51234",
		ClientHost:                    "198.51.100.4",
		ClientPort:                    "51234",
		ClientUsername:                "-",
		DownstreamContentSize:         float64(40),
		DownstreamStatus:              float64(200),
		GzipRatio:                     2.5,
		OriginContentSize:             float64(100),
		OriginDuration:                float64(time.Nanosecond),
		OriginStatus:                  float64(200),
		RequestAddr:                   "api.example.com:8443",
		RequestContentSize:            float64(10), // Content-Length
		RequestCount:                  float64(42),
		RequestHost:                   "api.example.com",
		RequestMethod:                 "PUT",
		RequestPath:                   "/v1/items?id=7",
		RequestPort:                   "8443",
		RequestProtocol:               "HTTP/1.1",
		RequestScheme:                 "https",
		RetryAttempts:                 float64(1),
		RouterName:                    "api@file",
		ServiceAddr:                   "10.1.2.3:9000",
		ServiceName:                   "api-svc@file",
		ServiceURL:                    "http://10.1.2.3:9000",
		TLSCipher:                     "TLS_AES_128_GCM_SHA256",
		TLSClientSubject:              "CN=alice,O=acme",
		TLSVersion:                    "1.3",
		EntryPointName:                "websecure",
		"level":                       "info",
		"msg":                         "",
		"request_Authorization":       Redacted,
		"request_Accept":              "text/plain,application/json",
		"request_Content-Length":      nil, // httptest sets no header; ignore below
		"origin_Content-Type":         "application/json",
		"downstream_Content-Type":     "application/json",
		"downstream_Content-Encoding": "gzip",
	}
	delete(want, "request_Content-Length")
	for k, v := range want {
		got, ok := m[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	for _, k := range []string{"request_Cookie", "origin_X-Secret"} {
		if _, ok := m[k]; ok {
			t.Errorf("dropped header %s present", k)
		}
	}
	for _, k := range []string{Duration, Overhead} {
		if v, ok := m[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v", k, m[k])
		}
	}
	if m[Overhead].(float64) != m[Duration].(float64)-float64(time.Nanosecond) {
		t.Errorf("Overhead %v != Duration %v - OriginDuration", m[Overhead], m[Duration])
	}
	for _, k := range []string{StartUTC, StartLocal} {
		ts, err := time.Parse(time.RFC3339Nano, m[k].(string))
		if err != nil || time.Since(ts) > time.Minute {
			t.Errorf("%s = %v (%v)", k, m[k], err)
		}
	}
	if !strings.HasSuffix(m[StartUTC].(string), "Z") {
		t.Errorf("StartUTC not in UTC: %v", m[StartUTC])
	}
	if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}

	// Keys come out sorted, as Traefik's JSON writer sorts them.
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	_, _ = dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip any
		_ = dec.Decode(&skip)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Errorf("keys not sorted: %q before %q", keys[i-1], keys[i])
		}
	}
}

func TestJSONDefaults(t *testing.T) {
	// Traefik's default field set: every core field, no header.
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json"}, &buf)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("User-Agent", "x")
	serve(h, "web", req, proxied(200, "ok"))
	m := decodeJSONLine(t, buf.lines()[0])
	for _, k := range []string{ClientAddr, ClientHost, ClientPort, ClientUsername, DownstreamContentSize, DownstreamStatus,
		Duration, OriginContentSize, OriginDuration, OriginStatus, Overhead, RequestAddr, RequestContentSize,
		RequestCount, RequestHost, RequestMethod, RequestPath, RequestPort, RequestProtocol, RequestScheme,
		RetryAttempts, RouterName, ServiceAddr, ServiceName, ServiceURL, StartLocal, StartUTC, EntryPointName,
		"level", "msg", "time"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
	for k := range m {
		if strings.Contains(k, "_") {
			t.Errorf("header field %s logged by default", k)
		}
	}
	if m[RequestPort] != "-" || m[RequestHost] != "example.com" {
		t.Errorf("host without port: %v %v", m[RequestHost], m[RequestPort])
	}
	if _, ok := m[TLSVersion]; ok {
		t.Error("TLSVersion on a plain request")
	}
	if _, ok := m[GzipRatio]; ok {
		t.Error("GzipRatio when sizes are equal")
	}
}

func TestJSONFieldModes(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json", Fields: &static.AccessLogFields{
		DefaultMode: "drop",
		Names:       map[string]string{"RequestPath": "keep", "DownstreamStatus": "keep", "entryPointName": "keep"},
		Headers:     &static.FieldHeaders{DefaultMode: "redact", Names: map[string]string{"X-Keep": "keep"}},
	}}, &buf)
	req := httptest.NewRequest("GET", "/p", nil)
	req.Header.Set("X-Keep", "visible")
	req.Header.Set("X-Other", "hidden")
	serve(h, "web", req, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) })
	m := decodeJSONLine(t, buf.lines()[0])
	want := map[string]any{
		RequestPath: "/p", DownstreamStatus: float64(418), EntryPointName: "web",
		"request_X-Keep": "visible", "request_X-Other": Redacted,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for k := range m {
		if _, ok := want[k]; !ok && k != "level" && k != "msg" && k != "time" {
			t.Errorf("unexpected field %s", k)
		}
	}
}

func TestJSONAllFieldsDropped(t *testing.T) {
	var buf syncBuffer
	h := mustHandler(t, &static.AccessLog{Format: "json", Fields: &static.AccessLogFields{
		DefaultMode: "drop", Headers: &static.FieldHeaders{DefaultMode: "keep"},
	}}, &buf)
	serve(h, "web", httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("A", "1")
	})
	m := decodeJSONLine(t, buf.lines()[0])
	if len(m) != 4 || m["downstream_A"] != "1" || m["level"] != "info" {
		t.Errorf("line = %s", buf.String())
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "a\nb\tc\r\x00\x1f", "é漢字", "bad\xff\xfeutf8", "\u2028\u2029", "</script>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q → %s: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if s == "bad\xff\xfeutf8" {
			want = "bad\ufffd\ufffdutf8" // one replacement per bad byte, like encoding/json
		}
		if got != want {
			t.Errorf("round trip %q = %q", s, got)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b\\c\n\x00é\xff")
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("round trip %q = %q", s, got)
		}
	})
}

func TestAppendCLFStringEscapes(t *testing.T) {
	got := string(appendCLFString(nil, "a\"b\\c\nd\x7f", true))
	if want := `"a\"b\\c\x0ad\x7f"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := string(appendCLFString(nil, "", false)); got != "-" {
		t.Errorf("empty unquoted = %q", got)
	}
}

func TestPathAndURLParts(t *testing.T) {
	for _, raw := range []string{"/", "/a/b", "/a%20b", "/a%2Fb", "//double", "/x?y=1", "/x?", "/é", "/a:b", "/~u/$&+,;=@"} {
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			t.Fatal(err)
		}
		ld := &LogData{path: u.Path, rawPath: u.RawPath, rawQuery: u.RawQuery, forceQuery: u.ForceQuery}
		p, sep, q := pathParts(ld)
		want := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery}).String()
		if got := p + sep + q; got != want {
			t.Errorf("path %q: got %q, want %q", raw, got, want)
		}
	}
	for _, raw := range []string{"http://10.0.0.1:80", "https://[::1]:8443/base", "h2c://svc", "http://u:p@h/", "http://h/a b", "unix:///run/x.sock"} {
		u := mustURL(raw)
		// A password is never logged (u.Redacted: user:xxxxx@).
		if got := string(appendURL(nil, u, func(b []byte, s string) []byte { return append(b, s...) })); got != u.Redacted() {
			t.Errorf("url %q: got %q, want %q", raw, got, u.Redacted())
		}
	}
}
