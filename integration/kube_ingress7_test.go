package integration

import (
	"time"

	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

// TestKubeIngressDefaultClass runs on an API server of its own: a default
// IngressClass changes what every class-less Ingress of the cluster means
// (the DefaultIngressClass admission stamps it on new ones), which would
// disturb the other tests on the shared server. With ingressClass set to
// our class, as Traefik: an Ingress without class is served while our
// class carries ingressclass.kubernetes.io/is-default-class "true", and
// not once the default class is another controller's; Ingresses created
// meanwhile get the default class from the API server, served when it is
// ours and not when it is not.
func TestKubeIngressDefaultClass(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k, err := kubetest.Start(repoRoot)
	if err != nil {
		t.Fatalf("private API server: %v", err)
	}
	t.Cleanup(k.Stop) // runs after switchyard is stopped
	ns := k.Namespace(t)
	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	ke := startKubeIngress(t, k, []string{ns}, "", "")
	ctx := context.Background()
	ics := k.Client.NetworkingV1().IngressClasses()
	setDefault := func(name string, on bool) {
		t.Helper()
		ic, err := ics.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ic.Annotations == nil {
			ic.Annotations = map[string]string{}
		}
		if on {
			ic.Annotations["ingressclass.kubernetes.io/is-default-class"] = "true"
		} else {
			delete(ic.Annotations, "ingressclass.kubernetes.io/is-default-class")
		}
		if _, err := ics.Update(ctx, ic, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// create makes an Ingress without class (not through ke.apply, which
	// names the test's class) and returns the class the API server gave it.
	create := func(name, host string) string {
		t.Helper()
		ing := simpleIngress(name, host, "svc", 80)
		ing, err := k.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ing.Spec.IngressClassName == nil {
			return ""
		}
		return *ing.Spec.IngressClassName
	}

	// createExpect: the API server's default-class admission reads
	// IngressClasses from its own informer, which may not have seen the
	// update yet on a busy machine; an Ingress admitted before it did is
	// deleted and made again, until the deadline.
	createExpect := func(name, host, want string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			c := create(name, host)
			if c == want || time.Now().After(deadline) {
				return c
			}
			if err := k.Client.NetworkingV1().Ingresses(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			for { // wait until it is gone, so the name can be used again
				if _, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{}); err != nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// No default class yet: the Ingress stays class-less and, ingressClass
	// being set, is not ours. The marker (created after it, with our class)
	// being served shows the configuration includes it.
	if c := create("plain", "plain.example.com"); c != "" {
		t.Fatalf("class-less Ingress got class %q with no default class", c)
	}
	ke.apply(t, simpleIngress("marker", "marker.example.com", "svc", 80))
	ke.served(t, "/", "marker.example.com", "pod")
	ke.status(t, "/", "plain.example.com", 404)

	// Our class becomes the default: the class-less Ingress is served.
	setDefault(ke.class, true)
	ke.served(t, "/", "plain.example.com", "pod")
	// A new class-less Ingress is given our class by the API server.
	if c := createExpect("admitted", "admitted.example.com", ke.class); c != ke.class {
		t.Fatalf("Ingress created with our default class got class %q", c)
	}
	ke.served(t, "/", "admitted.example.com", "pod")

	// The default class is now another controller's: the class-less
	// Ingress is no longer ours, nor is one created now (it gets the other
	// class); the ones naming our class still serve.
	setDefault(ke.class, false)
	other := "other-" + ns
	ke.ingressClass(t, other, "example.com/other")
	setDefault(other, true)
	ke.status(t, "/", "plain.example.com", 404)
	if c := createExpect("late", "late.example.com", other); c != other {
		t.Fatalf("Ingress created with another default class got class %q", c)
	}
	ke.apply(t, simpleIngress("marker2", "marker2.example.com", "svc", 80))
	ke.served(t, "/", "marker2.example.com", "pod")
	ke.status(t, "/", "late.example.com", 404)
	ke.served(t, "/", "admitted.example.com", "pod")
	ke.served(t, "/", "marker.example.com", "pod")
}
