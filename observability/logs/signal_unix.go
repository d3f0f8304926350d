//go:build !windows && !plan9 && !js && !wasip1

package logs

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// ReopenOnSIGUSR1 reopens every file on each SIGUSR1 until ctx is done,
// then returns. It blocks: run it in its own goroutine. Nil entries are
// skipped; a failed reopen is logged and the old file kept.
func ReopenOnSIGUSR1(ctx context.Context, files ...Reopener) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			reopenAll(files)
		}
	}
}

func reopenAll(files []Reopener) {
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := f.Reopen(); err != nil {
			slog.Error("reopening log file on SIGUSR1", "error", err)
		}
	}
	slog.Debug("log files reopened on SIGUSR1")
}
