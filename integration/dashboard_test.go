package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumWhy  string
)

// findChromium returns a headless-capable Chromium, installing the Debian
// package "chromium" with apt-get when it is missing and we are root.
func findChromium() (string, string) {
	chromiumOnce.Do(func() {
		look := func() string {
			for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
				if p, err := exec.LookPath(n); err == nil {
					return p
				}
			}
			return ""
		}
		if chromiumPath = look(); chromiumPath != "" {
			return
		}
		apt, err := exec.LookPath("apt-get")
		if err != nil || os.Geteuid() != 0 {
			chromiumWhy = "chromium not installed and cannot apt-get install it (need apt-get and root)"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, apt, "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			chromiumWhy = "apt-get install chromium failed: " + err.Error() + ": " + lastLines(string(out), 5)
			return
		}
		if chromiumPath = look(); chromiumPath == "" {
			chromiumWhy = "chromium installed but not found in PATH"
		}
	})
	return chromiumPath, chromiumWhy
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// TestDashboardBrowser loads the dashboard in headless Chromium against a
// running instance with a broken router: the router shows as an error with
// its message, the search filters it, its detail page shows its chain, and
// a router added to the dynamic file appears without a reload of the page.
// Screenshots land in integration/artifacts/.
func TestDashboardBrowser(t *testing.T) {
	t.Parallel()
	chrome, why := findChromium()
	if chrome == "" {
		t.Skip("dashboard browser test skipped: " + why)
	}
	e := newEnv(t)
	dyn := `
http:
  routers:
    app:
      rule: "Host(` + "`app.example`" + `)"
      entryPoints: [web]
      middlewares: [strip]
      service: app
    broken:
      rule: "Host(` + "`broken.example`" + `) && Path("
      entryPoints: [web]
      middlewares: [strip]
      service: app
  middlewares:
    strip:
      stripPrefix:
        prefixes: ["/api"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "dash" %>"
tls:
  certificates:
    - certFile: "<% dir %>/dash.crt"
      keyFile: "<% dir %>/dash.key"
`
	ca := newCA(t, "dashboard CA")
	certPEM, keyPEM := ca.issue(t, "dash.test", []string{"dash.test"}, false)
	writePair(t, e.Dir, "dash", certPEM, keyPEM)
	e.WriteDynamic("yml", dyn)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
  dashboard: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	rd := e.WaitRouters("app@file", "broken@file")
	broken := rd.Routers["broken@file"]
	if broken.Status != "disabled" || len(broken.Error) == 0 {
		t.Fatalf("broken router not disabled by the API: %+v", broken)
	}
	wantErr := broken.Error[0]

	artifacts, err := filepath.Abs("artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(chromeProfileDir(t)),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	// A newer Chromium sends enum values this cdproto does not know; those
	// events are not used here, so their decode errors are noise.
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		if !strings.Contains(f, "unmarshal event") {
			t.Logf("chromedp: "+f, a...)
		}
	}))
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	var errText, brokenClass, certRow string
	var listShot []byte
	err = chromedp.Run(ctx,
		chromedp.Navigate(e.URL("traefik")+"/dashboard/"),
		chromedp.WaitVisible(`#routers tbody tr.row-disabled`, chromedp.ByQuery),
		chromedp.Text(`#routers tbody tr.error-row`, &errText, chromedp.ByQuery),
		chromedp.AttributeValue(`#routers tbody tr.row-disabled`, "class", &brokenClass, nil, chromedp.ByQuery),
		chromedp.WaitVisible(`#tls-certs tbody tr`, chromedp.ByQuery),
		chromedp.Text(`#tls-certs tbody tr`, &certRow, chromedp.ByQuery),
		chromedp.FullScreenshot(&listShot, 100),
	)
	if err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	if !strings.Contains(errText, wantErr) {
		t.Errorf("error row %q does not show the router's error %q", errText, wantErr)
	}
	writeArtifact(t, filepath.Join(artifacts, "dashboard.png"), listShot)
	// The certificate expires in a day (test CA): shown, and as a warning.
	if !strings.Contains(certRow, "dash.test") || !strings.Contains(certRow, "warning") {
		t.Errorf("TLS certificate row %q", certRow)
	}

	// Search: "broken" leaves only the broken router (and its error row).
	var visible []string
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#search`, "broken", chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#routers tbody:first-of-type tr')).filter(r => !r.hidden && !r.classList.contains('error-row')).map(r => r.cells[1].textContent)`, &visible),
	)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(visible) != 1 || visible[0] != "broken@file" {
		t.Errorf("rows visible for search 'broken': %q", visible)
	}

	// Detail page of the broken router, reached by its link.
	var name, detailErr string
	var chain []string
	var detailShot []byte
	err = chromedp.Run(ctx,
		chromedp.Click(`#routers a[href="#/http/routers/broken%40file"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#detail-name`, chromedp.ByQuery),
		chromedp.Text(`#detail-name`, &name, chromedp.ByQuery),
		chromedp.Text(`#detail .detail-errors`, &detailErr, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#detail ol.chain > li.step .step-kind')).map(n => n.textContent)`, &chain),
		chromedp.FullScreenshot(&detailShot, 100),
	)
	if err != nil {
		t.Fatalf("detail page: %v", err)
	}
	writeArtifact(t, filepath.Join(artifacts, "dashboard-detail.png"), detailShot)
	if name != "broken@file" {
		t.Errorf("detail page name %q", name)
	}
	if !strings.Contains(detailErr, wantErr) {
		t.Errorf("detail page error %q, want %q", detailErr, wantErr)
	}
	if want := "entrypoints router middleware service server"; strings.Join(chain, " ") != want {
		t.Errorf("chain %q, want %q", chain, want)
	}

	// Live refresh: a new router shows up on the list without reloading.
	e.WriteDynamic("yml", strings.Replace(dyn, "  middlewares:\n    strip:", `    late:
      rule: "Host(`+"`late.example`"+`)"
      service: app
  middlewares:
    strip:`, 1))
	e.WaitRouters("late@file")
	err = chromedp.Run(ctx,
		chromedp.Click(`#back`, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById('search').value = ''; applyFilter(); true`, nil),
		chromedp.WaitVisible(`#routers a[href="#/http/routers/late%40file"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("live refresh: %v", err)
	}
}

func writeArtifact(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("artifact: %v", err)
	}
	t.Logf("artifact: %s (%d bytes)", path, len(data))
}

// chromeProfileDir is Chromium's profile folder. Not t.TempDir: Chromium's
// helper processes may still write to it for a moment after the browser
// is closed, which fails t.TempDir's cleanup ("directory not empty").
func chromeProfileDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "switchyard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}
