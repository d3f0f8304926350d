package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEdgeDocs runs `switchyard check` on every dynamic YAML block of the
// TLS, mTLS and TCP/UDP pages (certificate paths replaced by generated
// files; blocks with elided PEM "..." skipped), so their configs stay valid.
func TestEdgeDocs(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	ca := newCA(t, "docs CA")
	certPEM, keyPEM := ca.issue(t, "doc", []string{"doc"}, false)
	dir := t.TempDir()
	paths := regexp.MustCompile(`/etc/switchyard/[a-z-]+\.(crt|key|pem)`)
	n := 0
	for _, page := range []string{"tls.md", "mtls.md", "tcp-udp.md"} {
		data, err := os.ReadFile(filepath.Join("..", "docs", page))
		if err != nil {
			t.Fatal(err)
		}
		for i, part := range strings.Split(string(data), "```yaml\n")[1:] {
			block, _, _ := strings.Cut(part, "```")
			if strings.Contains(block, "...") || strings.HasPrefix(block, "entryPoints:") || strings.HasPrefix(block, "#") {
				continue
			}
			text := paths.ReplaceAllStringFunc(block, func(p string) string {
				content := certPEM
				if strings.HasSuffix(p, ".pem") {
					content = ca.PEM
				}
				if strings.HasSuffix(p, ".key") {
					content = keyPEM
				}
				return writeFile(t, dir, filepath.Base(p), content)
			})
			e := newEnv(t)
			e.DynPath = writeFile(t, e.Dir, "dynamic.yml", text)
			e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  websecure:
    address: "<% addr "websecure" %>"
  postgres:
    address: "<% addr "postgres" %>"
  dns:
    address: "<% addr "dns" %>/udp"
providers:
  file:
    filename: "<% dyn %>"
`)
			code, out := runCmd(t, e.Dir, nil, 20*time.Second, "check", "--configFile="+e.StatPath)
			if code != 0 {
				t.Errorf("%s block %d:\n%s\ncheck: exit %d\n%s", page, i, block, code, out)
			}
			n++
		}
	}
	if n < 8 {
		t.Fatalf("only %d blocks checked", n)
	}
}
