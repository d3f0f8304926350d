package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestKubeGatewayTLSAndTCP: an HTTPS listener terminating with a Secret's
// certificate (a TLS client with SNI verifies it), a TLS listener in
// passthrough mode on the same port with a TLSRoute (the client verifies
// the backend's own certificate), a TCP listener with a TCPRoute to a TCP
// echo, and an HTTPS listener whose Secret is missing (ResolvedRefs False,
// InvalidCertificateRef) while the others serve.
func TestKubeGatewayTLSAndTCP(t *testing.T) {
	s := newGatewaySetup(t)
	kn := requireKubeNet(t)
	e := newEnv(t)
	ca := newCA(t, "gateway test CA")
	ctx := context.Background()

	ip, port := gwEcho(t, kn, "secure")
	s.k.ServiceWithEndpoints(t, s.ns, "secure", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	crt, key := ca.issue(t, "secure.example", []string{"secure.example"}, false)
	if _, err := s.k.Client.CoreV1().Secrets(s.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "secure-cert"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: []byte(crt), corev1.TLSPrivateKeyKey: []byte(key)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Passthrough backend: TLS with its own certificate.
	pip := kn.NewIP(t)
	pln := kn.Listen(t, pip, 0)
	pcrt, pkey := ca.issue(t, "pass.example", []string{"pass.example"}, false)
	pair, err := tls.X509KeyPair([]byte(pcrt), []byte(pkey))
	if err != nil {
		t.Fatal(err)
	}
	psrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "passthrough backend") })}
	go psrv.Serve(tls.NewListener(pln, &tls.Config{Certificates: []tls.Certificate{pair}}))
	t.Cleanup(func() { psrv.Close() })
	s.k.ServiceWithEndpoints(t, s.ns, "pass", "https", 443, int32(pln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: pip, Ready: true})

	// TCP echo backend.
	tip := kn.NewIP(t)
	tln := kn.Listen(t, tip, 0)
	go func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "tcp echo: "+line)
			}()
		}
	}()
	s.k.ServiceWithEndpoints(t, s.ns, "echo", "tcp", 7000, int32(tln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: tip, Ready: true})

	gwStatic(e, s, `  websecure:
    address: "127.0.0.1:<% port "websecure" %>"
  tcp:
    address: "127.0.0.1:<% port "tcp" %>"
`)
	secPort, tcpPort := int32(e.Port("websecure")), int32(e.Port("tcp"))
	terminate, passthrough := gwPtr(gatev1.TLSModeTerminate), gwPtr(gatev1.TLSModePassthrough)
	s.gateway(t, "gw",
		gatev1.Listener{Name: "https", Port: secPort, Protocol: gatev1.HTTPSProtocolType, Hostname: gwPtr(gatev1.Hostname("secure.example")),
			TLS: &gatev1.ListenerTLSConfig{Mode: terminate, CertificateRefs: []gatev1.SecretObjectReference{{Name: "secure-cert"}}}},
		gatev1.Listener{Name: "pass", Port: secPort, Protocol: gatev1.TLSProtocolType, Hostname: gwPtr(gatev1.Hostname("pass.example")),
			TLS: &gatev1.ListenerTLSConfig{Mode: passthrough}},
		gatev1.Listener{Name: "broken", Port: secPort, Protocol: gatev1.HTTPSProtocolType, Hostname: gwPtr(gatev1.Hostname("broken.example")),
			TLS: &gatev1.ListenerTLSConfig{Mode: terminate, CertificateRefs: []gatev1.SecretObjectReference{{Name: "no-such-secret"}}}},
		gatev1.Listener{Name: "tcp", Port: tcpPort, Protocol: gatev1.TCPProtocolType},
	)
	s.httpRoute(t, &gatev1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "secure"},
		Spec: gatev1.HTTPRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "https")}},
			Rules:           []gatev1.HTTPRouteRule{{BackendRefs: backends(gwBackendRef("secure", 80, 1))}},
		},
	})
	if _, err := s.gw.GatewayV1().TLSRoutes(s.ns).Create(ctx, &gatev1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "pass"},
		Spec: gatev1.TLSRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "pass")}},
			Hostnames:       []gatev1.Hostname{"pass.example"},
			Rules: []gatev1.TLSRouteRule{{BackendRefs: []gatev1.BackendRef{{
				BackendObjectReference: gatev1.BackendObjectReference{Name: "pass", Port: gwPtr(int32(443))},
			}}}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.gw.GatewayV1().TCPRoutes(s.ns).Create(ctx, &gatev1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: gatev1.TCPRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "tcp")}},
			Rules: []gatev1.TCPRouteRule{{BackendRefs: []gatev1.BackendRef{{
				BackendObjectReference: gatev1.BackendObjectReference{Name: "echo", Port: gwPtr(int32(7000))},
			}}}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.Start()
	secAddr := e.Addr("websecure")

	t.Run("https", func(t *testing.T) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "secure.example"},
		}}
		deadline := time.Now().Add(30 * time.Second)
		for {
			req, _ := http.NewRequest("GET", "https://"+secAddr+"/hello", nil)
			req.Host = "secure.example"
			resp, err := hc.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					if got := gwParseEcho(t, string(b)); got.Name != "secure" || got.Path != "/hello" {
						t.Fatalf("backend saw %+v", got)
					}
					if resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "secure.example" {
						t.Fatalf("served certificate %v", resp.TLS)
					}
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("https through the gateway: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("tlsPassthrough", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, err := tlsDial(secAddr, &tls.Config{RootCAs: ca.pool(), ServerName: "pass.example"})
			if err == nil {
				cn := c.ConnectionState().PeerCertificates[0].Subject.CommonName
				fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: pass.example\r\nConnection: close\r\n\r\n")
				b, _ := io.ReadAll(c)
				c.Close()
				if cn != "pass.example" || !strings.Contains(string(b), "passthrough backend") {
					t.Fatalf("passthrough: certificate %q, reply %q", cn, b)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("TLS passthrough through the gateway: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", e.Addr("tcp"), 2*time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, "ping\n")
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if line == "tcp echo: ping\n" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("TCP through the gateway: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("status", func(t *testing.T) {
		gwWaitCond(t, "listener https", s.listenerConds("gw", "https"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
		gwWaitCond(t, "listener pass", s.listenerConds("gw", "pass"), "Programmed", metav1.ConditionTrue, "Programmed")
		gwWaitCond(t, "listener broken", s.listenerConds("gw", "broken"), "ResolvedRefs", metav1.ConditionFalse, "InvalidCertificateRef")
		gwWaitCond(t, "listener broken", s.listenerConds("gw", "broken"), "Programmed", metav1.ConditionFalse, "Invalid")
		gwWaitCond(t, "TLSRoute", s.routeParentConds("TLSRoute", "pass"), "Accepted", metav1.ConditionTrue, "Accepted")
		gwWaitCond(t, "TCPRoute", s.routeParentConds("TCPRoute", "echo"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
		gwWaitCond(t, "HTTPRoute", s.routeParentConds("HTTPRoute", "secure"), "Accepted", metav1.ConditionTrue, "Accepted")
	})
}
