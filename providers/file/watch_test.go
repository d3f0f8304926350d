package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

// within is how soon a change must produce a Message.
const within = 2 * time.Second

type harness struct {
	t    *testing.T
	p    *Provider
	logs *logBuffer
	out  chan dynamic.Message
}

// start runs Provide until the test ends.
func start(t *testing.T, cfg static.FileProvider) *harness {
	t.Helper()
	p, logs := newTestProvider(cfg)
	h := &harness{t: t, p: p, logs: logs, out: make(chan dynamic.Message)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Provide(ctx, h.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Provide: %v", err)
			}
		case <-time.After(within):
			t.Error("Provide did not return after cancel")
		}
	})
	return h
}

// first waits for the initial Message; generous, since it includes start-up
// on a loaded machine (the 2 s promise is about changes).
func (h *harness) first() *dynamic.Configuration {
	h.t.Helper()
	select {
	case m := <-h.out:
		return m.Configuration
	case <-time.After(5 * within):
		h.t.Fatalf("no initial message; logs:\n%s", h.logs)
		return nil
	}
}

// next waits for the next Message.
func (h *harness) next() *dynamic.Configuration {
	h.t.Helper()
	select {
	case m := <-h.out:
		if m.ProviderName != "file" || m.Configuration == nil {
			h.t.Fatalf("bad message %+v", m)
		}
		return m.Configuration
	case <-time.After(within):
		h.t.Fatalf("no message within %s; logs:\n%s", within, h.logs)
		return nil
	}
}

// until waits for a Message satisfying ok, within the deadline.
func (h *harness) until(ok func(*dynamic.Configuration) bool) *dynamic.Configuration {
	h.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-h.out:
			if ok(m.Configuration) {
				return m.Configuration
			}
		case <-deadline:
			h.t.Fatalf("no matching message within %s; logs:\n%s", within, h.logs)
			return nil
		}
	}
}

// none asserts that no Message comes for a while (several debounce periods).
func (h *harness) none() {
	h.t.Helper()
	select {
	case m := <-h.out:
		h.t.Fatalf("unexpected message: %s", routers(m.Configuration))
	case <-time.After(6 * quietPeriod):
	}
}

// routers renders the HTTP routers as "name=rule" sorted, for assertions.
func routers(c *dynamic.Configuration) string {
	var parts []string
	for name, r := range c.HTTP.Routers {
		parts = append(parts, name+"="+r.Rule)
	}
	sortStrings(parts)
	return strings.Join(parts, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func expect(t *testing.T, c *dynamic.Configuration, want string) {
	t.Helper()
	if got := routers(c); got != want {
		t.Fatalf("routers = %q, want %q", got, want)
	}
}

func TestWatchFileSaveStyles(t *testing.T) {
	tests := []struct {
		name string
		save func(t *testing.T, path, content string)
	}{
		{"write in place", func(t *testing.T, path, content string) {
			writeFile(t, path, content)
		}},
		{"truncate then write", func(t *testing.T, path, content string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
			if _, err := f.WriteString(content); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"write temp then rename", func(t *testing.T, path, content string) {
			tmp := filepath.Join(filepath.Dir(path), ".dyn.yml.tmp1234")
			writeFile(t, tmp, content)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"backup rename then write (vim)", func(t *testing.T, path, content string) {
			if err := os.Rename(path, path+"~"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, content)
			if err := os.Remove(path + "~"); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete then re-create", func(t *testing.T, path, content string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			// Long enough for a read to see the file missing.
			time.Sleep(3 * quietPeriod)
			writeFile(t, path, content)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "dyn.yml")
			writeFile(t, path, router("web", "v1"))
			h := start(t, static.FileProvider{Filename: path, Watch: true})
			expect(t, h.first(), "web=v1")

			tt.save(t, path, router("web", "v2"))
			expect(t, h.until(func(c *dynamic.Configuration) bool { return routers(c) != "web=v1" }), "web=v2")

			tt.save(t, path, router("web", "v3"))
			expect(t, h.next(), "web=v3")
		})
	}
}

// configMap lays out dir like a Kubernetes ConfigMap volume: the files
// live in a timestamped hidden directory, ..data links to it and every
// visible name links through ..data.
type configMap struct {
	t   *testing.T
	dir string
	gen int
}

func (cm *configMap) publish(files map[string]string) {
	cm.t.Helper()
	cm.gen++
	ts := filepath.Join(cm.dir, "..2024_01_0"+string(rune('0'+cm.gen)))
	for name, content := range files {
		writeFile(cm.t, filepath.Join(ts, name), content)
	}
	tmp := filepath.Join(cm.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		cm.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(cm.dir, "..data")); err != nil {
		cm.t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(cm.dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			cm.t.Fatal(err)
		}
	}
	if cm.gen > 1 { // the kubelet removes the previous generation
		old := filepath.Join(cm.dir, "..2024_01_0"+string(rune('0'+cm.gen-1)))
		if err := os.RemoveAll(old); err != nil {
			cm.t.Fatal(err)
		}
	}
}

func TestWatchConfigMapSwap(t *testing.T) {
	for _, mode := range []string{"filename", "directory"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cm := &configMap{t: t, dir: t.TempDir()}
			cm.publish(map[string]string{"routes.yml": router("web", "v1")})
			cfg := static.FileProvider{Directory: cm.dir, Watch: true}
			if mode == "filename" {
				cfg = static.FileProvider{Filename: filepath.Join(cm.dir, "routes.yml"), Watch: true}
			}
			h := start(t, cfg)
			// Hidden ..data and ..2024_* are not read twice in directory mode.
			expect(t, h.first(), "web=v1")

			cm.publish(map[string]string{"routes.yml": router("web", "v2")})
			expect(t, h.until(func(c *dynamic.Configuration) bool { return routers(c) != "web=v1" }), "web=v2")

			cm.publish(map[string]string{"routes.yml": router("web", "v3")})
			expect(t, h.until(func(c *dynamic.Configuration) bool { return routers(c) != "web=v2" }), "web=v3")
		})
	}
}

func TestWatchSymlinkTargetEdited(t *testing.T) {
	t.Parallel()
	target := filepath.Join(t.TempDir(), "real.yml")
	writeFile(t, target, router("web", "v1"))
	link := filepath.Join(t.TempDir(), "dyn.yml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h := start(t, static.FileProvider{Filename: link, Watch: true})
	expect(t, h.first(), "web=v1")
	writeFile(t, target, router("web", "v2"))
	expect(t, h.next(), "web=v2")
}

func TestWatchDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yml"), router("a", "v1"))
	h := start(t, static.FileProvider{Directory: dir, Watch: true})
	expect(t, h.first(), "a=v1")

	// A new file.
	writeFile(t, filepath.Join(dir, "b.toml"), "[http.routers.b]\nrule = \"v1\"\n")
	expect(t, h.next(), "a=v1,b=v1")

	// A new sub-directory tree with a file written right away.
	writeFile(t, filepath.Join(dir, "sub", "deeper", "c.yaml"), router("c", "v1"))
	expect(t, h.until(func(c *dynamic.Configuration) bool { return c.HTTP.Routers["c"] != nil }), "a=v1,b=v1,c=v1")

	// The new directories are watched: later edits inside them are seen.
	writeFile(t, filepath.Join(dir, "sub", "deeper", "c.yaml"), router("c", "v2"))
	expect(t, h.next(), "a=v1,b=v1,c=v2")
	writeFile(t, filepath.Join(dir, "sub", "d.yml"), router("d", "v1"))
	expect(t, h.next(), "a=v1,b=v1,c=v2,d=v1")

	// Files that are not read change nothing.
	writeFile(t, filepath.Join(dir, "README.md"), "hello")
	writeFile(t, filepath.Join(dir, ".a.yml.swp"), "garbage: [")
	h.none()

	// A removed file and a removed directory.
	if err := os.Remove(filepath.Join(dir, "b.toml")); err != nil {
		t.Fatal(err)
	}
	expect(t, h.next(), "a=v1,c=v2,d=v1")
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	expect(t, h.next(), "a=v1")

	// A directory that comes back under the same name is watched again.
	writeFile(t, filepath.Join(dir, "sub", "e.yml"), router("e", "v1"))
	expect(t, h.until(func(c *dynamic.Configuration) bool { return c.HTTP.Routers["e"] != nil }), "a=v1,e=v1")
	writeFile(t, filepath.Join(dir, "sub", "e.yml"), router("e", "v2"))
	expect(t, h.next(), "a=v1,e=v2")
}

func TestWatchBrokenKeepsLastGood(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "dyn.yml")
	other := filepath.Join(dir, "other.yml")
	writeFile(t, path, router("web", "v1"))
	writeFile(t, other, router("other", "v1"))
	h := start(t, static.FileProvider{Directory: dir, Watch: true})
	expect(t, h.first(), "other=v1,web=v1")

	broken := []struct{ name, content, log string }{
		{"unknown key", "http:\n  routers:\n    web:\n      rul: v2\n", `line=4 key=http.routers.web.rul reason="field not found"`},
		{"syntax", "http:\n  routers: [\n", `reason="yaml: did not find expected node content"`},
		{"template", "http: {{ nope }}\n", `line=1 reason="template: function \"nope\" not defined"`},
		{"bad duration", "http:\n  services:\n    s:\n      loadBalancer:\n        healthCheck:\n          timeout: soon\n", `line=6`},
	}
	for _, b := range broken {
		writeFile(t, path, b.content)
		h.none()
		logs := h.logs.String()
		if !strings.Contains(logs, "keeping the last good one") || !strings.Contains(logs, "file="+path) || !strings.Contains(logs, b.log) {
			t.Fatalf("%s: log lacks file/line/reason %q:\n%s", b.name, b.log, logs)
		}
		// Another file changing while one is broken sends nothing either.
		writeFile(t, other, router("other", "v-"+strings.ReplaceAll(b.name, " ", "-")))
		h.none()
	}

	// Restored: the whole configuration is sent, other files included.
	writeFile(t, path, router("web", "v2"))
	expect(t, h.next(), "other=v-bad-duration,web=v2")
}

func TestWatchInitiallyBroken(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dyn.toml")
	writeFile(t, path, "[http.routers.web\n")
	h := start(t, static.FileProvider{Filename: path, Watch: true})
	h.none()
	logs := h.logs.String()
	if !strings.Contains(logs, "line=2") || !strings.Contains(logs, "toml:") {
		t.Fatalf("broken file not logged with the parser's line:\n%s", logs)
	}
	if n := strings.Count(logs, "keeping the last good one"); n != 1 {
		t.Errorf("error logged %d times, want once:\n%s", n, logs)
	}
	writeFile(t, path, "[http.routers.web]\nrule = \"v1\"\n")
	expect(t, h.first(), "web=v1")
}

func TestWatchEmptyFileIsEmptyConfiguration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dyn.yml")
	writeFile(t, path, router("web", "v1"))
	h := start(t, static.FileProvider{Filename: path, Watch: true})
	expect(t, h.first(), "web=v1")
	writeFile(t, path, "")
	c := h.next()
	expect(t, c, "")
	if c.HTTP.Routers == nil || c.TLS.Stores == nil {
		t.Error("empty configuration not normalized")
	}
}

func TestWatchNoDuplicateSends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dyn.yml")
	content := router("web", "v1")
	writeFile(t, path, content)
	h := start(t, static.FileProvider{Filename: path, Watch: true})
	expect(t, h.first(), "web=v1")
	h.none() // the read after the initial watches are set sends nothing

	writeFile(t, path, content) // same bytes
	h.none()
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil { // touch
		t.Fatal(err)
	}
	h.none()
	writeFile(t, path, "# a comment changes nothing\n"+content) // same configuration
	h.none()
	writeFile(t, filepath.Join(filepath.Dir(path), "unrelated.txt"), "x")
	h.none()

	writeFile(t, path, router("web", "v2"))
	expect(t, h.next(), "web=v2")
	// Back to a configuration sent before, but not the last one: sent.
	writeFile(t, path, content)
	expect(t, h.next(), "web=v1")
}

func TestReloadWithoutWatch(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dyn.yml")
	writeFile(t, path, router("web", "v1"))
	h := start(t, static.FileProvider{Filename: path, Watch: false})
	expect(t, h.first(), "web=v1")
	writeFile(t, path, router("web", "v2"))
	h.none()
	h.p.Reload()
	h.p.Reload() // coalesced, never blocks
	expect(t, h.next(), "web=v2")
}

func TestWatchDirectoryReplaced(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "conf")
	writeFile(t, filepath.Join(dir, "a.yml"), router("a", "v1"))
	h := start(t, static.FileProvider{Directory: dir, Watch: true})
	expect(t, h.first(), "a=v1")

	// Deploy tools swap whole directories: the watched inode goes away.
	staged := filepath.Join(parent, "conf.new")
	writeFile(t, filepath.Join(staged, "a.yml"), router("a", "v2"))
	if err := os.Rename(dir, filepath.Join(parent, "conf.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staged, dir); err != nil {
		t.Fatal(err)
	}
	// Seen through the retry that re-arms the lost watch.
	select {
	case m := <-h.out:
		expect(t, m.Configuration, "a=v2")
	case <-time.After(retryDelay + within):
		t.Fatalf("no message after the directory was replaced; logs:\n%s", h.logs)
	}
	writeFile(t, filepath.Join(dir, "a.yml"), router("a", "v3"))
	expect(t, h.next(), "a=v3")
}

func TestWatchFileMissingAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "dyn.yml")
	h := start(t, static.FileProvider{Filename: path, Watch: true})
	h.none()
	if logs := h.logs.String(); !strings.Contains(logs, "no such file or directory") {
		t.Fatalf("missing file not logged:\n%s", logs)
	}
	writeFile(t, path, router("web", "v1"))
	expect(t, h.next(), "web=v1")
}
