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
