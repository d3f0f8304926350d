package http

import "testing"

// FuzzDecode feeds arbitrary answers to the decoder: it may refuse them,
// never panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(confA), "text/yaml")
	f.Add([]byte(`{"http":{"routers":{"j":{"rule":"Path(`+"`/j`"+`)","service":"s"}}}}`), "application/json")
	f.Add([]byte("tcp:\n  routers:\n    t:\n      rule: HostSNI(`*`)\n"), "")
	f.Add([]byte("http: {routers: {x: {rule: 1}}}"), "")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		if len(body) > 1<<16 {
			return
		}
		_, _ = Decode(body, ctype)
	})
}
