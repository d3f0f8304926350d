package upgrade

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Environment of a process started by an upgrade. The parent adds them to
// its own environment; the child reads them once at start.
const (
	EnvFD         = "SWITCHYARD_UPGRADE_FD" // channel descriptor number
	EnvGeneration = "SWITCHYARD_GENERATION" // 1 for a process started by hand
	EnvExecutable = "SWITCHYARD_EXECUTABLE" // the path the parent executed
	envLegacyFDs  = "SWITCHYARD_INHERITED_FDS"
)

// ReadyTimeout bounds the wait for a new process to report ready; after it
// the old process kills the new one and keeps serving.
const ReadyTimeout = 60 * time.Second

// ListenerMeta describes a listening socket sent with KindListener.
type ListenerMeta struct {
	EntryPoint string `json:"entryPoint"`
	Network    string `json:"network"` // "tcp" or "udp"
	Address    string `json:"address"` // local address, for logs and checks
}

// ReadyMeta is the child's KindReady payload.
type ReadyMeta struct {
	PID        int `json:"pid"`
	Generation int `json:"generation"`
}

// Recorded at start: after the binary is replaced, /proc/self/exe names
// the deleted file, so the path must be known before.
var (
	executable = findExecutable()
	startArgs  = append([]string(nil), os.Args...)
	generation = parseGeneration(os.Getenv(EnvGeneration))
	startTime  = time.Now()
)

func findExecutable() string {
	if p := os.Getenv(EnvExecutable); p != "" {
		return p // the path the parent ran, not the file it resolved to
	}
	p, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return p
}

func parseGeneration(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// Generation is 1 for a process started by hand and one more than its
// parent's for a process started by an upgrade.
func Generation() int { return generation }

// StartTime is when this process started.
func StartTime() time.Time { return startTime }

// Executable is the path an upgrade executes.
func Executable() string { return executable }

// Inherited returns the channel from the parent when this process was
// started by an upgrade, and nil otherwise. It is taken once: later calls
// return nil.
func Inherited() (*Conn, error) {
	s := os.Getenv(EnvFD)
	if s == "" {
		return nil, nil
	}
	_ = os.Unsetenv(EnvFD)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("upgrade: %s=%q is not a descriptor", EnvFD, s)
	}
	f := os.NewFile(uintptr(fd), "upgrade-channel")
	defer f.Close()
	return FromFile(f)
}

// Command prepares the new process: the recorded executable with this
// process's arguments and environment, the channel as descriptor 3, the
// next generation number, and the same standard streams.
func Command(channel *os.File) *exec.Cmd {
	cmd := exec.Command(executable)
	cmd.Args = startArgs
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case EnvFD, EnvGeneration, EnvExecutable, envLegacyFDs:
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		EnvFD+"=3",
		EnvGeneration+"="+strconv.Itoa(generation+1),
		EnvExecutable+"="+executable)
	cmd.ExtraFiles = []*os.File{channel}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}

// ErrBusy is wrapped by refusals: an upgrade is already under way, or
// this process has handed over to a new one.
var ErrBusy = errors.New("upgrade refused")
