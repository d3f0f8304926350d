package main

// Fuzz targets for the static configuration: the file (YAML and TOML,
// through filedecode, with errors located), flags and environment variables
// (through paerser, with the failing flag or variable named).

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/paerser/cli"
	pfile "github.com/traefik/paerser/file"
)

// checkStatic: a configuration that decoded gets its defaults and is
// validated without panicking; a validation error says something.
func checkStatic(t *testing.T, cfg *cmdConfig) {
	t.Helper()
	cfg.SetEffectiveConfiguration()
	if err := cfg.Validate(); err != nil && err.Error() == "" {
		t.Fatal("empty validation error")
	}
}

// FuzzStaticFile: any content as switchyard.yml / switchyard.toml. Asserts:
// no panic; every error names the file; what Switchyard's decoder accepts,
// paerser's (Traefik's decoder, the reference) accepts too and decodes to
// the same configuration; the result validates without panicking.
func FuzzStaticFile(f *testing.F) {
	for _, s := range []struct {
		ext     uint8
		content string
	}{
		{0, "entryPoints:\n  web:\n    address: \":8080\"\nproviders:\n  file:\n    directory: /etc/switchyard/dynamic\n"},
		{0, "entryPoints:\n  web:\n    address: \":80\"\n    http:\n      redirections:\n        entryPoint:\n          to: websecure\n          scheme: https\n  websecure:\n    address: \":443\"\n    asDefault: true\n"},
		{0, "entryPoints:\n  web:\n    address: \":80\"\n    proxyProtocol:\n      trustedIPs: [\"10.0.0.0/8\", \"::1\"]\n    forwardedHeaders:\n      insecure: true\n    transport:\n      respondingTimeouts:\n        readTimeout: 5s\n        idleTimeout: 1m\n      lifeCycle:\n        graceTimeOut: 3\n"},
		{0, "api:\n  dashboard: true\n  insecure: true\nping: {}\nlog:\n  level: DEBUG\naccessLog:\n  format: json\n  fields:\n    headers:\n      defaultMode: keep\n"},
		{0, "metrics:\n  prometheus:\n    buckets: [0.1, 0.3, 1.2, 5.0]\ntracing:\n  otlp:\n    http:\n      endpoint: http://127.0.0.1:4318\n"},
		{0, "certificatesResolvers:\n  le:\n    acme:\n      email: a@example.com\n      storage: acme.json\n      httpChallenge:\n        entryPoint: web\n"},
		{0, "providers:\n  consul:\n    endpoints: [\"127.0.0.1:8500\"]\n    rootKey: traefik\n  consulCatalog:\n    exposedByDefault: false\n    constraints: \"Tag(`a`)\"\n"},
		{0, "entryPoints:\n  web:\n    address: \":80\"\n    adrs: \":81\"\n"},
		{0, "entrypoints:\n  web:\n    address: 80\n"},
		{0, "entryPoints: [1, 2]\n"},
		{0, "entryPoints:\n  web: &a\n    address: \":80\"\n  b: *a\n"},
		{0, "serversTransport:\n  insecureSkipVerify: true\n  maxIdleConnsPerHost: -1\n  forwardingTimeouts:\n    dialTimeout: 0x10\n"},
		{0, "\t\n"},
		{0, "log:\n  level: [\n"},
		{1, "[entryPoints.web]\naddress = \":8080\"\n[providers.file]\nfilename = \"dyn.toml\"\n"},
		{1, "[entryPoints.web.transport.respondingTimeouts]\nreadTimeout = \"5s\"\n[api]\ninsecure = true\n"},
		{1, "[entryPoints]\nweb = 1\n"},
		{1, "[log]\nlevel = \"\"\"\nx\"\"\"\n[[log]]\n"},
		{1, "entryPoints.web.address = \":80\"\nentryPoints.web.address = \":81\"\n"},
	} {
		f.Add(s.ext, s.content)
	}
	dir := f.TempDir()
	exts := []string{".yml", ".toml"}
	f.Fuzz(func(t *testing.T, extIdx uint8, content string) {
		ext := exts[int(extIdx)%len(exts)]
		path := filepath.Join(dir, "switchyard"+ext)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := newCmdConfig()
		err := decodeStaticFile(path, cfg)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, path) {
					t.Fatalf("error does not name the file: %q", line)
				}
			}
			return
		}
		ref := newCmdConfig()
		if rerr := pfile.DecodeContent(content, ext, ref); rerr != nil {
			t.Fatalf("accepted, but paerser refuses: %v\n%s", rerr, content)
		}
		if !reflect.DeepEqual(cfg, ref) {
			t.Fatalf("decodes differently from paerser:\n%s", content)
		}
		checkStatic(t, cfg)
	})
}

// FuzzStaticFlags: any command line (one argument a line). Asserts: no
// panic; an error names the command line; decoding is deterministic; the
// result validates without panicking.
func FuzzStaticFlags(f *testing.F) {
	for _, s := range []string{
		"--entryPoints.web.address=:8080\n--providers.file.directory=/tmp",
		"--entrypoints.web.address=:80\n--entrypoints.web.http.redirections.entrypoint.to=websecure",
		"--api.insecure\n--api.dashboard=true\n--ping",
		"--log.level=DEBUG\n--accesslog=true\n--accesslog.format=json",
		"--entryPoints.web.proxyProtocol.trustedIPs=10.0.0.0/8,::1",
		"--entryPoints.web.transport.respondingTimeouts.readTimeout=5x",
		"--metrics.prometheus.buckets=0.1,x",
		"--entryPoints.web.address",
		"--entryPoints..address=:1",
		"--nope=1",
		"-x",
		"--",
		"--providers.consulcatalog.constraints=Tag(`a`)",
		"--configFile=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		args := strings.Split(line, "\n")
		if strings.HasPrefix(strings.ToLower(strings.TrimLeft(line, "-")), "configfile") {
			return // the file loader's business, with files on disk
		}
		load := func() (*cmdConfig, error) {
			cfg := newCmdConfig()
			cmd := &cli.Command{Name: "switchyard", Configuration: cfg}
			_, err := flagLoader{src: &source{}}.Load(args, cmd)
			return cfg, err
		}
		cfg, err := load()
		again, err2 := load()
		if (err == nil) != (err2 == nil) || err == nil && !reflect.DeepEqual(cfg, again) {
			t.Fatalf("decoding %q is not deterministic: %v / %v", args, err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "command line: ") {
				t.Fatalf("error does not say where: %v", err)
			}
			return
		}
		checkStatic(t, cfg)
	})
}

// FuzzStaticEnv: any SWITCHYARD_* variable. Asserts: no panic; an error
// names the variable (or the prefix); the result validates.
func FuzzStaticEnv(f *testing.F) {
	for _, s := range [][2]string{
		{"SWITCHYARD_ENTRYPOINTS_WEB_ADDRESS", ":8080"},
		{"SWITCHYARD_API_INSECURE", "true"},
		{"SWITCHYARD_LOG_LEVEL", "DEBUG"},
		{"SWITCHYARD_ENTRYPOINTS_WEB_PROXYPROTOCOL_TRUSTEDIPS", "10.0.0.0/8,::1"},
		{"SWITCHYARD_ENTRYPOINTS_WEB_TRANSPORT_RESPONDINGTIMEOUTS_READTIMEOUT", "5x"},
		{"SWITCHYARD_PROVIDERS_FILE_WATCH", "maybe"},
		{"SWITCHYARD_NOPE", "1"},
		{"SWITCHYARD_", "x"},
		{"SWITCHYARD_ENTRYPOINTS__ADDRESS", ":1"},
		{"SWITCHYARD_METRICS_PROMETHEUS_BUCKETS", "0.1,x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if !strings.HasPrefix(name, "SWITCHYARD_") || strings.ContainsAny(name, "=\x00") || strings.ContainsRune(value, 0) ||
			strings.HasPrefix(strings.ToUpper(name), "SWITCHYARD_CONFIGFILE") {
			return
		}
		t.Setenv(name, value)
		cfg := newCmdConfig()
		cmd := &cli.Command{Name: "switchyard", Configuration: cfg}
		_, err := envLoader{src: &source{}, prefix: "SWITCHYARD_"}.Load(nil, cmd)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "environment") {
				t.Fatalf("error does not say where: %v", err)
			}
			return
		}
		checkStatic(t, cfg)
	})
}
