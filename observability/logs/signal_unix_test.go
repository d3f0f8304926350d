//go:build !windows && !plan9 && !js && !wasip1

package logs

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

func TestReopenOnSIGUSR1(t *testing.T) {
	// Catch SIGUSR1 in the test too, so a signal sent before the function
	// under test registers cannot kill the process (default action).
	guard := make(chan os.Signal, 16)
	signal.Notify(guard, syscall.SIGUSR1)
	defer signal.Stop(guard)

	c := &countReopener{ch: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		ReopenOnSIGUSR1(ctx, c)
		close(done)
	}()
	// signal.Notify runs inside the goroutine; resend until it is heard.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-c.ch:
			break wait
		case <-tick.C:
			if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("no reopen after SIGUSR1")
		}
	}
	cancel()
	<-done
}
