package ingress

import "github.com/switchyard-proxy/switchyard/config/static"

func staticStrict() static.KubernetesIngressProvider {
	return static.KubernetesIngressProvider{StrictPrefixMatching: true}
}
