package gwconformance

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

type (
	kubeCluster = kubetest.Cluster
	kubeNet     = kubetest.Net
)

const kubeAdminToken = kubetest.AdminToken

var (
	kubeOnce    sync.Once
	kube        *kubeCluster
	kubeErr     error
	kubeNetOnce sync.Once
	kubeNetV    *kubeNet
	kubeNetErr  error
)

func requireKube(t testing.TB) *kubeCluster {
	t.Helper()
	kubeOnce.Do(func() {
		kube, kubeErr = kubetest.Start(repoRoot)
		if kubeErr == nil {
			atExit(kube.Stop)
		}
	})
	if kubeErr != nil {
		t.Fatalf("Kubernetes API server: %v", kubeErr)
	}
	return kube
}

func requireKubeNet(t testing.TB) *kubeNet {
	t.Helper()
	kubeNetOnce.Do(func() {
		kubeNetV, kubeNetErr = kubetest.NewNet()
		if kubeNetErr == nil {
			atExit(kubeNetV.Remove)
		}
	})
	if kubeNetErr != nil {
		t.Fatalf("test network namespace: %v", kubeNetErr)
	}
	return kubeNetV
}

func ptrTo[T any](v T) *T { return &v }

// The integration package's Kubernetes harness (integration/kubetest) under
// the names the integration tests use, and the little else they share.

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

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
