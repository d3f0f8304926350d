package integration

import (
	"os"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

// The Kubernetes API server and endpoint network shared by every
// Kubernetes test of the run (integration/kubetest); each test works in a
// namespace of its own.

type (
	kubeCluster  = kubetest.Cluster
	kubeNet      = kubetest.Net
	KubeEndpoint = kubetest.Endpoint
)

const (
	kubeAdminToken      = kubetest.AdminToken
	kubeSwitchyardToken = kubetest.SwitchyardToken
	kubeSwitchyardUser  = kubetest.SwitchyardUser
)

var (
	kubeOnce sync.Once
	kube     *kubeCluster
	kubeErr  error

	kubeNetOnce sync.Once
	kubeNetV    *kubeNet
	kubeNetErr  error
)

// requireKube starts the shared API server on first use. A missing etcd or
// an API server that cannot be built fails the test (make test installs
// both); KUBE_SKIP=1 skips instead, for quick local runs.
func requireKube(t testing.TB) *kubeCluster {
	t.Helper()
	kubeOnce.Do(func() {
		kube, kubeErr = kubetest.Start(repoRoot)
		if kubeErr == nil {
			atExit(kube.Stop)
		}
	})
	if kubeErr != nil {
		if os.Getenv("KUBE_SKIP") == "1" {
			t.Skipf("no Kubernetes API server: %v", kubeErr)
		}
		t.Fatalf("Kubernetes API server: %v", kubeErr)
	}
	return kube
}

// requireKubeNet creates the run's network namespace on first use.
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
