// Package whoami is the demo backend of the quick start and the tests: it
// answers with its own name and what it received, so a routed reply shows
// which backend served it and which headers the proxy set.
package whoami

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Handler echoes requests. Paths:
//
//	/health        200 "OK"
//	/bench         200 "1"
//	/data?size=N   N bytes of 'a' (default 1024), streamed
//	/api           the echo as JSON
//	anything else  the echo as text
//
// On any path, ?wait=<duration> delays the answer and ?status=<code> sets
// the status code.
type Handler struct {
	Name string
}

// New returns a whoami handler with the given name (default: hostname).
func New(name string) *Handler {
	if name == "" {
		name, _ = os.Hostname()
	}
	return &Handler{Name: name}
}

// Echo is what /api returns.
type Echo struct {
	Name       string      `json:"name"`
	Hostname   string      `json:"hostname"`
	Host       string      `json:"host"`
	Method     string      `json:"method"`
	URL        string      `json:"url"`
	Path       string      `json:"path"`
	RemoteAddr string      `json:"remoteAddr"`
	Proto      string      `json:"proto"`
	Headers    http.Header `json:"headers"`
	BodyLength int64       `json:"bodyLength"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if d, err := time.ParseDuration(q.Get("wait")); err == nil && d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	status := http.StatusOK
	if s, err := strconv.Atoi(q.Get("status")); err == nil && s >= 100 && s < 1000 {
		status = s
	}
	w.Header().Set("X-Whoami-Name", h.Name)
	switch r.URL.Path {
	case "/health":
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "OK\n")
		return
	case "/bench":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "1")
		return
	case "/data":
		size, err := strconv.Atoi(q.Get("size"))
		if err != nil || size < 0 {
			size = 1024
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(status)
		chunk := []byte(strings.Repeat("a", 32*1024))
		for size > 0 {
			n := min(size, len(chunk))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			size -= n
		}
		return
	}
	n, _ := io.Copy(io.Discard, r.Body)
	hostname, _ := os.Hostname()
	e := Echo{
		Name: h.Name, Hostname: hostname, Host: r.Host, Method: r.Method, URL: r.URL.RequestURI(),
		Path: r.URL.Path, RemoteAddr: r.RemoteAddr, Proto: r.Proto, Headers: r.Header, BodyLength: n,
	}
	if r.URL.Path == "/api" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(e)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "Name: %s\nHostname: %s\n", e.Name, e.Hostname)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		fmt.Fprintf(w, "RemoteAddr: %s\nRemoteIP: %s\n", r.RemoteAddr, ip)
	}
	fmt.Fprintf(w, "%s %s %s\nHost: %s\n", r.Method, r.URL.RequestURI(), r.Proto, r.Host)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range r.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}
