package integration

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestKubeHarness checks the shared API server and the endpoint network:
// a backend in the namespace answers from the host, and an EndpointSlice
// with its address is accepted by the API server.
func TestKubeHarness(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	ns := k.Namespace(t)
	ip, port := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pod") }))
	k.ServiceWithEndpoints(t, ns, "web", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/", ip, port))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "pod" {
		t.Fatalf("backend answered %q", b)
	}
}
