package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

func TestHTTP3(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "h3 CA")
	c, k := ca.issue(t, "h3.test", []string{"h3.test"}, false)
	writePair(t, e.Dir, "h3", c, k)
	mux := http.NewServeMux()
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %s %s", n, hex.EncodeToString(h.Sum(nil)), r.Proto)
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 5 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond)
		}
	})
	e.SetURL("back", startHandler(t, mux))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
    http3: {}
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", dynH3)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("websecure"))
	addr := e.Addr("websecure")

	// The TCP side advertises HTTP/3.
	r := mustHTTPS(t, addr, "h3.test", "/stream", &tls.Config{RootCAs: ca.pool()}, true)
	if r.Status != 200 {
		t.Fatalf("h2: %d", r.Status)
	}
	tr2 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}, ForceAttemptHTTP2: true}
	defer tr2.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr2}).Get("https://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := fmt.Sprintf(`h3=":%d"; ma=2592000`, e.Port("websecure"))
	if got := resp.Header.Get("Alt-Svc"); got != want {
		t.Fatalf("Alt-Svc %q, want %q", got, want)
	}

	h3 := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
	defer h3.Close()
	hc := &http.Client{Transport: h3, Timeout: 20 * time.Second}
	cl := h3Client{hc, "h3.test"}

	resp, err = cl.Get("https://" + addr + "/stream")
	if err != nil {
		t.Fatalf("h3 GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 3 || strings.Count(string(body), "chunk") != 5 {
		t.Fatalf("h3 stream: proto %d body %q", resp.ProtoMajor, body)
	}
	if resp.Header.Get("Alt-Svc") != "" {
		t.Fatal("Alt-Svc sent over HTTP/3")
	}

	// A large upload arrives whole.
	payload := make([]byte, 8<<20)
	_, _ = rand.Read(payload)
	sum := sha256.Sum256(payload)
	resp, err = cl.Post("https://"+addr+"/upload", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("h3 upload: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); !strings.HasPrefix(got, fmt.Sprintf("%d %s ", len(payload), hex.EncodeToString(sum[:]))) {
		t.Fatalf("h3 upload echo %q", got)
	}

	// A reload swaps the table under the open QUIC connection: a new
	// router is served on it, the old one still is.
	e.WriteDynamic("yml", strings.Replace(dynH3, "tls: {}", `tls: {}
    added:
      entryPoints: [websecure]
      rule: "Host(`+"`h3.test`"+`) && Path(`+"`/added`"+`)"
      service: noop@internal
      tls: {}`, 1))
	e.waitFor(10*time.Second, "new router over the same HTTP/3 connection", func() bool {
		resp, err := cl.Get("https://" + addr + "/added")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusTeapot && resp.ProtoMajor == 3
	})

	// Unknown host over HTTP/3: 404 from the same routing table.
	h3b := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "nope.test"}}
	defer h3b.Close()
	resp, err = h3Client{&http.Client{Transport: h3b, Timeout: 10 * time.Second}, "nope.test"}.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown host over h3: %d", resp.StatusCode)
	}
}

// h3Client sends requests with a fixed Host header.
type h3Client struct {
	c    *http.Client
	host string
}

func (h h3Client) Get(u string) (*http.Response, error) { return h.Post(u, "", nil) }

func (h h3Client) Post(u, ct string, body io.Reader) (*http.Response, error) {
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	req.Host = h.host
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return h.c.Do(req)
}

const dynH3 = `
http:
  routers:
    app:
      entryPoints: [websecure]
      rule: "Host(` + "`h3.test`" + `)"
      service: back
      tls: {}
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
tls:
  certificates:
    - certFile: "<% dir %>/h3.crt"
      keyFile: "<% dir %>/h3.key"
`

// TestHTTP3GracefulShutdown: a request in flight over HTTP/3 finishes after
// SIGTERM, and the process exits cleanly.
func TestHTTP3GracefulShutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "h3 CA")
	c, k := ca.issue(t, "h3.test", []string{"h3.test"}, false)
	writePair(t, e.Dir, "h3", c, k)
	started := make(chan struct{}, 1)
	e.SetURL("back", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, "finished")
	})))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
    http3: {}
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", dynH3)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("websecure"))

	h3 := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
	defer h3.Close()
	cl := h3Client{&http.Client{Transport: h3, Timeout: 10 * time.Second}, "h3.test"}
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := cl.Get("https://" + e.Addr("websecure") + "/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{string(b), err}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the backend")
	}
	e.Proc.Signal(syscall.SIGTERM)
	r := <-done
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight HTTP/3 request: %q %v", r.body, r.err)
	}
	if code := e.Proc.Wait(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
