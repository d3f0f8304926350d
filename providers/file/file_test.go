package file

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// logBuffer collects a provider's log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestProvider returns a provider whose logs go to the returned buffer.
func newTestProvider(cfg static.FileProvider) (*Provider, *logBuffer) {
	p := New(cfg)
	logs := &logBuffer{}
	p.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return p, logs
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func router(name, rule string) string {
	return "http:\n  routers:\n    " + name + ":\n      rule: " + rule + "\n      service: svc\n"
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dyn.yml")
	writeFile(t, file, router("web", "a"))
	conf := filepath.Join(dir, "dyn.conf")
	writeFile(t, conf, "")

	tests := []struct {
		name string
		cfg  static.FileProvider
		want string // substring of the error; "" for success
	}{
		{"filename", static.FileProvider{Filename: file}, ""},
		{"directory", static.FileProvider{Directory: dir}, ""},
		{"neither", static.FileProvider{}, "set one of filename or directory"},
		{"both", static.FileProvider{Filename: file, Directory: dir}, "mutually exclusive"},
		{"missing file", static.FileProvider{Filename: filepath.Join(dir, "nope.yml")}, `nope.yml": no such file or directory`},
		{"unsupported extension", static.FileProvider{Filename: conf}, `unsupported extension ".conf"`},
		{"file is a directory", static.FileProvider{Filename: filepath.Join(dir, "d.yml")}, "is a directory"},
		{"missing directory", static.FileProvider{Directory: filepath.Join(dir, "nope")}, `nope": no such file or directory`},
		{"directory is a file", static.FileProvider{Directory: file}, "not a directory"},
	}
	if err := os.Mkdir(filepath.Join(dir, "d.yml"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.cfg).Init()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestInitUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "dyn.yml")
	writeFile(t, file, "")
	if err := os.Chmod(file, 0); err != nil {
		t.Fatal(err)
	}
	err := New(static.FileProvider{Filename: file}).Init()
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), file) {
		t.Fatalf("error = %v", err)
	}
}

func TestLoadOnceSingleFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content string }{
		{"dyn.yml", router("web", "Host(`a`)")},
		{"dyn.toml", "[http.routers.web]\nrule = \"Host(`a`)\"\nservice = \"svc\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			writeFile(t, path, tc.content)
			conf, err := New(static.FileProvider{Filename: path}).LoadOnce()
			if err != nil {
				t.Fatal(err)
			}
			if r := conf.HTTP.Routers["web"]; r == nil || r.Rule != "Host(`a`)" || r.Service != "svc" {
				t.Fatalf("router = %+v", r)
			}
		})
	}
}

func TestLoadOnceDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yml"), router("a", "Host(`a`)"))
	writeFile(t, filepath.Join(dir, "sub", "b.toml"), "[http.routers.b]\nrule = \"Host(`b`)\"\n")
	writeFile(t, filepath.Join(dir, "sub", "deeper", "c.YAML"), router("c", "Host(`c`)"))
	writeFile(t, filepath.Join(dir, "sub", "deeper", "d.yaml"), "tcp:\n  routers:\n    d:\n      rule: HostSNI(`*`)\n")
	// Ignored: other extensions, hidden files and hidden directories.
	writeFile(t, filepath.Join(dir, "notes.txt"), "not: [valid")
	writeFile(t, filepath.Join(dir, "e.json"), router("e", "x"))
	writeFile(t, filepath.Join(dir, ".hidden.yml"), router("hidden", "x"))
	writeFile(t, filepath.Join(dir, ".git", "f.yml"), router("git", "x"))
	writeFile(t, filepath.Join(dir, "a.yml.swp"), "garbage: [")
	// A symlinked directory is followed once.
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "zlink")); err != nil {
		t.Fatal(err)
	}

	p, logs := newTestProvider(static.FileProvider{Directory: dir})
	conf, err := p.LoadOnce()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range conf.HTTP.Routers {
		got = append(got, name)
	}
	slices.Sort(got)
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("HTTP routers = %v, want %v", got, want)
	}
	if conf.TCP.Routers["d"] == nil {
		t.Error("TCP router d missing")
	}
	if strings.Contains(logs.String(), "already defined") {
		t.Errorf("symlinked directory read twice:\n%s", logs)
	}
}

func TestLoadOnceDuplicateKeepsFirst(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "01.yml")
	second := filepath.Join(dir, "02.yml")
	writeFile(t, first, router("web", "Host(`first`)"))
	writeFile(t, second, router("web", "Host(`second`)")+"  services:\n    svc:\n      loadBalancer:\n        servers:\n          - url: http://x\n")

	p, logs := newTestProvider(static.FileProvider{Directory: dir})
	conf, err := p.LoadOnce()
	if err != nil {
		t.Fatal(err)
	}
	if got := conf.HTTP.Routers["web"].Rule; got != "Host(`first`)" {
		t.Errorf("rule = %s, want the first file's", got)
	}
	if conf.HTTP.Services["svc"] == nil {
		t.Error("the rest of the second file is lost")
	}
	out := logs.String()
	if !strings.Contains(out, "HTTP router already defined") || !strings.Contains(out, "file="+second) || !strings.Contains(out, "first="+first) {
		t.Errorf("warning does not name both files:\n%s", out)
	}
}

func TestLoadOnceFirstError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yml"), router("a", "x"))
	bad := filepath.Join(dir, "b.yml")
	writeFile(t, bad, "http:\n  routers:\n    b:\n      rul: x\n")
	writeFile(t, filepath.Join(dir, "c.yml"), "http: [")

	_, err := New(static.FileProvider{Directory: dir}).LoadOnce()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want *Error", err, err)
	}
	if fe.File != bad || fe.Line != 4 || fe.Key != "http.routers.b.rul" || fe.Reason != "field not found" {
		t.Errorf("error = %+v", fe)
	}
}

func TestLoadOnceTemplateLinesAreRendered(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yml")
	writeFile(t, path, "http:\n  routers:\n{{ range until 2 }}\n    r{{ . }}:\n      rule: x\n{{ end }}\n    bad:\n      prio: 1\n")
	_, err := New(static.FileProvider{Filename: path}).LoadOnce()
	var fe *Error
	if !errors.As(err, &fe) || !fe.Rendered || fe.Key != "http.routers.bad.prio" {
		t.Fatalf("error = %v", err)
	}
	if !strings.HasSuffix(err.Error(), "(line of the rendered template)") {
		t.Errorf("error does not say the line is of the rendered output: %v", err)
	}
}

func TestCertificatesInlined(t *testing.T) {
	dir := t.TempDir()
	certPath := filepath.Join(dir, "c.crt")
	keyPath := filepath.Join(dir, "c.key")
	writeFile(t, certPath, "CERT")
	writeFile(t, keyPath, "KEY")
	writeFile(t, filepath.Join(dir, "a.yml"), "tls:\n  certificates:\n    - certFile: "+certPath+"\n      keyFile: "+keyPath+"\n")
	// The same certificate in another file is kept once.
	writeFile(t, filepath.Join(dir, "b.yml"), "tls:\n  certificates:\n    - certFile: "+certPath+"\n      keyFile: "+keyPath+"\n    - certFile: INLINE\n      keyFile: INLINEKEY\n")

	conf, err := New(static.FileProvider{Directory: dir}).LoadOnce()
	if err != nil {
		t.Fatal(err)
	}
	certs := conf.TLS.Certificates
	if len(certs) != 2 {
		t.Fatalf("certificates = %d, want 2", len(certs))
	}
	if certs[0].CertFile != "CERT" || certs[0].KeyFile != "KEY" {
		t.Errorf("file certificate not inlined: %+v", certs[0])
	}
	if certs[1].CertFile != "INLINE" {
		t.Errorf("inline certificate changed: %+v", certs[1])
	}
}

func TestLoadOnceMisc(t *testing.T) {
	dir := t.TempDir()

	// A key without a value is ignored; JSON works as YAML for filename.
	j := filepath.Join(dir, "dyn.json")
	writeFile(t, j, `{"http": {"routers": {"web": {"rule": "a"}}, "services": null}}`)
	conf, err := New(static.FileProvider{Filename: j}).LoadOnce()
	if err != nil || conf.HTTP.Routers["web"] == nil {
		t.Fatalf("json: conf=%v err=%v", conf, err)
	}
	y := filepath.Join(dir, "null.yml")
	writeFile(t, y, "tcp:\nhttp:\n  routers:\n    web:\n      rule: a\n      middlewares:\n")
	if _, err := New(static.FileProvider{Filename: y}).LoadOnce(); err != nil {
		t.Fatalf("null sections: %v", err)
	}

	// debugLogGeneratedTemplate logs the rendered content.
	tp := filepath.Join(dir, "t.yml")
	writeFile(t, tp, `http:
  routers:
    web:
      rule: {{ "Host" }}(`+"`a`"+`)
`)
	p, logs := newTestProvider(static.FileProvider{Filename: tp, DebugLogGeneratedTemplate: true})
	if _, err := p.LoadOnce(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "rendered template") || !strings.Contains(logs.String(), "rule: Host(`a`)") {
		t.Errorf("rendered template not logged:\n%s", logs)
	}
}
