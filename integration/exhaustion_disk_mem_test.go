package integration

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAccessLogDiskFull (issue 13, must-hold 7): the access log lives on a
// 64 KiB tmpfs that fills up. Every request is still served; the write
// errors are logged, rate-limited (one warning per 10 s) with the reason;
// once space is back, logging resumes on a line of its own. Both the
// unbuffered and the buffered writer.
func TestAccessLogDiskFull(t *testing.T) {
	t.Parallel()
	for _, buffering := range []int{0, 50} {
		t.Run(fmt.Sprintf("bufferingSize=%d", buffering), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			dir := filepath.Join(e.Dir, "logs")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a small tmpfs here (needs root and mount permission): %v %s", err, out)
			}
			t.Cleanup(func() {
				if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
					t.Logf("umount %s: %v %s", dir, err, out)
				}
			})
			logPath := filepath.Join(dir, "access.log")
			e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
			e.WriteStatic("yml", fmt.Sprintf(`
entryPoints:
  web:
    address: "<%% addr "web" %%>"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<%% dyn %%>"
accessLog:
  filePath: %q
  bufferingSize: %d
`, logPath, buffering))
			e.WriteDynamic("yml", "http:\n  routers:\n    app: {rule: \"PathPrefix(`/`)\", service: s}\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n")
			e.Start()
			e.waitFor(10*time.Second, "served", func() bool { return status(t, e.URL("web")+"/") == 200 })

			// A long path makes each line ~1 KiB: the disk is full after
			// about 60 requests; 600 are sent.
			long := "/" + strings.Repeat("x", 900)
			failed := 0
			for i := range 600 {
				rep, err := tryDo(request{url: fmt.Sprintf("%s%s/%d", e.URL("web"), long, i)})
				if err != nil || rep.Status != 200 {
					failed++
				}
			}
			if failed != 0 {
				t.Fatalf("%d of 600 requests failed with the access log's disk full", failed)
			}
			e.waitFor(10*time.Second, "the write error logged", func() bool {
				return strings.Contains(e.Proc.Output(), "no space left on device")
			})
			if n := strings.Count(e.Proc.Output(), "access log: lines lost"); n > 2 {
				t.Errorf("the write error was logged %d times in a few seconds: not rate-limited", n)
			}
			// Space is back.
			if err := os.Truncate(logPath, 0); err != nil {
				t.Fatal(err)
			}
			var content []byte
			e.waitFor(10*time.Second, "logging resumed", func() bool {
				do(t, request{url: e.URL("web") + "/after-space-is-back"})
				content, _ = os.ReadFile(logPath)
				return bytes.Contains(content, []byte("/after-space-is-back"))
			})
			for _, l := range strings.Split(strings.TrimSpace(string(content)), "\n") {
				if strings.Contains(l, "/after-space-is-back") && !strings.HasPrefix(l, "127.0.0.1") {
					t.Errorf("the line after the full disk is glued to a lost one: %.120q", l)
				}
			}
		})
	}
}

// TestGOMEMLIMITBoundedBuffering (issue 13, must-hold 7): with
// GOMEMLIMIT=64MiB the GC tuner stays off (the operator's limit wins, and
// the log says so), and 32 concurrent 16 MiB uploads plus 32 concurrent
// 16 MiB downloads (1 GiB in all) pass through with the peak RSS well
// under what buffering them would take: bodies are streamed, never held.
func TestGOMEMLIMITBoundedBuffering(t *testing.T) {
	t.Parallel()
	const size = 16 << 20
	const clients = 32
	chunk := make([]byte, 64<<10)
	_, _ = rand.Read(chunk)
	backend := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%d", n)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	e := newEnv(t)
	e.SetURL("big", backend)
	e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
log:
  level: INFO
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", "http:\n  routers:\n    app: {rule: \"PathPrefix(`/`)\", service: s}\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"<% url \"big\" %>\"}]\n")
	e.StartWithEnv([]string{"GOMEMLIMIT=64MiB"})
	e.waitFor(10*time.Second, "served", func() bool { return status(t, e.URL("web")+"/") == 200 })
	if !strings.Contains(e.Proc.Output(), "GC tuner off") {
		t.Errorf("the GC tuner did not step aside for GOMEMLIMIT:\n%s", tail(e.Proc.Output(), 2000))
	}
	pid := e.Proc.cmd.Process.Pid

	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for i := range 2 * clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req *http.Request
			if i%2 == 0 {
				req, _ = http.NewRequest(http.MethodPost, e.URL("web")+"/up", io.LimitReader(repeatReader(chunk), size))
				req.ContentLength = size
			} else {
				req, _ = http.NewRequest(http.MethodGet, e.URL("web")+"/down", nil)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || (i%2 == 1 && n != size) {
				errs <- fmt.Errorf("%s: %d, %d bytes, %v", req.URL.Path, resp.StatusCode, n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peak := procStatus(pid, "VmHWM")
	t.Logf("GOMEMLIMIT=64MiB, %d x 16 MiB up + %d x 16 MiB down at once: peak RSS %d MiB", clients, clients, peak>>10)
	if peak > 160<<10 {
		t.Errorf("peak RSS %d MiB with GOMEMLIMIT=64MiB: bodies are buffered", peak>>10)
	}
}

// repeatReader repeats b forever.
func repeatReader(b []byte) io.Reader {
	return &repeater{b: b}
}

type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}
