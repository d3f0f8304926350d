// Package k8s holds what every Kubernetes provider shares: the API client
// built from Traefik's connection options, endpoints from EndpointSlices,
// the throttled "rebuild and send whole configurations" loop, and leader
// election for status writes. Providers translate objects; this package
// talks to the API server.
package k8s

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// klog (client-go's logger) goes to our structured log, once.
var klogOnce sync.Once

// ClientOptions are the connection options all Kubernetes providers share,
// under Traefik's names.
type ClientOptions struct {
	// Endpoint is the API server URL; empty inside a cluster (the service
	// account is used) or with $KUBECONFIG set.
	Endpoint string
	// Token is a bearer token; inside a cluster the service account's.
	Token string
	// CertAuthFilePath is a CA bundle for the API server's certificate.
	CertAuthFilePath string
}

// userAgent names us in the API server's audit log.
const userAgent = "switchyard"

// RESTConfig resolves the options the way Traefik does: inside a cluster
// (KUBERNETES_SERVICE_HOST set) the service account, with Endpoint, Token
// and CertAuthFilePath overriding its parts; outside, $KUBECONFIG when
// Endpoint is empty, else Endpoint with the token and CA given.
func RESTConfig(o ClientOptions) (*rest.Config, error) {
	klogOnce.Do(func() { klog.SetSlogLogger(slog.Default().With("component", "client-go")) })
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != "":
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration: %w", err)
		}
		if o.Endpoint != "" {
			cfg.Host = o.Endpoint
		}
	case o.Endpoint == "" && os.Getenv("KUBECONFIG") != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", os.Getenv("KUBECONFIG"), err)
		}
	case o.Endpoint == "":
		return nil, errors.New("endpoint: required outside a cluster (or set KUBECONFIG)")
	default:
		cfg = &rest.Config{Host: o.Endpoint}
	}
	if o.Token != "" {
		cfg.BearerToken = o.Token
		cfg.BearerTokenFile = ""
	}
	if o.CertAuthFilePath != "" {
		if _, err := os.Stat(o.CertAuthFilePath); err != nil {
			return nil, fmt.Errorf("certAuthFilePath: %w", err)
		}
		cfg.CAFile = o.CertAuthFilePath
		cfg.CAData = nil
	}
	cfg.UserAgent = userAgent
	// Watches are long-lived; list bursts at start-up should not queue.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// NewClientset is RESTConfig followed by a typed clientset.
func NewClientset(o ClientOptions) (*kubernetes.Clientset, *rest.Config, error) {
	cfg, err := RESTConfig(o)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cs, cfg, nil
}
