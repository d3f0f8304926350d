package gwconformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Shims for the copy of the integration package's Kubernetes harness
// (kube_harness_test.go, copied unchanged but for its package name).

var (
	repoRoot   string
	afterAllMu sync.Mutex
	afterAll   []func()
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(filepath.Dir(wd))
	code := m.Run()
	afterAllMu.Lock()
	for i := len(afterAll) - 1; i >= 0; i-- {
		afterAll[i]()
	}
	afterAllMu.Unlock()
	os.Exit(code)
}

func atExit(f func()) {
	afterAllMu.Lock()
	afterAll = append(afterAll, f)
	afterAllMu.Unlock()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func cachedBuild(script string) (string, error) {
	cmd := exec.Command(script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s", filepath.Base(filepath.Dir(script)), err, tail(stderr.String(), 2000))
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return "", fmt.Errorf("%s printed no binary path", script)
	}
	return lines[len(lines)-1], nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
