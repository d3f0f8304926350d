package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestQuietClock(t *testing.T) {
	isConf := func(n string) bool { return n == "/d/dyn.yml" }
	ev := func(op fsnotify.Op, name string) fsnotify.Event { return fsnotify.Event{Op: op, Name: name} }
	tests := []struct {
		name   string
		events []fsnotify.Event
		want   time.Duration // after the last event
	}{
		{"write in place", []fsnotify.Event{ev(fsnotify.Write, "/d/dyn.yml")}, quietPeriod},
		{"create (may be empty yet)", []fsnotify.Event{ev(fsnotify.Create, "/d/dyn.yml")}, quietPeriod},
		{"temporary renamed over", []fsnotify.Event{
			ev(fsnotify.Create, "/d/.tmp"), ev(fsnotify.Write, "/d/.tmp"),
			ev(fsnotify.Rename, "/d/.tmp"), ev(fsnotify.Create, "/d/dyn.yml"),
		}, settlePeriod},
		{"write after the rename", []fsnotify.Event{
			ev(fsnotify.Rename, "/d/.tmp"), ev(fsnotify.Create, "/d/dyn.yml"), ev(fsnotify.Write, "/d/dyn.yml"),
		}, quietPeriod},
		{"renamed away then re-created (vim)", []fsnotify.Event{
			ev(fsnotify.Rename, "/d/dyn.yml"), ev(fsnotify.Create, "/d/dyn.yml~"), ev(fsnotify.Create, "/d/dyn.yml"),
		}, quietPeriod},
		{"other file renamed in", []fsnotify.Event{
			ev(fsnotify.Rename, "/d/.tmp"), ev(fsnotify.Create, "/d/other"),
		}, quietPeriod},
		{"rename not directly followed", []fsnotify.Event{
			ev(fsnotify.Rename, "/d/.tmp"), ev(fsnotify.Write, "/d/x"), ev(fsnotify.Create, "/d/dyn.yml"),
		}, quietPeriod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c quietClock
			var got time.Duration
			for _, e := range tt.events {
				got = c.next(e, isConf)
			}
			if got != tt.want {
				t.Fatalf("quiet = %v, want %v", got, tt.want)
			}
		})
	}
}

// The kernel reports an atomic replace as the two consecutive events the
// quiet clock recognises.
func TestQuietClockSeesAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dyn.yml")
	if err := os.WriteFile(target, []byte("http: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Skipf("no watcher: %v", err)
	}
	defer func() { _ = w.Close() }()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".dyn.yml.tmp")
	if err := os.WriteFile(tmp, []byte("tcp: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, target); err != nil {
		t.Fatal(err)
	}
	var c quietClock
	isConf := func(n string) bool { return filepath.Clean(n) == target }
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-w.Events:
			if c.next(e, isConf) == settlePeriod {
				return
			}
		case err := <-w.Errors:
			t.Fatal(err)
		case <-deadline:
			t.Fatal("no event sequence recognised as an atomic replace")
		}
	}
}
