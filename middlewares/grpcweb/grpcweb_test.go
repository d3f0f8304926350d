package grpcweb

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func frame(flag byte, payload string) []byte {
	b := make([]byte, 5)
	b[0] = flag
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

// backend plays a gRPC server: echoes the message and sets trailers.
var backend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/grpc+proto" || r.Header.Get("Te") != "trailers" || r.ProtoMajor != 2 {
		w.WriteHeader(400)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.Header().Set("Content-Type", "application/grpc+proto")
	w.WriteHeader(200)
	w.Write(body)
	w.Header().Set("Grpc-Status", "0")
	w.Header().Set("Grpc-Message", "ok")
})

func TestGrpcWeb(t *testing.T) {
	wrap, _ := Setup(&dynamic.GrpcWeb{AllowOrigins: []string{"https://app.example"}})
	h := wrap(backend)
	msg := frame(0, "hello")
	want := append(append([]byte{}, msg...), frame(0x80, "grpc-status: 0\r\ngrpc-message: ok\r\n")...)

	t.Run("binary", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/svc/Method", bytes.NewReader(msg))
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		req.Header.Set("Origin", "https://app.example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/grpc-web+proto" || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Fatalf("%d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" || rec.Header().Get("Trailer") != "" {
			t.Errorf("headers %v", rec.Header())
		}
	})
	t.Run("text", func(t *testing.T) {
		enc := base64.StdEncoding.EncodeToString(msg)
		req := httptest.NewRequest("POST", "/svc/Method", strings.NewReader(enc[:4]+"\r\n"+enc[4:]))
		req.Header.Set("Content-Type", "application/grpc-web-text+proto")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got, err := base64.StdEncoding.DecodeString(rec.Body.String())
		if err != nil || rec.Header().Get("Content-Type") != "application/grpc-web-text+proto" || !bytes.Equal(got, want) {
			t.Fatalf("%q %v", rec.Body.String(), err)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		req := httptest.NewRequest("OPTIONS", "/svc/Method", nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-grpc-web")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Headers") != "content-type,x-grpc-web" {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
	})
	t.Run("other origin preflight passes through", func(t *testing.T) {
		req := httptest.NewRequest("OPTIONS", "/", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "x-grpc-web")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("preflight of an unlisted origin answered")
		}
	})
	t.Run("plain request untouched", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 400 {
			t.Fatalf("%d", rec.Code)
		}
	})
}
