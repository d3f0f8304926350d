package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
)

// TestDockerImage: Switchyard's own image, built with no registry
// (deploy/docker/context.sh + Dockerfile.scratch: a static binary on
// scratch with the CA bundle, user 65532) by the test Engine, then run the
// classic Traefik-on-Docker way: host network, the Engine's socket mounted
// (its group added, the process stays non-root), routing another
// container from its labels.
func TestDockerImage(t *testing.T) {
	t.Parallel()
	d := requireDockerd(t)
	e := newEnv(t)
	ctxDir := t.TempDir()
	cmd := exec.Command(filepath.Join(repoRoot, "deploy/docker/context.sh"), ctxDir, "test")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("context.sh: %v\n%s", err, out)
	}
	var tarball bytes.Buffer
	if err := tarDir(&tarball, ctxDir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ref = "switchyard:test"
	res, err := d.cli.ImageBuild(ctx, &tarball, build.ImageBuildOptions{Tags: []string{ref}, Remove: true, Version: build.BuilderV1})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if bytes.Contains(out, []byte(`"error"`)) {
		t.Fatalf("build: %s", out)
	}
	ins, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if ins.Config.User != "65532:65532" || len(ins.Config.Entrypoint) != 1 || ins.Config.Entrypoint[0] != "/usr/local/bin/switchyard" {
		t.Fatalf("image config: user %q entrypoint %q", ins.Config.User, ins.Config.Entrypoint)
	}

	backend := freePort(t)
	d.run(t, ctrSpec{name: "img-whoami", port: backend, labels: map[string]string{
		"traefik.enable":                          "true",
		"traefik.http.routers.whoami.rule":        "Host(`whoami.docker.test`)",
		"traefik.http.routers.whoami.entrypoints": "web",
	}})

	sock := strings.TrimPrefix(d.sock, "unix://")
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		t.Fatal(err)
	}
	created, err := d.cli.ContainerCreate(ctx, &container.Config{Image: ref, Cmd: []string{
		"--entryPoints.web.address=" + e.Addr("web"),
		"--entryPoints.traefik.address=" + e.Addr("traefik"),
		"--api.insecure=true",
		"--providers.providersThrottleDuration=100ms",
		"--providers.docker=true",
		"--providers.docker.exposedByDefault=false",
	}}, &container.HostConfig{
		NetworkMode: "host",
		Binds:       []string{sock + ":/var/run/docker.sock:ro"},
		GroupAdd:    []string{strconv.Itoa(int(st.Gid))},
	}, nil, nil, "img-switchyard")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if t.Failed() {
			if rc, err := d.cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true}); err == nil {
				b, _ := io.ReadAll(rc)
				rc.Close()
				t.Logf("switchyard container logs:\n%s", tail(string(b), 4000))
			}
		}
		_ = d.cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
	})
	if err := d.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	e.WaitAPI(60*time.Second, "switchyard in its container routes the labelled container", func(rd *Rawdata) bool {
		return rd.Routers["whoami@docker"].Status == "enabled"
	})
	waitServed(t, e, e.URL("web")+"/", "whoami.docker.test", "img-whoami")
	if rep := do(t, request{url: e.URL("web") + "/", host: "img-switchyard"}); rep.Status != 404 {
		t.Fatalf("exposedByDefault=false: the switchyard container itself is routed: %d", rep.Status)
	}

	// The process runs as 65532, not root.
	cins, err := d.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cins.State.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[1] != "65532" {
			t.Fatalf("switchyard runs as %q", line)
		}
	}
	// And its API answers the JSON the dashboard reads.
	var rd map[string]json.RawMessage
	rep := do(t, request{url: e.URL("traefik") + "/api/overview"})
	if rep.Status != 200 || json.Unmarshal([]byte(rep.Body), &rd) != nil {
		t.Fatalf("/api/overview: %d %s", rep.Status, rep.Body)
	}
}

// tarDir writes dir as a tar stream (the build context).
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if de.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if de.Type().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
