package integration

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveTCPEchoIn serves "name|data" TCP echoes on ip:port in the test
// network namespace (TLS with cert when given).
func serveTCPEchoIn(t testing.TB, kn *kubeNet, ip string, port int, name string, cert *tls.Certificate) int {
	t.Helper()
	ln := kn.Listen(t, ip, port)
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				data, _ := io.ReadAll(c)
				fmt.Fprintf(c, "%s|%s", name, data)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestKubeCRDTCPUDPTLS: IngressRouteTCP with TLS termination (certificate
// from a Secret) and with passthrough, IngressRouteUDP, and an
// IngressRoute whose TLS options reference a TLSOption with minVersion
// TLS 1.3, all to backends in the test network namespace.
func TestKubeCRDTCPUDPTLS(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ca := newCA(t, "crd-ca")
	tcpCert, tcpKey := ca.issue(t, "tcp.example.com", []string{"tcp.example.com"}, false)
	secCert, secKey := ca.issue(t, "secure.example.com", []string{"secure.example.com"}, false)
	passCertPEM, passKeyPEM := ca.issue(t, "pass-backend", []string{"pass.example.com"}, false)
	passCert, err := tls.X509KeyPair([]byte(passCertPEM), []byte(passKeyPEM))
	if err != nil {
		t.Fatal(err)
	}

	ipT := kn.NewIP(t)
	portT := serveTCPEchoIn(t, kn, ipT, 0, "plain", nil)
	k.ServiceWithEndpoints(t, ns, "tcp-plain", "tcp", 9000, int32(portT), KubeEndpoint{IP: ipT, Ready: true})
	ipP := kn.NewIP(t)
	portP := serveTCPEchoIn(t, kn, ipP, 0, "pass", &passCert)
	k.ServiceWithEndpoints(t, ns, "tcp-pass", "tls", 9443, int32(portP), KubeEndpoint{IP: ipP, Ready: true})
	ipU := kn.NewIP(t)
	pc := kn.ListenUDP(t, ipU, 0)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("udp:"), buf[:n]...), from)
		}
	}()
	k.ServiceWithEndpoints(t, ns, "dns", "dns", 53, int32(pc.LocalAddr().(*net.UDPAddr).Port), KubeEndpoint{IP: ipU, Ready: true})
	ipH, portH := kn.ServeHTTP(t, echoPod("https-pod"))
	k.ServiceWithEndpoints(t, ns, "web", "http", 80, int32(portH), KubeEndpoint{IP: ipH, Ready: true})

	mustApply(t, k, ns, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata:
  name: tcp-cert
type: kubernetes.io/tls
stringData:
  tls.crt: %q
  tls.key: %q
---
apiVersion: v1
kind: Secret
metadata:
  name: secure-cert
type: kubernetes.io/tls
stringData:
  tls.crt: %q
  tls.key: %q
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata:
  name: modern
spec:
  minVersion: VersionTLS13
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata:
  name: term
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(`+"`tcp.example.com`"+`)
    services:
    - name: tcp-plain
      port: 9000
  tls:
    secretName: tcp-cert
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata:
  name: pass
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(`+"`pass.example.com`"+`)
    services:
    - name: tcp-pass
      port: tls
  tls:
    passthrough: true
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata:
  name: dns
spec:
  entryPoints: [udp]
  routes:
  - services:
    - name: dns
      port: 53
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: secure
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`secure.example.com`"+`)
    services:
    - name: web
      port: 80
  tls:
    secretName: secure-cert
    options:
      name: modern
`, tcpCert, tcpKey, secCert, secKey))

	e := newEnv(t)
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
  udp:
    address: "<% addr "udp" %>/udp"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  kubernetesCRD:
`+k.ProviderYAML("    ")+"    namespaces: ["+ns+"]\n")
	e.Start()
	e.waitCRDRouters(ns + "-secure-" + routeHash("Host(`secure.example.com`)") + "@kubernetescrd")

	tlsCfg := func(sni string, maxV uint16) *tls.Config {
		return &tls.Config{ServerName: sni, RootCAs: ca.pool(), MaxVersion: maxV}
	}
	t.Run("tcp TLS termination", func(t *testing.T) {
		var got string
		e.waitFor(30*time.Second, "TCP route with TLS termination answers", func() bool {
			c, err := tlsDial(e.Addr("websecure"), tlsCfg("tcp.example.com", 0))
			if err != nil {
				return false
			}
			defer c.Close()
			got, _ = tcpExchange(c, "hello")
			return got == "plain|hello"
		})
	})
	t.Run("tcp TLS passthrough", func(t *testing.T) {
		e.waitFor(30*time.Second, "TCP passthrough route answers with the backend's certificate", func() bool {
			c, err := tlsDial(e.Addr("websecure"), tlsCfg("pass.example.com", 0))
			if err != nil {
				return false
			}
			defer c.Close()
			if c.ConnectionState().PeerCertificates[0].Subject.CommonName != "pass-backend" {
				return false
			}
			got, _ := tcpExchange(c, "hi")
			return got == "pass|hi"
		})
	})
	t.Run("udp", func(t *testing.T) {
		e.waitFor(30*time.Second, "UDP route answers", func() bool {
			c, err := net.Dial("udp", e.Addr("udp"))
			if err != nil {
				return false
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err := c.Write([]byte("q")); err != nil {
				return false
			}
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			return err == nil && string(buf[:n]) == "udp:q"
		})
	})
	t.Run("TLSOption minVersion", func(t *testing.T) {
		get := func(maxV uint16) (*http.Response, error) {
			tr := &http.Transport{TLSClientConfig: tlsCfg("secure.example.com", maxV), Proxy: nil}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			req, _ := http.NewRequest(http.MethodGet, "https://"+e.Addr("websecure")+"/", nil)
			req.Host = "secure.example.com"
			resp, err := c.Do(req)
			if err == nil {
				defer resp.Body.Close()
				_, _ = io.ReadAll(resp.Body)
			}
			return resp, err
		}
		e.waitFor(30*time.Second, "HTTPS route answers over TLS 1.3", func() bool {
			resp, err := get(0)
			return err == nil && resp.StatusCode == http.StatusOK
		})
		_, err := get(tls.VersionTLS12)
		if err == nil || !strings.Contains(err.Error(), "version") {
			t.Fatalf("a TLS 1.2 client got through a TLSOption with minVersion TLS 1.3 (err %v)", err)
		}
	})
}
