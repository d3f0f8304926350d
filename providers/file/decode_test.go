package file

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, ext, content string
		want               string // exact Error() text, path /d/x<ext>
		line               int
		key                string
	}{
		{
			name: "yaml unknown key",
			ext:  ".yml",
			content: `http:
  routers:
    web:
      rule: Host(` + "`a`" + `)

      rul: x
`,
			want: `/d/x.yml:6: http.routers.web.rul: field not found`,
			line: 6, key: "http.routers.web.rul",
		},
		{
			name: "yaml bad duration",
			ext:  ".yml",
			content: `http:
  services:
    s:
      loadBalancer:
        healthCheck:
          interval: 5x
`,
			want: `/d/x.yml:6: http.services.s.loadBalancer.healthCheck.interval: invalid duration "5x": unknown unit "x"`,
			line: 6, key: "http.services.s.loadBalancer.healthCheck.interval",
		},
		{
			name: "yaml unknown key in second list item",
			ext:  ".yaml",
			content: `http:
  services:
    s:
      loadBalancer:
        servers:
          - url: http://a
          - url: http://b
            wieght: 2
`,
			want: `/d/x.yaml:8: http.services.s.loadBalancer.servers[1].wieght: field not found`,
			line: 8,
		},
		{
			name:    "yaml bad integer",
			ext:     ".yml",
			content: "http:\n  routers:\n    web:\n      priority: high\n",
			want:    `/d/x.yml:4: http.routers.web.priority: invalid integer "high"`,
		},
		{
			name:    "yaml bad boolean",
			ext:     ".yml",
			content: "tcp:\n  routers:\n    r:\n      tls:\n        passthrough: yes please\n",
			want:    `/d/x.yml:5: tcp.routers.r.tls.passthrough: invalid boolean "yes please"`,
		},
		{
			name:    "yaml value where a section is expected",
			ext:     ".yml",
			content: "http:\n  routers: web\n",
			want:    `/d/x.yml:2: http.routers: must be a section (a mapping), not a single value`,
		},
		{
			name:    "yaml section where a value is expected",
			ext:     ".yml",
			content: "http:\n  routers:\n    web:\n      rule:\n        host: a\n",
			want:    `/d/x.yml:4: http.routers.web.rule: must be a single value, not a section or a list`,
		},
		{
			name:    "yaml empty list item",
			ext:     ".yml",
			content: "http:\n  routers:\n    web:\n      entryPoints:\n        - web\n        -\n",
			want:    `/d/x.yml:6: http.routers.web.entryPoints[1]: empty list item`,
		},
		{
			name:    "yaml key with a dot is quoted",
			ext:     ".yml",
			content: "http:\n  routers:\n    my.router:\n      bad: 1\n",
			want:    `/d/x.yml:4: http.routers."my.router".bad: field not found`,
		},
		{
			name:    "yaml merge key",
			ext:     ".yml",
			content: "x-base: &base\n  bogus: 1\nhttp:\n  routers:\n    web:\n      <<: *base\n      rule: a\n",
			want:    `/d/x.yml:2: http.routers.web.bogus: field not found`,
		},
		{
			name:    "yaml syntax error keeps the parser's line",
			ext:     ".yml",
			content: "http:\n  routers:\n    web:\n  rule: x\n :\n",
			want:    `/d/x.yml:4: yaml: did not find expected key`,
		},
		{
			name:    "yaml duplicate key",
			ext:     ".yml",
			content: "http:\n  routers: {}\nhttp:\n  services: {}\n",
			want:    `/d/x.yml:3: yaml: mapping key "http" already defined at line 1`,
		},
		{
			name:    "yaml document is not a mapping",
			ext:     ".yml",
			content: "- http\n",
			want:    `/d/x.yml:1: yaml: the document must be a mapping (http:, tcp:, udp:, tls:)`,
		},
		{
			name: "toml unknown key",
			ext:  ".toml",
			content: `[http.routers.web]
  rule = "Host(` + "`a`" + `)"
  # comment
  rul = "x"
`,
			want: `/d/x.toml:4: http.routers.web.rul: field not found`,
			line: 4, key: "http.routers.web.rul",
		},
		{
			name: "toml bad duration",
			ext:  ".toml",
			content: `[http.services.s.loadBalancer.healthCheck]
interval = "5x"
`,
			want: `/d/x.toml:2: http.services.s.loadBalancer.healthCheck.interval: invalid duration "5x": unknown unit "x"`,
		},
		{
			name: "toml array of tables",
			ext:  ".toml",
			content: `[[http.services.s.loadBalancer.servers]]
url = "http://a"
[[http.services.s.loadBalancer.servers]]
url = "http://b"
wieght = 2
`,
			want: `/d/x.toml:5: http.services.s.loadBalancer.servers[1].wieght: field not found`,
		},
		{
			name: "toml inline tables over several lines",
			ext:  ".toml",
			content: `[http.services.s.loadBalancer]
servers = [
  { url = "http://a" },
  { url = "http://b", wieght = 2 },
]
`,
			want: `/d/x.toml:4: http.services.s.loadBalancer.servers[1].wieght: field not found`,
		},
		{
			name:    "toml dotted key",
			ext:     ".toml",
			content: "[http]\nrouters.web.priority = \"high\"\n",
			want:    `/d/x.toml:2: http.routers.web.priority: invalid integer "high"`,
		},
		{
			name:    "toml syntax error keeps the parser's line",
			ext:     ".toml",
			content: "[http.routers.web]\nrule = \"a\"\nservice = \n",
			want:    `/d/x.toml:3: http.routers.web.service: toml: expected value but found '\n' instead`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, _, err := decodeContent("/d/x"+tt.ext, tt.ext, tt.content)
			if err == nil {
				t.Fatalf("no error, got %+v", conf)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if tt.line != 0 && fe.Line != tt.line {
				t.Errorf("Line = %d, want %d", fe.Line, tt.line)
			}
			if tt.key != "" && fe.Key != tt.key {
				t.Errorf("Key = %q, want %q", fe.Key, tt.key)
			}
		})
	}
}

func TestDecodeErrorInLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "    r%05d:\n      rule: Host(`h%d`)\n      priority: %d\n", i, i, i)
	}
	b.WriteString("    zz:\n      priority: 1x\n")
	_, _, err := decodeContent("/d/x.yml", ".yml", b.String())
	if want := `/d/x.yml:904: http.routers.zz.priority: invalid integer "1x"`; err == nil || err.Error() != want {
		t.Fatalf("error\n got: %v\nwant: %s", err, want)
	}
}

func TestDecodeValid(t *testing.T) {
	yml := `
http:
  routers:
    web:
      entryPoints: [web]
      rule: Host(` + "`example.com`" + `)
      service: app
      tls: {}
  services:
    app:
      loadBalancer:
        servers:
          - url: http://10.0.0.1:80
        healthCheck:
          path: /health
          interval: 10
  middlewares:
    strip:
      stripPrefix:
        prefixes: [/api]
`
	toml := `
[http.routers.web]
  entryPoints = ["web"]
  rule = "Host(` + "`example.com`" + `)"
  service = "app"
  [http.routers.web.tls]

[http.services.app.loadBalancer]
  [[http.services.app.loadBalancer.servers]]
    url = "http://10.0.0.1:80"
  [http.services.app.loadBalancer.healthCheck]
    path = "/health"
    interval = "10s"

[http.middlewares.strip.stripPrefix]
  prefixes = ["/api"]
`
	for ext, content := range map[string]string{".yml": yml, ".toml": toml} {
		t.Run(ext, func(t *testing.T) {
			conf, ignored, err := decodeContent("/d/x"+ext, ext, content)
			if err != nil {
				t.Fatal(err)
			}
			if len(ignored) != 0 {
				t.Errorf("ignored = %v", ignored)
			}
			r := conf.HTTP.Routers["web"]
			if r == nil || r.Service != "app" || r.TLS == nil || len(r.EntryPoints) != 1 {
				t.Fatalf("router = %+v", r)
			}
			lb := conf.HTTP.Services["app"].LoadBalancer
			if lb.PassHostHeader == nil || !*lb.PassHostHeader || lb.Strategy != "wrr" {
				t.Errorf("load balancer defaults not applied: %+v", lb)
			}
			if hc := lb.HealthCheck; hc.Interval != ptypes.Duration(10*time.Second) || hc.Timeout != ptypes.Duration(5*time.Second) {
				t.Errorf("health check = %+v", hc)
			}
			if got := conf.HTTP.Middlewares["strip"].StripPrefix.Prefixes; len(got) != 1 || got[0] != "/api" {
				t.Errorf("prefixes = %v", got)
			}
			if conf.TCP.Routers == nil || conf.UDP.Services == nil || conf.TLS.Options == nil {
				t.Error("configuration not normalized")
			}
		})
	}
}

func TestDecodeCaseInsensitiveKeysAndEmpty(t *testing.T) {
	conf, _, err := decodeContent("/d/x.yml", ".yml", "HTTP:\n  Routers:\n    web:\n      RULE: a\n")
	if err != nil {
		t.Fatal(err)
	}
	if conf.HTTP.Routers["web"].Rule != "a" {
		t.Errorf("rule = %q", conf.HTTP.Routers["web"].Rule)
	}
	for _, content := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		conf, _, err := decodeContent("/d/x.yml", ".yml", content)
		if err != nil || conf == nil || len(conf.HTTP.Routers) != 0 {
			t.Errorf("%q: conf=%v err=%v", content, conf, err)
		}
	}
	if _, _, err := decodeContent("/d/x.toml", ".toml", ""); err != nil {
		t.Errorf("empty toml: %v", err)
	}
}

func TestDecodeIgnoredTopLevelKey(t *testing.T) {
	_, ignored, err := decodeContent("/d/x.yml", ".yml", "x-defaults: &d\n  rule: a\nhttp:\n  routers:\n    web:\n      <<: *d\nhtpp:\n  routers: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ignored) != 1 || ignored[0].Name != "htpp" || ignored[0].Line != 7 {
		t.Errorf("ignored = %+v", ignored)
	}
}

func TestRender(t *testing.T) {
	t.Setenv("SWITCHYARD_TEST_HOST", "example.org")
	src := `http:
  routers:
{{- range $i, $e := until 3 }}
    r{{ $i }}:
      rule: Host(` + "`{{ env \"SWITCHYARD_TEST_HOST\" }}`" + `)
      service: {{ "My_App.v2" | normalize | lower }}
{{- end }}
      entryPoints: [{{ join ", " (split "a,b" ",") }}]
`
	out, err := render("/d/x.yml", src)
	if err != nil {
		t.Fatal(err)
	}
	conf, _, err := decodeContent("/d/x.yml", ".yml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(conf.HTTP.Routers) != 3 {
		t.Fatalf("routers = %d\n%s", len(conf.HTTP.Routers), out)
	}
	r := conf.HTTP.Routers["r0"]
	if r.Rule != "Host(`example.org`)" || r.Service != "my-app-v2" {
		t.Errorf("r0 = %+v", r)
	}
	if got := conf.HTTP.Routers["r2"].EntryPoints; len(got) != 2 || got[1] != "b" {
		t.Errorf("r2 entryPoints = %v", got)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"parse", "http:\n  routers:\n    {{ if }}\n", `/d/x.yml:3: template: missing value for if`},
		{"unknown function", "a: 1\n\nb: {{ nope }}\n", `/d/x.yml:3: template: function "nope" not defined`},
		{"exec", "a: 1\nb: {{ fail \"boom\" }}\n", `/d/x.yml:2: template: executing "/d/x.yml" at <fail "boom">: error calling fail: boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render("/d/x.yml", tt.src)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}
