package integration

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
)

// A real Docker Engine for the Docker provider tests: Debian's docker.io
// (`make docker` installs it), one dockerd for the whole test binary with
// its own data root, exec root, socket, cgroup parent and containerd
// namespace, and no change to the host's network (no bridge, no
// iptables). Containers run on the host network, each on its own port.
// Images are imported from a rootfs holding a static Go server: no
// registry.

type dockerd struct {
	bin    string
	args   []string
	dir    string
	sock   string // unix:// endpoint
	cli    *dockerclient.Client
	cmd    *exec.Cmd
	log    *syncBuffer
	cgroup string
	err    error
}

var (
	dockerdOnce sync.Once
	theDockerd  *dockerd
)

// Images built by requireDockerd.
const (
	imgSrv       = "switchyard-test/srv:1"
	imgSrvHealth = "switchyard-test/srv-health:1"
)

// requireDockerd starts the shared dockerd on first use; the test is
// skipped, with the reason, only when dockerd cannot run here at all (not
// installed, or not root).
func requireDockerd(t testing.TB) *dockerd {
	t.Helper()
	dockerdOnce.Do(func() { theDockerd = startDockerd(false) })
	if theDockerd.err != nil {
		t.Skipf("no Docker Engine: %v", theDockerd.err)
	}
	return theDockerd
}

// startDockerd starts an Engine of its own (liveRestore: containers keep
// running while it is down).
func startDockerd(liveRestore bool) *dockerd {
	d := &dockerd{log: &syncBuffer{}}
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		d.err = fmt.Errorf("dockerd not installed (make docker installs Debian's docker.io): %v", err)
		return d
	}
	if os.Geteuid() != 0 {
		d.err = fmt.Errorf("dockerd needs root")
		return d
	}
	// Short path: the socket path must fit in sun_path.
	if d.dir, err = os.MkdirTemp("/tmp", "sy-dockerd-"); err != nil {
		d.err = err
		return d
	}
	id := filepath.Base(d.dir)
	d.sock = "unix://" + filepath.Join(d.dir, "docker.sock")
	d.cgroup = id
	d.bin = bin
	d.args = []string{
		"--data-root", filepath.Join(d.dir, "root"),
		"--exec-root", filepath.Join(d.dir, "exec"),
		"--host", d.sock,
		"--pidfile", filepath.Join(d.dir, "docker.pid"),
		"--cgroup-parent", d.cgroup,
		"--containerd-namespace", id,
		"--containerd-plugins-namespace", id + "-plugins",
		"--storage-driver=overlay2",
		"--iptables=false", "--ip-masq=false", "--ip6tables=false", "--bridge=none",
	}
	if liveRestore {
		d.args = append(d.args, "--live-restore")
	}
	atExit(d.stop)
	if d.cli, err = dockerclient.NewClientWithOpts(dockerclient.WithHost(d.sock), dockerclient.WithAPIVersionNegotiation()); err != nil {
		d.err = err
		return d
	}
	if d.err = d.startDaemon(); d.err != nil {
		return d
	}
	if err := d.importImages(); err != nil {
		d.err = err
	}
	return d
}

// startDaemon runs dockerd with d.args and waits until it answers.
func (d *dockerd) startDaemon() error {
	d.cmd = exec.Command(d.bin, d.args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := d.cli.Ping(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd not ready after 30 s: %v\n%s", err, tail(d.log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopDaemon stops dockerd by its pid (SIGTERM, then SIGKILL after 20 s).
func (d *dockerd) stopDaemon() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

// importImages builds the static test server and imports it twice: plain,
// and with a HEALTHCHECK that runs the server's own check every second.
func (d *dockerd) importImages() error {
	bin := filepath.Join(d.dir, "srv")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./integration/docker/srv")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build test server: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	_ = tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777})
	_ = tw.WriteHeader(&tar.Header{Name: "srv", Mode: 0o755, Size: int64(len(data))})
	_, _ = tw.Write(data)
	if err := tw.Close(); err != nil {
		return err
	}
	for ref, changes := range map[string][]string{
		imgSrv:       {`CMD ["/srv"]`},
		imgSrvHealth: {`CMD ["/srv"]`, `HEALTHCHECK --interval=1s --timeout=5s --start-period=20s --retries=2 CMD ["/srv", "-check"]`},
	} {
		rc, err := d.cli.ImageImport(context.Background(), image.ImportSource{Source: bytes.NewReader(rootfs.Bytes()), SourceName: "-"}, ref, image.ImportOptions{Changes: changes})
		if err != nil {
			return fmt.Errorf("import %s: %v", ref, err)
		}
		_, _ = io.Copy(io.Discard, rc)
		rc.Close()
	}
	return nil
}

// stop removes every container, stops dockerd by its pid, and removes what
// it leaves behind: mounts under its folders and its cgroups.
func (d *dockerd) stop() {
	if d.cli != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		list, _ := d.cli.ContainerList(ctx, container.ListOptions{All: true})
		var wg sync.WaitGroup
		for _, c := range list {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				_ = d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
			}(c.ID)
		}
		wg.Wait()
		cancel()
		d.cli.Close()
	}
	d.stopDaemon()
	if d.dir == "" {
		return
	}
	unmountUnder(d.dir)
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		removeCgroups(filepath.Join(root, d.cgroup))
	}
	_ = os.RemoveAll(d.dir)
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 1 && strings.HasPrefix(fields[1], dir+"/") {
			mounts = append(mounts, fields[1])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

// removeCgroups removes a cgroup folder and its children (empty by now).
func removeCgroups(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeCgroups(filepath.Join(dir, e.Name()))
		}
	}
	_ = os.Remove(dir)
}

// ctrSpec is one test container on the host network.
type ctrSpec struct {
	name    string
	port    int // the HTTP port it listens on (PORT); exposed
	udpPort int // UDP echo port, when set
	labels  map[string]string
	health  bool // the image with a HEALTHCHECK
	noPort  bool // do not expose the port
}

// run creates and starts a container and returns its ID; it is removed
// when the test ends.
func (d *dockerd) run(t testing.TB, s ctrSpec) string {
	t.Helper()
	ref := imgSrv
	if s.health {
		ref = imgSrvHealth
	}
	env := []string{"PORT=" + strconv.Itoa(s.port), "NAME=" + s.name}
	exposed := nat.PortSet{}
	if !s.noPort {
		exposed[nat.Port(strconv.Itoa(s.port)+"/tcp")] = struct{}{}
	}
	if s.udpPort != 0 {
		env = append(env, "UDP_PORT="+strconv.Itoa(s.udpPort))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := d.cli.ContainerCreate(ctx,
		&container.Config{Image: ref, Hostname: s.name, Env: env, Labels: s.labels, ExposedPorts: exposed},
		&container.HostConfig{NetworkMode: "host"}, nil, nil, s.name)
	if err != nil {
		t.Fatalf("create %s: %v", s.name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
	})
	if err := d.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start %s: %v", s.name, err)
	}
	return created.ID
}

// runAll starts the containers four at a time.
func (d *dockerd) runAll(t testing.TB, specs []ctrSpec) []string {
	t.Helper()
	ids := make([]string, len(specs))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		sem  = make(chan struct{}, 4)
	)
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ft := &fatalCatcher{TB: t}
			func() {
				defer func() { _ = recover() }()
				ids[i] = d.run(ft, s)
			}()
			if ft.msg != "" {
				mu.Lock()
				errs = append(errs, ft.msg)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(strings.Join(errs, "\n"))
	}
	return ids
}

// fatalCatcher turns Fatalf from another goroutine into a message.
type fatalCatcher struct {
	testing.TB
	msg string
}

func (f *fatalCatcher) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}

func (f *fatalCatcher) Helper() {}
