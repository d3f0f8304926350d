package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
)

func TestTLSCertificates(t *testing.T) {
	h := New(nil, Version{})
	if rec := do(h, http.MethodGet, "/api/tls/certificates"); rec.Code != 200 || rec.Body.String() != "[]\n" {
		t.Fatalf("empty: %d %q", rec.Code, rec.Body.String())
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rt := runtime.New(&dynamic.Configuration{})
	rt.TLSCertificates = []runtime.TLSCertificateInfo{
		{Names: []string{"a.example.com", "www.a.example.com"}, NotAfter: exp, Stores: []string{"default"}, Issuer: "CN=Pebble Intermediate CA", Resolver: "le"},
		{Names: []string{"b.test"}, NotAfter: exp, Stores: []string{"default"}},
	}
	rt.TLSErrors = []string{`certResolver "le": order failed`}
	h.Update(rt)

	tests := []struct {
		path string
		want string
	}{
		{"/api/tls/certificates", `[{"names":["a.example.com","www.a.example.com"],"notAfter":"2030-01-02T03:04:05Z","stores":["default"],"issuer":"CN=Pebble Intermediate CA","resolver":"le"},{"names":["b.test"],"notAfter":"2030-01-02T03:04:05Z","stores":["default"]}]`},
	}
	for _, tt := range tests {
		rec := do(h, http.MethodGet, tt.path)
		if rec.Code != 200 || rec.Body.String() != tt.want+"\n" {
			t.Errorf("%s: %d\n got %s\nwant %s", tt.path, rec.Code, rec.Body.String(), tt.want)
		}
	}
	rec := do(h, http.MethodGet, "/api/rawdata")
	var raw struct {
		TLSCertificates []runtime.TLSCertificateInfo `json:"tlsCertificates"`
		TLSErrors       []string                     `json:"tlsErrors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.TLSCertificates) != 2 || raw.TLSCertificates[0].Resolver != "le" || raw.TLSCertificates[0].Issuer == "" || len(raw.TLSErrors) != 1 {
		t.Errorf("rawdata: %+v", raw)
	}
}
