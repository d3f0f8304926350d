package file

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecode10000Routers decodes a file of 10,000 Host routers (the
// S5 scale case of the benchmark harness).
func BenchmarkDecode10000Routers(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("http:\n  routers:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "    r%d:\n      rule: \"Host(`h%d.example.com`)\"\n      service: app\n", i, i)
	}
	sb.WriteString("  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n")
	content := sb.String()
	b.ResetTimer()
	for b.Loop() {
		conf, _, err := decodeContent("/x.yml", ".yml", content)
		if err != nil || len(conf.HTTP.Routers) != 10000 {
			b.Fatalf("decode: %v", err)
		}
	}
}
