package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// TestInit: every option is honoured or refused by name, and Init
// contacts nothing.
func TestInit(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", "")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	eps := map[string]*static.EntryPoint{"web": {Address: ":8000"}, "dns": {Address: ":53/udp"}}
	base := func() static.KubernetesGatewayProvider {
		return static.KubernetesGatewayProvider{Endpoint: "https://127.0.0.1:6443", CertAuthFilePath: ca}
	}
	tests := []struct {
		desc    string
		mod     func(*static.KubernetesGatewayProvider)
		wantErr string
	}{
		{"minimal", func(*static.KubernetesGatewayProvider) {}, ""},
		{"all options", func(c *static.KubernetesGatewayProvider) {
			c.Namespaces = []string{"a", "b"}
			c.LabelSelector = "team=edge"
			c.ThrottleDuration = ptypes.Duration(1e9)
			c.ExperimentalChannel = true
			c.NativeLBByDefault = true
			c.StatusAddress = &static.KubernetesGatewayStatusAddress{IP: "10.0.0.1", Hostname: "lb.example.com",
				Service: static.KubernetesGatewayServiceRef{Name: "switchyard", Namespace: "kube-system"}}
		}, ""},
		{"no endpoint outside a cluster", func(c *static.KubernetesGatewayProvider) { c.Endpoint = "" }, "endpoint"},
		{"bad endpoint", func(c *static.KubernetesGatewayProvider) { c.Endpoint = "not a url" }, "endpoint"},
		{"missing CA", func(c *static.KubernetesGatewayProvider) { c.CertAuthFilePath = "/nonexistent/ca" }, "certAuthFilePath"},
		{"negative throttle", func(c *static.KubernetesGatewayProvider) { c.ThrottleDuration = -1 }, "throttleDuration"},
		{"bad namespace", func(c *static.KubernetesGatewayProvider) { c.Namespaces = []string{"Not_A_Label"} }, "namespaces"},
		{"bad label selector", func(c *static.KubernetesGatewayProvider) { c.LabelSelector = "a in (" }, "labelSelector"},
		{"bad status ip", func(c *static.KubernetesGatewayProvider) {
			c.StatusAddress = &static.KubernetesGatewayStatusAddress{IP: "10.0.0.300"}
		}, "statusAddress.ip"},
		{"bad status hostname", func(c *static.KubernetesGatewayProvider) {
			c.StatusAddress = &static.KubernetesGatewayStatusAddress{Hostname: "Bad_Host"}
		}, "statusAddress.hostname"},
		{"service name without namespace", func(c *static.KubernetesGatewayProvider) {
			c.StatusAddress = &static.KubernetesGatewayStatusAddress{Service: static.KubernetesGatewayServiceRef{Name: "x"}}
		}, "statusAddress.service"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c := base()
			tc.mod(&c)
			p := New(c, eps)
			err := p.Init()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Init: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Init error %v, want one naming %q", err, tc.wantErr)
			}
			if err == nil {
				if len(p.opts.EntryPoints) != 2 || p.opts.EntryPoints[0].Name != "dns" || !p.opts.EntryPoints[0].UDP || p.opts.EntryPoints[1].Port != 8000 {
					t.Errorf("entrypoints %+v", p.opts.EntryPoints)
				}
			}
		})
	}
	// A token given as a file path is read from the file.
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := base()
	c.Token = tok
	p := New(c, eps)
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if p.rest.BearerToken != "secret-token" {
		t.Errorf("token from file: %q", p.rest.BearerToken)
	}
}
