package filedecode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// testConfig is a small paerser element: a root with sections, a map of
// structs, a list of structs, durations and numbers.
type testConfig struct {
	Server   *testServer            `json:"server,omitempty"`
	Routes   map[string]*testRoute  `json:"routes,omitempty"`
	Backends []testBackend          `json:"backends,omitempty"`
	Labels   map[string]string      `json:"labels,omitempty"`
	Extra    map[string]interface{} `json:"extra,omitempty"`
}

type testServer struct {
	Address     string          `json:"address,omitempty"`
	ReadTimeout ptypes.Duration `json:"readTimeout,omitempty"`
	MaxConns    int             `json:"maxConns,omitempty"`
	Debug       bool            `json:"debug,omitempty"`
	TLS         *testTLS        `json:"tls,omitempty"`
}

type testTLS struct {
	MinVersion string   `json:"minVersion,omitempty"`
	SNIStrict  bool     `json:"sniStrict,omitempty"`
	Domains    []string `json:"domains,omitempty"`
}

type testRoute struct {
	Path     string `json:"path,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

type testBackend struct {
	URL    string `json:"url,omitempty"`
	Weight *int   `json:"weight,omitempty"`
}

func newTestConfig() any { return &testConfig{} }

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, ext, content string
		want               string // exact Error() text, path /d/x<ext>
		line               int
		key                string
	}{
		{
			name: "yaml unknown key at depth",
			ext:  ".yml",
			content: `server:
  address: ":80"
  tls:
    minVersion: VersionTLS12

    sniStrikt: true
`,
			want: `/d/x.yml:6: server.tls.sniStrikt: field not found`,
			line: 6, key: "server.tls.sniStrikt",
		},
		{
			name:    "yaml bad duration",
			ext:     ".yaml",
			content: "server:\n  readTimeout: 5x\n",
			want:    `/d/x.yaml:2: server.readTimeout: invalid duration "5x": unknown unit "x"`,
		},
		{
			name:    "yaml bad int",
			ext:     ".yml",
			content: "routes:\n  a:\n    path: /a\n  b:\n    priority: high\n",
			want:    `/d/x.yml:5: routes.b.priority: invalid integer "high"`,
		},
		{
			name:    "yaml bad bool",
			ext:     ".yml",
			content: "server:\n  debug: maybe\n",
			want:    `/d/x.yml:2: server.debug: invalid boolean "maybe"`,
		},
		{
			name:    "yaml keys in any case are spelled as documented",
			ext:     ".yml",
			content: "SERVER:\n  readtimeout: soon\n",
			want:    `/d/x.yml:2: server.readTimeout: invalid duration "soon"`,
			key:     "server.readTimeout",
		},
		{
			name:    "yaml list item unknown key",
			ext:     ".yml",
			content: "backends:\n  - url: http://a\n  - url: http://b\n    wieght: 2\n",
			want:    `/d/x.yml:4: backends[1].wieght: field not found`,
		},
		{
			name:    "yaml list item bad value",
			ext:     ".yml",
			content: "backends:\n  - url: http://a\n    weight: 1\n  - url: http://b\n    weight: heavy\n",
			want:    `/d/x.yml:5: backends[1].weight: invalid integer "heavy"`,
		},
		{
			name:    "yaml empty list item",
			ext:     ".yml",
			content: "server:\n  tls:\n    domains:\n      - a\n      -\n",
			want:    `/d/x.yml:5: server.tls.domains[1]: empty list item`,
		},
		{
			name:    "yaml value where a section is expected",
			ext:     ".yml",
			content: "server: here\n",
			want:    `/d/x.yml:1: server: must be a section (a mapping), not a single value`,
		},
		{
			name:    "yaml section where a value is expected",
			ext:     ".yml",
			content: "server:\n  address:\n    host: a\n",
			want:    `/d/x.yml:2: server.address: must be a single value, not a section or a list`,
		},
		{
			name:    "yaml map key with a dot is quoted",
			ext:     ".yml",
			content: "routes:\n  a.b:\n    bad: 1\n",
			want:    `/d/x.yml:3: routes."a.b".bad: field not found`,
		},
		{
			name:    "yaml syntax error keeps the parser's line",
			ext:     ".yml",
			content: "server:\n  address: a\n  tls:\n b: x\n :\n",
			want:    `/d/x.yml:3: yaml: did not find expected key`,
		},
		{
			name:    "yaml document is not a mapping",
			ext:     ".yml",
			content: "- server\n",
			want:    `/d/x.yml:1: yaml: the document must be a mapping (server:, routes:, backends:, labels:, extra:)`,
		},
		{
			name:    "toml unknown key at depth",
			ext:     ".toml",
			content: "[server]\naddress = \":80\"\n[server.tls]\n# comment\nsniStrikt = true\n",
			want:    `/d/x.toml:5: server.tls.sniStrikt: field not found`,
		},
		{
			name:    "toml bad duration",
			ext:     ".toml",
			content: "[server]\nreadTimeout = \"5x\"\n",
			want:    `/d/x.toml:2: server.readTimeout: invalid duration "5x": unknown unit "x"`,
		},
		{
			name:    "toml bad int in a dotted key",
			ext:     ".toml",
			content: "[routes]\na.path = \"/a\"\nb.priority = \"high\"\n",
			want:    `/d/x.toml:3: routes.b.priority: invalid integer "high"`,
		},
		{
			name:    "toml array of tables",
			ext:     ".toml",
			content: "[[backends]]\nurl = \"a\"\n[[backends]]\nurl = \"b\"\nwieght = 2\n",
			want:    `/d/x.toml:5: backends[1].wieght: field not found`,
		},
		{
			name:    "toml inline tables",
			ext:     ".toml",
			content: "backends = [\n  { url = \"a\" },\n  { url = \"b\", weight = \"x\" },\n]\n",
			want:    `/d/x.toml:3: backends[1].weight: invalid integer "x"`,
		},
		{
			name:    "toml syntax error",
			ext:     ".toml",
			content: "[server]\naddress = \n",
			want:    `/d/x.toml:2: server.address: toml: expected value but found '\n' instead`,
		},
		{
			name:    "json unknown key at depth",
			ext:     ".json",
			content: "{\n  \"server\": {\n    \"tls\": {\n      \"sniStrikt\": true\n    }\n  }\n}\n",
			want:    `/d/x.json:4: server.tls.sniStrikt: field not found`,
		},
		{
			name:    "json bad duration",
			ext:     ".json",
			content: "{\"server\": {\n\"readTimeout\": \"1h2x\"}}",
			want:    `/d/x.json:2: server.readTimeout: invalid duration "1h2x": unknown unit "x"`,
		},
		{
			name:    "json list item",
			ext:     ".json",
			content: "{\"backends\": [\n {\"url\": \"a\"},\n {\"url\": \"b\", \"weight\": 1.5}\n]}",
			want:    `/d/x.json:3: backends[1].weight: invalid integer "1.5"`,
		},
		{
			name:    "unsupported extension",
			ext:     ".ini",
			content: "a=1\n",
			want:    `/d/x.ini: unsupported file extension ".ini"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode("/d/x"+tt.ext, tt.ext, tt.content, newTestConfig)
			if err == nil {
				t.Fatalf("no error, got %+v", got)
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

func TestDecodeValid(t *testing.T) {
	docs := map[string]string{
		".yml": `
server:
  address: ":80"
  readTimeout: 10
  tls:
    domains: [a, b]
routes:
  web:
    path: /web
    priority: 3
backends:
  - url: http://a
    weight: 2
labels:
  x: y
unknownRoot: ignored
`,
		".toml": `
unknownRoot = "ignored"
[server]
address = ":80"
readTimeout = "10s"
[server.tls]
domains = ["a", "b"]
[routes.web]
path = "/web"
priority = 3
[[backends]]
url = "http://a"
weight = 2
[labels]
x = "y"
`,
		".json": `{"server": {"address": ":80", "readTimeout": "10s", "tls": {"domains": ["a", "b"]}},
"routes": {"web": {"path": "/web", "priority": 3}}, "backends": [{"url": "http://a", "weight": 2}],
"labels": {"x": "y"}, "unknownRoot": 1}`,
	}
	for ext, content := range docs {
		t.Run(ext, func(t *testing.T) {
			el, err := Decode("/d/x"+ext, ext, content, newTestConfig)
			if err != nil {
				t.Fatal(err)
			}
			c := el.(*testConfig)
			if c.Server.Address != ":80" || c.Server.ReadTimeout != ptypes.Duration(10*time.Second) {
				t.Errorf("server = %+v", c.Server)
			}
			if d := c.Server.TLS.Domains; len(d) != 2 || d[1] != "b" {
				t.Errorf("domains = %v", d)
			}
			if r := c.Routes["web"]; r == nil || r.Priority != 3 {
				t.Errorf("route = %+v", r)
			}
			if len(c.Backends) != 1 || c.Backends[0].Weight == nil || *c.Backends[0].Weight != 2 {
				t.Errorf("backends = %+v", c.Backends)
			}
			if c.Labels["x"] != "y" {
				t.Errorf("labels = %v", c.Labels)
			}
		})
	}
}

func TestDecodeIntoKeepsDefaults(t *testing.T) {
	el := &testConfig{Server: &testServer{MaxConns: 7, Address: ":1"}}
	if err := DecodeInto("/d/x.yml", ".YML", "server:\n  address: \":2\"\n", el, nil); err != nil {
		t.Fatal(err)
	}
	if el.Server.Address != ":2" || el.Server.MaxConns != 7 {
		t.Errorf("server = %+v", el.Server)
	}
	// The probes of a failing decode use fresh elements (nil newElement:
	// zero values of the same type), never the target.
	err := DecodeInto("/d/x.yml", ".yml", "server:\n  maxConns: many\n", el, nil)
	if want := `/d/x.yml:2: server.maxConns: invalid integer "many"`; err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, tc := range []struct{ ext, content string }{
		{".yml", ""}, {".yml", "# comment\n"}, {".yml", "---\n"}, {".yml", "~\n"},
		{".toml", ""}, {".json", "{}"},
	} {
		if _, err := Decode("/d/x"+tc.ext, tc.ext, tc.content, newTestConfig); err != nil {
			t.Errorf("%s %q: %v", tc.ext, tc.content, err)
		}
	}
}

func TestDecodeErrorInLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("routes:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  r%05d:\n    path: /p%d\n    priority: %d\n", i, i, i)
	}
	b.WriteString("  zz:\n    priority: 1x\n")
	_, err := Decode("/d/x.yml", ".yml", b.String(), newTestConfig)
	if want := `/d/x.yml:6003: routes.zz.priority: invalid integer "1x"`; err == nil || err.Error() != want {
		t.Fatalf("error\n got: %v\nwant: %s", err, want)
	}
}

func TestUnknownRootKeys(t *testing.T) {
	tests := []struct {
		name, ext, content string
		want               []Key
	}{
		{"none", ".yml", "server: {}\nROUTES: {}\n", nil},
		{"yaml", ".yml", "x-base: &b\n  path: /\nserver: {}\nzeta: 1\nrouts:\n  a: *b\n", []Key{{"zeta", 4}, {"routs", 5}}},
		{"toml", ".toml", "top = 1\n[server]\naddress = \"a\"\n[nope.deeper]\nx = 1\n", []Key{{"top", 1}, {"nope", 4}}},
		{"json", ".json", "{\n\"server\": {},\n\"bogus\": 2\n}\n", []Key{{"bogus", 3}}},
		{"empty", ".yml", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnknownRootKeys(tt.ext, tt.content, &testConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := UnknownRootKeys(".yml", "a: [", &testConfig{}); err == nil {
		t.Error("syntax error: no error")
	}
	// A root that is not a struct takes any key.
	if got, err := UnknownRootKeys(".yml", "a: 1\n", &map[string]any{}); err != nil || got != nil {
		t.Errorf("map root: %v, %v", got, err)
	}
}

func TestRootKeys(t *testing.T) {
	got, err := RootKeys(".yml", "b: 1\n# c\na:\n  x: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Key{{"b", 1}, {"a", 3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := RootKeys(".toml", "# nothing\n"); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
}

// staticConfig is how the command decodes its file: an embedded
// static.Configuration plus the configFile option.
type staticConfig struct {
	static.Configuration
	ConfigFile string `json:"configFile,omitempty"`
}

func TestDecodeStatic(t *testing.T) {
	newStatic := func() any { return &staticConfig{} }
	tests := []struct {
		name, ext, content, want string
	}{
		{
			name: "bad duration deep in an entrypoint",
			ext:  ".yml",
			content: `entryPoints:
  web:
    address: ":80"
    transport:
      lifeCycle:
        graceTimeOut: soon
`,
			want: `/etc/switchyard.yml:6: entryPoints.web.transport.lifeCycle.graceTimeOut: invalid duration "soon"`,
		},
		{
			name:    "lower-case keys are spelled as documented",
			ext:     ".toml",
			content: "[entrypoints.web]\naddress = \":80\"\n[entrypoints.web.transport.lifecycle]\ngracetimeout = \"soon\"\n",
			want:    `/etc/switchyard.toml:4: entryPoints.web.transport.lifeCycle.graceTimeOut: invalid duration "soon"`,
		},
		{
			name:    "unknown key in a provider",
			ext:     ".yml",
			content: "providers:\n  file:\n    filename: x.yml\n    whatch: true\n",
			want:    `/etc/switchyard.yml:4: providers.file.whatch: field not found`,
		},
		{
			name:    "bad throttle duration",
			ext:     ".yml",
			content: "providers:\n  providersThrottleDuration: 10xs\n",
			want:    `/etc/switchyard.yml:2: providers.providersThrottleDuration: invalid duration "10xs": unknown unit "xs"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("/etc/switchyard"+tt.ext, tt.ext, tt.content, newStatic)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}

	content := "configFile: /x.yml\nentryPoints:\n  web:\n    address: \":80\"\nnotAnOption:\n  foo: bar\n"
	el, err := Decode("/etc/switchyard.yml", ".yml", content, newStatic)
	if err != nil {
		t.Fatal(err)
	}
	if c := el.(*staticConfig); c.EntryPoints["web"].Address != ":80" || c.ConfigFile != "/x.yml" {
		t.Errorf("decoded %+v", c)
	}
	unknown, err := UnknownRootKeys(".yml", content, el)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Key{{"notAnOption", 5}}; fmt.Sprint(unknown) != fmt.Sprint(want) {
		t.Errorf("unknown = %v, want %v", unknown, want)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "/f", Line: 3, Key: "a.b", Reason: "bad"}, "/f:3: a.b: bad"},
		{Error{File: "/f", Key: "a", Reason: "bad"}, "/f: a: bad"},
		{Error{File: "/f", Reason: "bad"}, "/f: bad"},
		{Error{Line: 2, Reason: "bad"}, "2: bad"},
		{Error{Key: "k", Reason: "bad"}, "k: bad"},
		{Error{Reason: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
	cause := errors.New("cause")
	if err := error(&Error{Err: cause}); !errors.Is(err, cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestFormatPath(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"http", "routers", "web"}, "http.routers.web"},
		{[]string{"http", "services", "s", "loadBalancer", "servers", "[0]", "url"}, "http.services.s.loadBalancer.servers[0].url"},
		{[]string{"http", "routers", "a.b"}, `http.routers."a.b"`},
		{[]string{"a", ""}, `a.""`},
	}
	for _, tt := range tests {
		if got := formatPath(tt.in); got != tt.want {
			t.Errorf("formatPath(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
