package crd

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd/api/v1alpha1"
)

// FuzzTranslate decodes arbitrary JSON into each kind, as the provider's
// unstructured conversion would, and translates it: nothing may panic.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		`{"metadata":{"name":"a","namespace":"default"},"spec":{"routes":[{"match":"Host(` + "`a`" + `)","services":[{"name":"whoami","port":80}],"middlewares":[{"name":"m"}]}],"tls":{"secretName":"cert","options":{"name":"o"}}}}`,
		`{"metadata":{"name":"m","namespace":"default"},"spec":{"basicAuth":{"secret":"ba"},"rateLimit":{"period":"1x"}}}`,
		`{"metadata":{"name":"t","namespace":"default"},"spec":{"weighted":{"services":[{"name":"whoami","port":"http"},{"name":"x@file","kind":"TraefikService"}]},"mirroring":{"name":"whoami","mirrors":[{"name":"ext","port":80}]}}}`,
		`{"metadata":{"name":"t","namespace":"other"},"spec":{"routes":[{"match":"HostSNI(` + "`*`" + `)","services":[{"name":"whoami","namespace":"default","port":80}]}],"tls":{"passthrough":true}}}`,
		`{"spec":{"forwardingTimeouts":{"dialTimeout":"2s","pingTimeout":3},"rootCAs":[{"secret":"cert"}],"certificatesSecrets":["cert"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs := &Objects{}
		decode := func(v any) bool { return json.Unmarshal(data, v) == nil }
		var (
			ir  v1alpha1.IngressRoute
			irt v1alpha1.IngressRouteTCP
			iru v1alpha1.IngressRouteUDP
			mw  v1alpha1.Middleware
			ts  v1alpha1.TraefikService
			to  v1alpha1.TLSOption
			st  v1alpha1.TLSStore
			tr  v1alpha1.ServersTransport
			trt v1alpha1.ServersTransportTCP
		)
		if decode(&ir) {
			objs.IngressRoutes = append(objs.IngressRoutes, &ir)
		}
		if decode(&irt) {
			objs.IngressRouteTCPs = append(objs.IngressRouteTCPs, &irt)
		}
		if decode(&iru) {
			objs.IngressRouteUDPs = append(objs.IngressRouteUDPs, &iru)
		}
		if decode(&mw) {
			objs.Middlewares = append(objs.Middlewares, &mw)
		}
		if decode(&ts) {
			objs.TraefikServices = append(objs.TraefikServices, &ts)
		}
		if decode(&to) {
			objs.TLSOptions = append(objs.TLSOptions, &to)
		}
		if decode(&st) {
			objs.TLSStores = append(objs.TLSStores, &st)
		}
		if decode(&tr) {
			objs.ServersTransports = append(objs.ServersTransports, &tr)
		}
		if decode(&trt) {
			objs.ServersTransportTCPs = append(objs.ServersTransportTCPs, &trt)
		}
		for _, o := range []Options{{}, {AllowCrossNamespace: true, AllowEmptyServices: true, AllowExternalNameServices: true, NativeLBByDefault: true}} {
			c, _ := Translate(objs, newFake(), o, nil)
			if c == nil {
				t.Fatal("nil configuration")
			}
		}
	})
}

// FuzzDuration: Kubernetes durations (integer seconds or Go durations)
// never panic, and an accepted string round-trips its sign.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"10s", "1m30s", "42", "-1", "", "1e9", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = duration(&intstr.IntOrString{Type: intstr.String, StrVal: s}, 0)
	})
}
