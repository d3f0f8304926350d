package file

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tenThousandRouters is a file of 10,000 Host routers (the S5 scale case
// of the benchmark harness).
func tenThousandRouters() string {
	var sb strings.Builder
	sb.WriteString("http:\n  routers:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "    r%d:\n      rule: \"Host(`h%d.example.com`)\"\n      service: app\n      entryPoints: [web, h2c]\n", i, i)
	}
	sb.WriteString("  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n")
	return sb.String()
}

// BenchmarkDecode10000Routers decodes a file of 10,000 Host routers.
func BenchmarkDecode10000Routers(b *testing.B) {
	content := tenThousandRouters()
	b.ResetTimer()
	for b.Loop() {
		conf, _, err := decodeContent("/x.yml", ".yml", content)
		if err != nil || len(conf.HTTP.Routers) != 10000 {
			b.Fatalf("decode: %v", err)
		}
	}
}

// BenchmarkLoad10000Routers is one read of the provider: file, template
// check, decode, merge.
func BenchmarkLoad10000Routers(b *testing.B) {
	path := filepath.Join(b.TempDir(), "dyn.yml")
	if err := os.WriteFile(path, []byte(tenThousandRouters()), 0o644); err != nil {
		b.Fatal(err)
	}
	ld := &loader{filename: path, log: slog.New(slog.DiscardHandler)}
	b.ResetTimer()
	for b.Loop() {
		res := ld.load()
		if len(res.errs) > 0 || len(res.conf.HTTP.Routers) != 10000 {
			b.Fatalf("load: %v", res.errs)
		}
	}
}

// Errors in a large file (decoded on the fast path) are located as in a
// small one.
func TestLargeFileErrors(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("http:\n  routers:\n")
	for i := range 2000 {
		fmt.Fprintf(&sb, "    r%d:\n      rule: \"Host(`h%d.example.com`)\"\n      service: app\n", i, i)
	}
	sb.WriteString("  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n")
	good := sb.String()
	tests := []struct{ name, from, to, want string }{
		{"unknown key", "    r1000:\n      rule:", "    r1000:\n      rul:", "/x.yml:3004: http.routers.r1000.rul: field not found"},
		{"bad value", "    r1000:\n      rule:", "    r1000:\n      priority: x\n      rule:", `/x.yml:3004: http.routers.r1000.priority: invalid integer "x"`},
		{"duplicate key", "    r1001:\n", "    r1000:\n", `/x.yml:3006: yaml: mapping key "r1000" already defined at line 3003`},
		{"null list item", "          - url: http://127.0.0.1:1\n", "          - url: http://127.0.0.1:1\n          -\n", "/x.yml:6008: http.services.app.loadBalancer.servers[1]: empty list item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(good, tt.from, tt.to, 1)
			if bad == good {
				t.Fatal("test document unchanged")
			}
			_, _, err := decodeContent("/x.yml", ".yml", bad)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
		})
	}
	conf, _, err := decodeContent("/x.yml", ".yml", good)
	if err != nil || len(conf.HTTP.Routers) != 2000 {
		t.Fatalf("good file: %v", err)
	}
}
