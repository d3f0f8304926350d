package proxy

import (
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// TestBuildTLCPConfigRefusesTLSKeys: keys that only mean something for
// standard TLS are refused by name on a TLCP transport, never ignored.
func TestBuildTLCPConfigRefusesTLSKeys(t *testing.T) {
	tests := []struct {
		name string
		cfg  dynamic.ServersTransport
		want string
	}{
		{"minVersion", dynamic.ServersTransport{MinVersion: "VersionTLS12"}, "minVersion"},
		{"maxVersion", dynamic.ServersTransport{MaxVersion: "VersionTLS13"}, "maxVersion"},
		{"cipherSuites", dynamic.ServersTransport{CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}}, "cipherSuites"},
		{"unknown suite", dynamic.ServersTransport{TLCP: &dynamic.ServersTransportTLCP{Enabled: true, CipherSuites: []string{"NOPE"}}}, "tlcp.cipherSuites"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.TLCP == nil {
				cfg.TLCP = &dynamic.ServersTransportTLCP{Enabled: true}
			}
			_, err := buildTLCPConfig(&cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
	cfg := dynamic.ServersTransport{TLCP: &dynamic.ServersTransportTLCP{Enabled: true, CipherSuites: []string{"ECC_SM4_GCM_SM3"}}}
	if _, err := buildTLCPConfig(&cfg); err != nil {
		t.Fatalf("plain TLCP transport: %v", err)
	}
}
