package compress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestChoose(t *testing.T) {
	def, _ := Setup(nil)
	_ = def
	tests := []struct {
		desc   string
		cfg    dynamic.Compress
		accept []string
		want   string
	}{
		{"none, no default", dynamic.Compress{}, nil, ""},
		{"none, default", dynamic.Compress{DefaultEncoding: "gzip"}, nil, "gzip"},
		{"gzip", dynamic.Compress{}, []string{"gzip"}, "gzip"},
		{"server order on tie", dynamic.Compress{}, []string{"zstd, br, gzip"}, "gzip"},
		{"custom order", dynamic.Compress{Encodings: []string{"gzip", "br"}}, []string{"br, gzip, zstd"}, "gzip"},
		{"q wins", dynamic.Compress{}, []string{"zstd;q=0.5, gzip;q=0.9"}, "gzip"},
		{"q=0 refuses", dynamic.Compress{}, []string{"gzip;q=0"}, ""},
		{"identity only", dynamic.Compress{}, []string{"identity"}, ""},
		{"star", dynamic.Compress{}, []string{"*"}, "gzip"},
		{"star uses default", dynamic.Compress{DefaultEncoding: "gzip"}, []string{"*"}, "gzip"},
		{"star but not gzip", dynamic.Compress{}, []string{"*, gzip;q=0"}, "br"},
		{"unknown only", dynamic.Compress{}, []string{"deflate"}, ""},
		{"several headers", dynamic.Compress{}, []string{"deflate", "br"}, "br"},
	}
	for _, tc := range tests {
		wrap, err := Setup(&tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := wrap(http.NotFoundHandler()).(*handler)
		if got := h.c.choose(tc.accept); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.desc, got, tc.want)
		}
	}
}

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.Compress{
		{Encodings: []string{"deflate"}},
		{DefaultEncoding: "br", Encodings: []string{"gzip"}},
		{IncludedContentTypes: []string{"a/b"}, ExcludedContentTypes: []string{"c/d"}},
		{ExcludedContentTypes: []string{";;"}},
		{MinResponseBodyBytes: -1},
	} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func decode(t *testing.T, enc string, b []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "gzip":
		gr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = gr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		return string(b)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestCompress(t *testing.T) {
	big := strings.Repeat("hello compression ", 200)
	tests := []struct {
		desc    string
		cfg     dynamic.Compress
		reqHdr  map[string]string
		method  string
		ct      string
		ce      string // Content-Encoding set by the backend
		status  int
		body    string
		wantEnc string
	}{
		{desc: "gzip", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: big, wantEnc: "gzip"},
		{desc: "br", reqHdr: map[string]string{"Accept-Encoding": "br"}, body: big, wantEnc: "br"},
		{desc: "zstd", reqHdr: map[string]string{"Accept-Encoding": "zstd"}, body: big, wantEnc: "zstd"},
		{desc: "small body", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: "tiny", wantEnc: ""},
		{desc: "min size option", cfg: dynamic.Compress{MinResponseBodyBytes: 2}, reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: "tiny", wantEnc: "gzip"},
		{desc: "already encoded", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, ce: "br", body: big, wantEnc: "br"},
		{desc: "range request", reqHdr: map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-10"}, body: big, wantEnc: ""},
		{desc: "partial content", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, status: 206, body: big, wantEnc: ""},
		{desc: "excluded type", cfg: dynamic.Compress{ExcludedContentTypes: []string{"text/event-stream"}}, ct: "text/event-stream; charset=utf-8",
			reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: big, wantEnc: ""},
		{desc: "not included type", cfg: dynamic.Compress{IncludedContentTypes: []string{"application/json"}}, ct: "text/plain",
			reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: big, wantEnc: ""},
		{desc: "included type", cfg: dynamic.Compress{IncludedContentTypes: []string{"application/json"}}, ct: "application/json",
			reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: big, wantEnc: "gzip"},
		{desc: "no accept-encoding", body: big, wantEnc: ""},
		{desc: "grpc response", ct: "application/grpc", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: big, wantEnc: ""},
		{desc: "sniffed type excluded", cfg: dynamic.Compress{ExcludedContentTypes: []string{"text/html"}},
			reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: "<html>" + big, wantEnc: ""},
		{desc: "sniffed type included", cfg: dynamic.Compress{IncludedContentTypes: []string{"text/html"}},
			reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: "<html>" + big, wantEnc: "gzip"},
		{desc: "default encoding", cfg: dynamic.Compress{DefaultEncoding: "br"}, body: big, wantEnc: "br"},
		{desc: "head", method: "HEAD", reqHdr: map[string]string{"Accept-Encoding": "gzip"}, body: "", wantEnc: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ct != "" {
					w.Header().Set("Content-Type", tc.ct)
				}
				if tc.ce != "" {
					w.Header().Set("Content-Encoding", tc.ce)
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				// Several writes, as a streaming backend does.
				for i := 0; i < len(tc.body); i += 100 {
					w.Write([]byte(tc.body[i:min(i+100, len(tc.body))]))
				}
			}))
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req := httptest.NewRequest(method, "/", nil)
			for k, v := range tc.reqHdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get("Content-Encoding"); got != tc.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEnc)
			}
			if tc.wantEnc != "" && tc.ce == "" {
				if rec.Header().Get("Content-Length") != "" || rec.Header().Get("Vary") != "Accept-Encoding" {
					t.Errorf("headers %v", rec.Header())
				}
			}
			if tc.ce != "" {
				return
			}
			if got := decode(t, tc.wantEnc, rec.Body.Bytes()); got != tc.body {
				t.Errorf("body differs after decoding (%d bytes vs %d)", len(got), len(tc.body))
			}
		})
	}
}

func TestNotTwice(t *testing.T) {
	wrap, _ := Setup(nil)
	big := strings.Repeat("x", 5000)
	h := wrap(wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := decode(t, "gzip", rec.Body.Bytes()); got != big {
		t.Fatalf("double compression or corruption")
	}
}

func TestFlushBeforeThreshold(t *testing.T) {
	wrap, _ := Setup(nil)
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "event: a\n\n")
		w.(http.Flusher).Flush()
		io.WriteString(w, "more")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "event: a\n\nmore" || !rec.Flushed {
		t.Fatalf("body %q flushed %v", rec.Body.String(), rec.Flushed)
	}
}

func FuzzChoose(f *testing.F) {
	wrap, _ := Setup(&dynamic.Compress{DefaultEncoding: "gzip"})
	c := wrap(http.NotFoundHandler()).(*handler).c
	f.Add("gzip;q=0.5, *;q=0.1, br")
	f.Fuzz(func(t *testing.T, s string) { c.choose([]string{s}) })
}

func TestAbortNotFinished(t *testing.T) {
	wrap, _ := Setup(&dynamic.Compress{MinResponseBodyBytes: 1})
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
		panic(http.ErrAbortHandler)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("panic %v not passed on", p)
			}
		}()
		h.ServeHTTP(rec, req)
	}()
	gr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err == nil {
		_, err = io.ReadAll(gr)
	}
	if err == nil {
		t.Fatal("an aborted response decoded as a complete gzip stream")
	}
}
