package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints"
	"github.com/switchyard-proxy/switchyard/internal/upgrade"
)

// upgrader runs binary upgrades of this process (SIGUSR2, POST
// /api/upgrade): one at a time, and none once this process has handed
// over. docs/operations.md, "Binary upgrades", describes the order.
type upgrader struct {
	pidFile string
	// handed receives the channel to the new process once it is ready:
	// the main loop then stops accepting, runs the movers and drains.
	handed chan *upgrade.Conn

	mu      sync.Mutex
	running bool
	child   int // pid of the new process (running or handed over)
	done    bool
	cancel  context.CancelFunc // aborts the running upgrade
}

func newUpgrader(pidFile string) *upgrader {
	return &upgrader{pidFile: pidFile, handed: make(chan *upgrade.Conn, 1)}
}

// abort stops an upgrade under way (this process is shutting down).
func (u *upgrader) abort() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cancel != nil {
		u.cancel()
	}
}

// Upgrade starts the new binary, hands it every listening socket and
// waits until it reports ready. Any failure leaves this process serving
// as before; the error says why.
func (u *upgrader) Upgrade(ctx context.Context) (upgrade.ReadyMeta, error) {
	u.mu.Lock()
	switch {
	case u.done:
		pid := u.child
		u.mu.Unlock()
		return upgrade.ReadyMeta{}, fmt.Errorf("%w: this process has handed over to pid %d; upgrade that one", upgrade.ErrBusy, pid)
	case u.running:
		pid := u.child
		u.mu.Unlock()
		return upgrade.ReadyMeta{}, fmt.Errorf("%w: an upgrade is already under way (new process pid %d); try again once it has finished", upgrade.ErrBusy, pid)
	}
	ctx, cancel := context.WithTimeout(ctx, upgrade.ReadyTimeout)
	defer cancel()
	u.running, u.child, u.cancel = true, 0, cancel
	u.mu.Unlock()

	slog.Info("binary upgrade: starting the new process", "executable", upgrade.Executable(), "generation", upgrade.Generation()+1)
	u.writeStatus("running")
	ready, conn, err := u.start(ctx)

	u.mu.Lock()
	u.running, u.cancel = false, nil
	if err == nil {
		u.done = true
	}
	u.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("binary upgrade failed, this process (pid %d) keeps serving: %w", os.Getpid(), err)
		slog.Error(err.Error())
		u.writeStatus("failed: " + err.Error())
		return upgrade.ReadyMeta{}, err
	}
	u.removeStatus()
	slog.Info("binary upgrade: the new process is ready; stopping accepting here and draining",
		"pid", ready.PID, "generation", ready.Generation)
	u.handed <- conn
	return ready, nil
}

func (u *upgrader) start(ctx context.Context) (upgrade.ReadyMeta, *upgrade.Conn, error) {
	conn, childEnd, err := upgrade.Pair()
	if err != nil {
		return upgrade.ReadyMeta{}, nil, err
	}
	cmd := upgrade.Command(childEnd)
	err = cmd.Start()
	_ = childEnd.Close()
	if err != nil {
		_ = conn.Close()
		return upgrade.ReadyMeta{}, nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	u.mu.Lock()
	u.child = cmd.Process.Pid
	u.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait() // also reaps a new process that exits after taking over
		exited <- err
		if err != nil {
			slog.Debug("binary upgrade: the new process exited", "pid", cmd.Process.Pid, "error", err)
		}
	}()
	fail := func(err error) (upgrade.ReadyMeta, *upgrade.Conn, error) {
		_ = cmd.Process.Kill()
		_ = conn.Close()
		return upgrade.ReadyMeta{}, nil, err
	}

	socks, err := entrypoints.ListeningSockets()
	if err != nil {
		return fail(err)
	}
	for i, s := range socks {
		meta, _ := json.Marshal(upgrade.ListenerMeta{EntryPoint: s.EntryPoint, Network: s.Network, Address: s.Address})
		err := conn.Send(upgrade.KindListener, meta, s.File)
		if err != nil {
			for _, rest := range socks[i:] {
				_ = rest.File.Close()
			}
			return fail(fmt.Errorf("handing over entrypoint %q (%s): %w", s.EntryPoint, s.Network, err))
		}
		_ = s.File.Close()
	}
	if err := conn.Send(upgrade.KindListenEnd, nil); err != nil {
		return fail(fmt.Errorf("handing over the listeners: %w", err))
	}

	type result struct {
		r   upgrade.Record
		err error
	}
	got := make(chan result, 1)
	go func() {
		r, err := conn.Recv()
		got <- result{r, err}
	}()
	select {
	case res := <-got:
		if res.err != nil || res.r.Kind != upgrade.KindReady {
			res.r.Close()
			// Most often the new process exited: say how.
			select {
			case werr := <-exited:
				return fail(fmt.Errorf("the new process (pid %d) exited before it was ready: %s", cmd.Process.Pid, exitReason(werr)))
			case <-time.After(time.Second):
			}
			if res.err != nil {
				return fail(fmt.Errorf("the new process (pid %d) broke the channel before it was ready: %w", cmd.Process.Pid, res.err))
			}
			return fail(fmt.Errorf("the new process (pid %d) sent %q instead of ready", cmd.Process.Pid, res.r.Kind))
		}
		var ready upgrade.ReadyMeta
		if err := json.Unmarshal(res.r.Meta, &ready); err != nil {
			return fail(fmt.Errorf("the new process (pid %d) sent a bad ready record: %w", cmd.Process.Pid, err))
		}
		return ready, conn, nil
	case werr := <-exited:
		return fail(fmt.Errorf("the new process (pid %d) exited before it was ready: %s", cmd.Process.Pid, exitReason(werr)))
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail(fmt.Errorf("the new process (pid %d) was not ready within %s; killed it", cmd.Process.Pid, upgrade.ReadyTimeout))
		}
		return fail(fmt.Errorf("aborted (this process is stopping); killed the new process (pid %d)", cmd.Process.Pid))
	}
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String() + " (its log, on the same output as this one, says why)"
	}
	return err.Error()
}

// The status file next to the pid file lets `switchyard upgrade` (which
// only sends a signal) tell an upgrade under way, and the reason of a
// failed one: "running", or "failed: <reason>".
func statusPath(pidFile string) string { return pidFile + ".upgrade" }

func (u *upgrader) writeStatus(s string) {
	if u.pidFile == "" {
		return
	}
	if err := writeFileAtomic(statusPath(u.pidFile), []byte(s+"\n")); err != nil {
		slog.Warn("writing the upgrade status file", "error", err)
	}
}

func (u *upgrader) removeStatus() {
	if u.pidFile != "" {
		_ = os.Remove(statusPath(u.pidFile))
	}
}

// writePIDFile writes this process's pid (atomically: a reader never
// sees a half-written file).
func writePIDFile(path string) error {
	if path == "" {
		return nil
	}
	if err := writeFileAtomic(path, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return fmt.Errorf("pidFile: %w", err)
	}
	return nil
}

// removePIDFile removes the pid file at exit unless a new process has
// taken it over.
func removePIDFile(path string) {
	if path == "" {
		return
	}
	if pid, err := readPIDFile(path); err == nil && pid == os.Getpid() {
		_ = os.Remove(path)
	}
}

func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: no pid in %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// adoptFromParent reads the listening sockets the previous process hands
// over (this process was started by an upgrade) and gives them to the
// entrypoints, which will not accept before the first configuration.
func adoptFromParent(conn *upgrade.Conn) error {
	for {
		r, err := conn.Recv()
		if err != nil {
			return fmt.Errorf("binary upgrade: receiving the listeners: %w", err)
		}
		switch r.Kind {
		case upgrade.KindListenEnd:
			entrypoints.HoldAccepting()
			return nil
		case upgrade.KindListener:
			var m upgrade.ListenerMeta
			if err := json.Unmarshal(r.Meta, &m); err != nil {
				r.Close()
				return fmt.Errorf("binary upgrade: bad listener record: %w", err)
			}
			if len(r.Files) != 1 {
				r.Close()
				return fmt.Errorf("binary upgrade: listener record with %d files", len(r.Files))
			}
			entrypoints.HandOver(m.EntryPoint, m.Network, r.Files[0])
		default:
			r.Close()
			return fmt.Errorf("binary upgrade: unexpected %q before the listeners' end", r.Kind)
		}
	}
}
