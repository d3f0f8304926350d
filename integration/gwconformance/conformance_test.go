package gwconformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"io/fs"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	"sigs.k8s.io/gateway-api/apis/v1beta1"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"
)

// TestGatewayConformance runs the Gateway API conformance suite (v1.6.3,
// profile GATEWAY-HTTP, core features) against the real switchyard binary
// and the real API server, with the stand-in playing the cluster's
// controllers and kubelet for the echo backends. Listener ports 80, 443
// and 8080 are entrypoints on 127.0.0.1; the Gateways' status address is
// 127.0.0.1. The report is written to $CONFORMANCE_REPORT when set.
func TestGatewayConformance(t *testing.T) {
	if os.Getenv("GATEWAY_CONFORMANCE") != "1" {
		t.Skip("set GATEWAY_CONFORMANCE=1 (binds 127.0.0.1:80, :443 and :8080; takes minutes)")
	}
	k := requireKube(t)
	kn := requireKubeNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := installCRDs(k); err != nil {
		t.Fatal(err)
	}
	startStandIn(ctx, t, k.Client, kn, "gateway-conformance")

	gc, err := client.New(k.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, add := range []func(*runtime.Scheme) error{v1alpha3.Install, v1alpha2.Install, v1beta1.Install, xv1alpha1.Install, gatev1.Install, apiextv1.AddToScheme} {
		if err := add(gc.Scheme()); err != nil {
			t.Fatal(err)
		}
	}
	class := &gatev1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "switchyard"}, Spec: gatev1.GatewayClassSpec{ControllerName: "traefik.io/gateway-controller"}}
	if err := gc.Create(ctx, class); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	// The real binary.
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchyard")
	build := exec.Command("go", "build", "-o", bin, "./cmd/switchyard")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	static := fmt.Sprintf(`entryPoints:
  web: {address: "127.0.0.1:80"}
  websecure: {address: "127.0.0.1:443"}
  web8080: {address: "127.0.0.1:8080"}
log: {level: %s}
providers:
  providersThrottleDuration: 100ms
  kubernetesGateway:
    endpoint: %q
    token: %q
    certAuthFilePath: %q
    statusAddress: {ip: "127.0.0.1"}
`, envOr("SWITCHYARD_LOG", "INFO"), k.URL, kubeAdminToken, k.CAFile)
	if err := os.WriteFile(filepath.Join(dir, "static.yml"), []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	sy := exec.Command(bin, "--configFile="+filepath.Join(dir, "static.yml"))
	sy.Stdout, sy.Stderr = out, out
	if err := sy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sy.Process.Kill()
		sy.Wait()
		if t.Failed() || os.Getenv("SWITCHYARD_OUTPUT") == "1" {
			t.Logf("switchyard output:\n%s", tail(out.String(), 20000))
		}
	})

	timeouts := config.DefaultTimeoutConfig()
	supported := []features.FeatureName{features.SupportGateway, features.SupportHTTPRoute, features.SupportReferenceGrant}
	if os.Getenv("CONFORMANCE_EXTENDED") == "1" {
		// The extended HTTP features the provider claims on its
		// GatewayClass (status.supportedFeatures).
		supported = append(supported,
			features.SupportGatewayPort8080, features.SupportHTTPRouteHostRewrite, features.SupportHTTPRouteMethodMatching,
			features.SupportHTTPRoutePathRedirect, features.SupportHTTPRoutePathRewrite, features.SupportHTTPRoutePortRedirect,
			features.SupportHTTPRouteQueryParamMatching, features.SupportHTTPRouteRequestMirror,
			features.SupportHTTPRouteResponseHeaderModification, features.SupportHTTPRouteSchemeRedirect)
	}
	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     "switchyard",
			CleanupBaseResources: false,
			CleanupTestResources: true,
			SupportedFeatures:    supported,
			TimeoutConfig:        timeouts,
			ConformanceProfiles:  []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName},
			Implementation: confv1.Implementation{
				Organization: "switchyard-proxy", Project: "switchyard",
				URL: "https://github.com/switchyard-proxy/switchyard", Version: "dev",
				Contact: []string{"https://github.com/switchyard-proxy/switchyard/issues"},
			},
			ReportOutputPath: os.Getenv("CONFORMANCE_REPORT"),
			RunTest:          os.Getenv("CONFORMANCE_RUN_TEST"),
			Mode:             "default",
			// Every Gateway of the suite is reached at 127.0.0.1:80 (one
			// entrypoint per port): tests running at once would see each
			// other's routes.
			DisableParallelTests: os.Getenv("CONFORMANCE_PARALLEL") != "1",
		},
		Client:     gc,
		Clientset:  k.Client,
		RestConfig: k.Config,
		ManifestFS: []fs.FS{&conformance.Manifests},
	}
	_ = sets.New[string]
	cs, err := suite.NewConformanceTestSuite(opts)
	if err != nil {
		t.Fatal(err)
	}
	if opts.ReportOutputPath != "" {
		t.Cleanup(func() {
			report, err := cs.Report()
			if err != nil {
				t.Errorf("report: %v", err)
				return
			}
			b, _ := yaml.Marshal(report)
			if err := os.WriteFile(opts.ReportOutputPath, b, 0o644); err != nil {
				t.Error(err)
			}
		})
	}
	start := time.Now()
	cs.Setup(t, tests.ConformanceTests)
	t.Logf("suite setup (base manifests, pods ready) took %v", time.Since(start).Round(time.Second))
	if err := cs.Run(t, tests.ConformanceTests); err != nil {
		t.Error(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func installCRDs(k *kubeCluster) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "gateway-api", "standard-install.yaml"))
	if err != nil {
		return err
	}
	ext, err := apiext.NewForConfig(k.Config)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var names []string
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return err
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		names = append(names, crd.Name)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range names {
		for {
			c, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, n, metav1.GetOptions{})
			if err == nil {
				ok := false
				for _, cd := range c.Status.Conditions {
					ok = ok || (cd.Type == apiextv1.Established && cd.Status == apiextv1.ConditionTrue)
				}
				if ok {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

var _ = strconv.Itoa
