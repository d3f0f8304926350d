package integration

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestAcceptBacksOffOnEMFILE: out of file descriptors, the accept loop
// backs off (no spin: CPU stays low; one log line per interval) and
// serves again once descriptors are free.
func TestAcceptBacksOffOnEMFILE(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/prlimit"); err != nil {
		t.Skip("needs prlimit")
	}
	requireBinary(t)
	e := newEnv(t)
	e.SetURL("target", recorderBackend(t))
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
log:
  level: WARN
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Proc = startProc(t, e.Dir, nil, "/usr/bin/prlimit", "--nofile=96:96", binSwitchyard, "--configFile="+e.StatPath)
	e.WaitRouters("app@file")
	pid := e.Proc.cmd.Process.Pid

	// Connections that never send hold a descriptor each until
	// readTimeout (60 s): far more than the limit.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 200 {
		c, err := net.DialTimeout("tcp", e.Addr("web"), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	e.waitFor(10*time.Second, "accept errors logged", func() bool {
		return strings.Contains(e.Proc.Output(), "accept error")
	})
	before := cpuTicks(t, pid)
	time.Sleep(2 * time.Second)
	used := cpuTicks(t, pid) - before // cpuTicks: http2_hardening_test.go
	// 100 ticks a second is a core: a spinning accept loop uses about
	// 200 here; backing off uses next to nothing.
	t.Logf("out of descriptors: %d CPU ticks in 2 s, %d accept-error lines", used, strings.Count(e.Proc.Output(), "accept error"))
	if used > 40 {
		t.Errorf("%d CPU ticks in 2 s while out of descriptors: the accept loop spins", used)
	}
	if n := strings.Count(e.Proc.Output(), "accept error"); n > 3 {
		t.Errorf("%d accept-error log lines in a few seconds, want one per interval", n)
	}

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	e.waitFor(15*time.Second, "served again once descriptors are free", func() bool {
		r, err := tryDo(request{url: e.URL("web") + "/again"})
		return err == nil && r.Status == 200
	})
}
