package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestServicesDocs compiles every YAML block of docs/services.md that is a
// dynamic configuration with `switchyard check`, with a router added for each
// service so every service is really built (check only builds what routers
// use). Certificate paths are replaced by generated files.
func TestServicesDocs(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	data, err := os.ReadFile(filepath.Join("..", "docs", "services.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.HasPrefix(block, "http:") {
			blocks = append(blocks, block)
		}
	}
	if len(blocks) < 8 {
		t.Fatalf("found %d yaml blocks", len(blocks))
	}
	certDir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	pemPath := regexp.MustCompile(`/etc/switchyard/[a-z-]+\.pem`)
	for i, block := range blocks {
		e := newEnv(t)
		text := pemPath.ReplaceAllStringFunc(block, func(p string) string {
			dst := filepath.Join(certDir, filepath.Base(p))
			content := certPEM
			if strings.Contains(p, "key") {
				content = keyPEM
			}
			if err := os.WriteFile(dst, content, 0o600); err != nil {
				t.Fatal(err)
			}
			return dst
		})
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		httpSec := doc["http"].(map[string]any)
		routers, _ := httpSec["routers"].(map[string]any)
		if routers == nil {
			routers = map[string]any{}
			httpSec["routers"] = routers
		}
		svcs, _ := httpSec["services"].(map[string]any)
		for name := range svcs {
			routers["doc-"+name] = map[string]any{"rule": fmt.Sprintf("PathPrefix(`/%s`)", name), "service": name}
		}
		out, _ := yaml.Marshal(doc)
		dyn := filepath.Join(e.Dir, "dynamic.yml")
		if err := os.WriteFile(dyn, out, 0o644); err != nil {
			t.Fatal(err)
		}
		e.DynPath = dyn
		e.WriteStatic("yml", staticYAML)
		code, outText := runCmd(t, e.Dir, nil, 20*time.Second, "check", "--configFile="+e.StatPath)
		if code != 0 {
			t.Errorf("block %d:\n%s\ncheck: exit %d\n%s", i, block, code, outText)
		}
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "doc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, DNSNames: []string{"doc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
