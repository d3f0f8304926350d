package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// The ports every proxy listens on, and the backend's.
type ports struct {
	HTTP    int // HTTP/1.1
	H2C     int // HTTP/2 cleartext, prior knowledge
	TLS     int // HTTPS, ALPN h2 and http/1.1
	Backend int // nginx answering 1 KiB
}

// setup is the configuration a peer is started (or reconfigured) with.
type setup struct {
	Dir   string // scratch directory of this run
	Ports ports
	Cert  string // PEM certificate (ECDSA P-256)
	Key   string // PEM key
	Combo string // certificate + key in one file (HAProxy)
	Hosts int    // 0: one catch-all route; n: n Host routes h0..h<n-1>.bench.test
	Gen   int    // generation, changed on every live rewrite (S6)
	// Long connections (S10–S14): Origins are the idle origin's addresses
	// (several, so 20,000 proxy→origin connections never run out of
	// ephemeral ports towards one address), the catch-all routes' backend
	// when set; MaxConns raises the peers' connection limits; Idle sets
	// timeouts far above a scenario's length; StatsSock is HAProxy's admin
	// socket that hands listeners to a reloaded process (S14).
	Origins   []string
	MaxConns  int
	Idle      bool
	StatsSock string
}

// BackendAddrs are the addresses the catch-all routes forward to.
func (s setup) BackendAddrs() []string {
	if len(s.Origins) > 0 {
		return s.Origins
	}
	return []string{fmt.Sprintf("127.0.0.1:%d", s.Ports.Backend)}
}

// WorkerConns is nginx's worker_connections: client and upstream
// connections both count, and once fewer than 1/16 are free nginx starts
// closing "reusable" connections — new ones still waiting for their
// request included (a reset for the client) — so an eighth more.
func (s setup) WorkerConns() int { return max(16000, 2*s.MaxConns+2*s.MaxConns/8) }

// NoFile is nginx's worker_rlimit_nofile, no more than the harness's own
// limit (which the peers inherit and cannot exceed).
func (s setup) NoFile() int {
	return min(max(16384, 2*s.MaxConns+1024), max(16384, int(noFileLimit())))
}

// NoFileLimit is the harness's RLIMIT_NOFILE, which the peers inherit.
func (s setup) NoFileLimit() int { return int(noFileLimit()) }

// HAMaxConn is HAProxy's global and frontend maxconn (client connections).
func (s setup) HAMaxConn() int { return max(9000, s.MaxConns) }

// EPTransport is the Go peers' entrypoint transport section: in the idle
// scenarios no timeout may cut a connection while it is measured.
func (s setup) EPTransport() string {
	if !s.Idle {
		return ""
	}
	return "\n    transport:\n      respondingTimeouts:\n        readTimeout: 600s\n        idleTimeout: 600s"
}

// lastHost is the Host that only the last of s.Hosts routes matches.
func (s setup) lastHost() string {
	if s.Hosts == 0 {
		return ""
	}
	return fmt.Sprintf("h%d.bench.test", s.Hosts-1)
}

func (s setup) HostList() []int {
	h := make([]int, s.Hosts)
	for i := range h {
		h[i] = i
	}
	return h
}

// peer is one proxy under test.
type peer interface {
	Name() string
	Version() string
	// Start writes the configuration for s into s.Dir and starts the proxy
	// pinned to core.
	Start(s setup, core int) (*proc, error)
	// Reconfigure applies s to the running proxy without a restart; errNA
	// when the peer has no live configuration source.
	Reconfigure(s setup) error
}

// ---- Switchyard and Traefik: the same static and dynamic files ----

// fileProviderPeer is a Traefik-compatible proxy configured by a static file
// and a watched dynamic file.
type fileProviderPeer struct {
	name string
	bin  string
	env  []string // GOMAXPROCS=1 plus anything else
	// extraStatic is appended to the static file (a Go template like
	// staticTmpl): the observability peer turns metrics and access log on.
	extraStatic string
}

func (p *fileProviderPeer) Name() string { return p.name }

func (p *fileProviderPeer) Version() string {
	out := output(p.bin, "version")
	if m := regexp.MustCompile(`(?m)^Version:\s+(\S+)`).FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return firstLine(out)
}

func (p *fileProviderPeer) Start(s setup, core int) (*proc, error) {
	if err := render(filepath.Join(s.Dir, "static.yml"), staticTmpl+p.extraStatic, s); err != nil {
		return nil, err
	}
	if err := p.Reconfigure(s); err != nil {
		return nil, err
	}
	return startPinned(p.name, s.Dir, core, p.env, p.bin, "--configFile="+filepath.Join(s.Dir, "static.yml"))
}

// Reconfigure rewrites the dynamic file atomically (write, then rename), as
// a config-management tool or a Kubernetes ConfigMap does.
func (p *fileProviderPeer) Reconfigure(s setup) error {
	dyn := filepath.Join(s.Dir, "dynamic.yml")
	tmp := filepath.Join(s.Dir, ".dynamic.yml.tmp")
	if err := render(tmp, dynamicTmpl, s); err != nil {
		return err
	}
	return os.Rename(tmp, dyn)
}

// obsStaticTmpl turns on Prometheus metrics (entrypoint, router and
// service labels) and a buffered access log, to measure their cost.
var obsStaticTmpl = `
metrics:
  prometheus:
    entryPoint: web
    addRoutersLabels: true
accessLog:
  filePath: "{{.Dir}}/access.log"
  bufferingSize: 100
`

var staticTmpl = `
global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: "127.0.0.1:{{.Ports.HTTP}}"{{.EPTransport}}
  h2c:
    address: "127.0.0.1:{{.Ports.H2C}}"{{.EPTransport}}
  websecure:
    address: "127.0.0.1:{{.Ports.TLS}}"{{.EPTransport}}
providers:
  providersThrottleDuration: 50ms
  file:
    filename: "{{.Dir}}/dynamic.yml"
    watch: true
log:
  level: ERROR
`

var dynamicTmpl = `
http:
  routers:
{{- if .Hosts}}
{{- range .HostList}}
    h{{.}}:
      rule: "Host(` + "`h{{.}}.bench.test`" + `)"
      service: backend
      entryPoints: [web, h2c]
{{- end}}
{{- else}}
    bench:
      rule: "PathPrefix(` + "`/`" + `)"
      service: backend
      entryPoints: [web, h2c]
{{- end}}
    bench-tls:
      rule: "PathPrefix(` + "`/`" + `)"
      service: backend
      entryPoints: [websecure]
      tls: {}
    wrr4:
      rule: "PathPrefix(` + "`/wrr4/`" + `)"
      service: wrr4
      entryPoints: [web]
    chain5:
      rule: "PathPrefix(` + "`/chain5/`" + `)"
      service: backend
      middlewares: [chain5]
      entryPoints: [web]
    reload-{{.Gen}}:
      rule: "Host(` + "`reload-{{.Gen}}.bench.test`" + `)"
      service: backend
      entryPoints: [web]
  middlewares:
    chain5:
      chain:
        middlewares: [c-headers, c-strip, c-rate, c-compress, c-allow]
    c-headers:
      headers:
        customRequestHeaders:
          X-Bench: "1"
        customResponseHeaders:
          X-Served-By: bench
    c-strip:
      stripPrefix:
        prefixes: ["/chain5"]
    c-rate:
      rateLimit:
        average: 100000000
        burst: 100000000
    c-compress:
      # wrk sends no Accept-Encoding: the middleware runs, nothing is compressed.
      compress: {}
    c-allow:
      ipAllowList:
        sourceRange: ["127.0.0.0/8"]
  services:
    backend:
      loadBalancer:
        servers:
{{- range .BackendAddrs}}
          - url: "http://{{.}}"
{{- end}}
    wrr4:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:{{.Ports.Backend}}"
          - url: "http://127.0.0.1:{{.Ports.Backend}}"
          - url: "http://127.0.0.1:{{.Ports.Backend}}"
          - url: "http://127.0.0.1:{{.Ports.Backend}}"
tls:
  certificates:
    - certFile: "{{.Cert}}"
      keyFile: "{{.Key}}"
  stores:
    default:
      defaultCertificate:
        certFile: "{{.Cert}}"
        keyFile: "{{.Key}}"
`

// ---- nginx ----

type nginxPeer struct{}

func (nginxPeer) Name() string { return "nginx" }

func (nginxPeer) Version() string {
	return strings.TrimPrefix(firstLine(output("nginx", "-v")), "nginx version: ")
}

func (nginxPeer) Start(s setup, core int) (*proc, error) {
	cfg := filepath.Join(s.Dir, "nginx.conf")
	if err := render(cfg, nginxProxyTmpl, s); err != nil {
		return nil, err
	}
	return startPinned("nginx", s.Dir, core, nil, "nginx", "-p", s.Dir, "-c", cfg)
}

func (nginxPeer) Reconfigure(setup) error { return errNA }

// nginxCommon is shared by the proxy and the backend: one worker, no logs,
// keep-alive connections never recycled by count.
const nginxCommon = `
daemon off;
worker_processes 1;
worker_rlimit_nofile {{.NoFile}};
pid {{.Dir}}/nginx-{{.Name}}.pid;
error_log stderr error;
events { worker_connections {{.WorkerConns}}; multi_accept on; }
`

var nginxProxyTmpl = strings.Replace(nginxCommon, "{{.Name}}", "proxy", 1) + `
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout {{if .Idle}}600s{{else}}180s{{end}};
  client_body_temp_path {{.Dir}}/nginx-body;
  proxy_temp_path {{.Dir}}/nginx-proxy;
  fastcgi_temp_path {{.Dir}}/nginx-fastcgi;
  uwsgi_temp_path {{.Dir}}/nginx-uwsgi;
  scgi_temp_path {{.Dir}}/nginx-scgi;
  server_names_hash_max_size 65536;
  server_names_hash_bucket_size 128;
  upstream backend {
{{- range .BackendAddrs}}
    server {{.}};
{{- end}}
    keepalive 256;
    keepalive_requests 1000000;
  }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  server {
    listen 127.0.0.1:{{.Ports.HTTP}} default_server;
    listen 127.0.0.1:{{.Ports.H2C}} http2 default_server;
    listen 127.0.0.1:{{.Ports.TLS}} ssl http2 default_server;
    ssl_certificate {{.Cert}};
    ssl_certificate_key {{.Key}};
    ssl_protocols TLSv1.2 TLSv1.3;
{{- if .Hosts}}
    location / { return 404; }
  }
{{- range .HostList}}
  server {
    listen 127.0.0.1:{{$.Ports.HTTP}};
    server_name h{{.}}.bench.test;
    location / { proxy_pass http://backend; }
  }
{{- end}}
{{- else}}
    location / { proxy_pass http://backend; }
{{- if .Idle}}
    location /sse {
      proxy_pass http://backend;
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
    location /ws {
      proxy_pass http://backend;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 600s;
    }
{{- end}}
  }
{{- end}}
}
`

// backendTmpl: the fast origin every proxy forwards to, 1 KiB per answer.
var backendTmpl = strings.Replace(nginxCommon, "{{.Name}}", "backend", 1) + `
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path {{.Dir}}/backend-body;
  proxy_temp_path {{.Dir}}/backend-proxy;
  fastcgi_temp_path {{.Dir}}/backend-fastcgi;
  uwsgi_temp_path {{.Dir}}/backend-uwsgi;
  scgi_temp_path {{.Dir}}/backend-scgi;
  server {
    listen 127.0.0.1:{{.Ports.Backend}} default_server;
    default_type text/plain;
    location / { return 200 "` + strings.Repeat("x", 1023) + `\n"; }
  }
}
`

// ---- HAProxy ----

type haproxyPeer struct{}

func (haproxyPeer) Name() string { return "HAProxy" }

func (haproxyPeer) Version() string {
	out := firstLine(output("haproxy", "-v"))
	if f := strings.Fields(out); len(f) >= 3 {
		return f[2]
	}
	return out
}

func (haproxyPeer) Start(s setup, core int) (*proc, error) {
	cfg := filepath.Join(s.Dir, "haproxy.cfg")
	if s.Hosts > 0 {
		var b strings.Builder
		for i := range s.Hosts {
			fmt.Fprintf(&b, "h%d.bench.test be\n", i)
		}
		if err := os.WriteFile(filepath.Join(s.Dir, "hosts.map"), []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
	}
	if err := render(cfg, haproxyTmpl, s); err != nil {
		return nil, err
	}
	return startPinned("haproxy", s.Dir, core, nil, "haproxy", "-db", "-f", cfg)
}

func (haproxyPeer) Reconfigure(setup) error { return errNA }

var haproxyTmpl = `
global
  nbthread 1
  maxconn {{.HAMaxConn}}
  tune.ssl.default-dh-param 2048
{{- if .Idle}}
  # maxconn needs about twice its value in descriptors; where the hard
  # limit is lower, say so instead of refusing to start (HAProxy warns).
  ulimit-n {{.NoFileLimit}}
{{- end}}
{{- if .StatsSock}}
  stats socket {{.StatsSock}} level admin expose-fd listeners
{{- end}}
defaults
  mode http
  maxconn {{.HAMaxConn}}
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 5s
{{- if .Idle}}
  timeout client 600s
  timeout server 600s
  timeout tunnel 600s
  timeout http-keep-alive 600s
{{- else}}
  timeout client 180s
  timeout server 60s
  timeout http-keep-alive 180s
{{- end}}
{{- if .StatsSock}}
  # A reloaded (-sf) process lets its idle keep-alive connections carry one
  # more request, answered with Connection: close, instead of closing them
  # under a client that may be sending (HAProxy's documented reload habit).
  option idle-close-on-response
{{- end}}
frontend fe
  bind 127.0.0.1:{{.Ports.HTTP}}
  bind 127.0.0.1:{{.Ports.H2C}} proto h2
  bind 127.0.0.1:{{.Ports.TLS}} ssl crt {{.Combo}} alpn h2,http/1.1
{{- if .Hosts}}
  use_backend %[req.hdr(host),lower,map_str({{.Dir}}/hosts.map)]
{{- else}}
  default_backend be
{{- end}}
backend be
{{- range $i, $a := .BackendAddrs}}
  server s{{$i}} {{$a}}{{if not $.Idle}} maxconn 1000{{end}}
{{- end}}
`

// render executes tmpl with data into path.
func render(path, tmpl string, data any) error {
	t, err := template.New(filepath.Base(path)).Parse(tmpl)
	if err != nil {
		return fmt.Errorf("template %s: %w", path, err)
	}
	// Rendered in memory and written at once, as a configuration tool
	// does: executing into the file directly makes one write(2) per
	// template fragment (150,000 for S5's 10,000 routers, ~100 ms that
	// apply_ms would count, and as many events for the watching proxy).
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// startBackend runs the origin nginx pinned to the load core.
func startBackend(s setup, core int) (*proc, error) {
	cfg := filepath.Join(s.Dir, "backend.conf")
	if err := render(cfg, backendTmpl, s); err != nil {
		return nil, err
	}
	p, err := startPinned("backend", s.Dir, core, nil, "nginx", "-p", s.Dir, "-c", cfg)
	if err != nil {
		return nil, err
	}
	if _, err := waitOK(nilCtx(), p, fmt.Sprintf("http://127.0.0.1:%d/", s.Ports.Backend), "", 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("backend: %w", err)
	}
	return p, nil
}
