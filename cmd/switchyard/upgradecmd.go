package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/internal/upgrade"
)

// upgradeCmdConfig is the command line of `switchyard upgrade`.
type upgradeCmdConfig struct {
	PIDFile string          `description:"Pid file of the running instance (its pidFile option): send it SIGUSR2 and wait until the new process has taken over." json:"pidFile,omitempty" toml:"pidFile,omitempty" yaml:"pidFile,omitempty" export:"true"`
	URL     string          `description:"Base URL of the running instance's API (e.g. http://127.0.0.1:8080): POST <url>/api/upgrade instead of sending a signal." json:"url,omitempty" toml:"url,omitempty" yaml:"url,omitempty" export:"true"`
	Timeout ptypes.Duration `description:"How long to wait for the outcome." json:"timeout,omitempty" toml:"timeout,omitempty" yaml:"timeout,omitempty" export:"true"`
}

func newUpgradeCmdConfig() *upgradeCmdConfig {
	return &upgradeCmdConfig{Timeout: ptypes.Duration(upgrade.ReadyTimeout + 15*time.Second)}
}

// runUpgradeCmd triggers a binary upgrade of a running instance and
// reports its outcome: exit status 0 once the new process serves, an
// error (exit status 1) when it was refused or failed.
func runUpgradeCmd(cfg *upgradeCmdConfig) error {
	timeout := time.Duration(cfg.Timeout)
	switch {
	case cfg.URL != "":
		return upgradeByAPI(strings.TrimSuffix(cfg.URL, "/")+"/api/upgrade", timeout)
	case cfg.PIDFile != "":
		return upgradeBySignal(cfg.PIDFile, timeout)
	}
	return errors.New("upgrade: give --pidFile (the running instance's pid file) or --url (its API)")
}

func upgradeByAPI(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout}
	resp, err := client.Post(url, "", nil)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		return fmt.Errorf("upgrade: %s answered %s: %s", url, resp.Status, msg)
	}
	var r upgrade.ReadyMeta
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("upgrade: %s answered %q: %w", url, body, err)
	}
	fmt.Printf("upgraded: new process pid %d, generation %d\n", r.PID, r.Generation)
	return nil
}

func upgradeBySignal(pidFile string, timeout time.Duration) error {
	pid, err := readPIDFile(pidFile)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return fmt.Errorf("upgrade: pid %d (from %s) is not running: %w", pid, pidFile, err)
	}
	before, _ := os.ReadFile(statusPath(pidFile))
	if strings.HasPrefix(string(before), "running") {
		return fmt.Errorf("upgrade refused: an upgrade of pid %d is already under way (%s); try again once it has finished", pid, statusPath(pidFile))
	}
	beforeStat, _ := os.Stat(statusPath(pidFile))
	if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
		return fmt.Errorf("upgrade: signalling pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if now, err := readPIDFile(pidFile); err == nil && now != pid {
			fmt.Printf("upgraded: pid %d handed over to pid %d\n", pid, now)
			return nil
		}
		st, err := os.Stat(statusPath(pidFile))
		if err != nil || (beforeStat != nil && st.ModTime().Equal(beforeStat.ModTime()) && st.Size() == beforeStat.Size()) {
			continue
		}
		b, _ := os.ReadFile(statusPath(pidFile))
		if reason, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "failed: "); ok {
			return errors.New("upgrade: " + reason)
		}
	}
	return fmt.Errorf("upgrade: no new process took over from pid %d within %s (see its log)", pid, timeout)
}
