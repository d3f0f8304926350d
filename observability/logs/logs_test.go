package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"", slog.LevelError, false},
		{"trace", LevelTrace, false},
		{"DEBUG", slog.LevelDebug, false},
		{"Info", slog.LevelInfo, false},
		{"warn", slog.LevelWarn, false},
		{"WARNING", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{"FATAL", LevelFatal, false},
		{"panic", LevelPanic, false},
		{" info ", slog.LevelInfo, false},
		{"verbose", 0, true},
		{"5", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseLevel(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewHandlerErrors(t *testing.T) {
	tests := []struct {
		cfg  static.Log
		want string
	}{
		{static.Log{Level: "verbose"}, `log.level: unknown level "verbose"`},
		{static.Log{Format: "xml"}, `log.format: unknown format "xml"`},
		{static.Log{FilePath: "/proc/nonexistent/dir/x.log"}, "log.filePath: "},
	}
	for _, tt := range tests {
		_, _, err := NewHandler(&tt.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("NewHandler(%+v) error = %v, want prefix %q", tt.cfg, err, tt.want)
		}
	}
}

func TestCommonFormat(t *testing.T) {
	var buf bytes.Buffer
	h := newCommonHandler(&buf, slog.LevelInfo, false)
	l := slog.New(h)
	l.Debug("hidden")
	l.With("entrypoint", "web").WithGroup("g").Info("hello world",
		"n", 3, "s", "two words", "empty", "", "err", errors.New("boom"),
		slog.Group("sub", "a", true), "d", 1500*time.Millisecond)
	l.Log(context.Background(), LevelFatal, "fatal")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) INF hello world entrypoint=web g.n=3 g.s="two words" g.empty="" g.err=boom g.sub.a=true g.d=1.5s$`)
	if !re.MatchString(lines[0]) {
		t.Errorf("line 1 = %q", lines[0])
	}
	if !strings.Contains(lines[1], " FTL fatal") {
		t.Errorf("line 2 = %q", lines[1])
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("colour codes written with color=false")
	}
}

func TestCommonFormatColor(t *testing.T) {
	var buf bytes.Buffer
	slog.New(newCommonHandler(&buf, slog.LevelInfo, true)).Error("x", "k", "v")
	if !strings.Contains(buf.String(), "\x1b[1;31mERR\x1b[0m") {
		t.Errorf("no coloured level in %q", buf.String())
	}
}

func TestJSONFormat(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(newJSONHandler(&buf, LevelTrace))
	l.Log(context.Background(), LevelTrace, "t", "router", "r@file")
	l.Warn("w")
	dec := json.NewDecoder(&buf)
	for _, want := range []string{"trace", "warn"} {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["level"] != want {
			t.Errorf("level = %v, want %s", m["level"], want)
		}
		if _, ok := m["message"]; !ok {
			t.Errorf("no message key in %v", m)
		}
		if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil {
			t.Errorf("time: %v", err)
		}
	}
}

func TestSetupFileAndReopen(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })

	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "switchyard.log")
	closer, err := Setup(&static.Log{Level: "info", Format: "json", FilePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()

	slog.Info("first")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("log file mode %v readable by others", perm)
	}

	// logrotate: move, then signal.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	slog.Info("second") // still goes to the moved file
	if err := closer.(Reopener).Reopen(); err != nil {
		t.Fatal(err)
	}
	slog.Info("third")

	rotated, _ := os.ReadFile(path + ".1")
	fresh, _ := os.ReadFile(path)
	if !strings.Contains(string(rotated), `"first"`) || !strings.Contains(string(rotated), `"second"`) {
		t.Errorf("rotated file = %q", rotated)
	}
	if strings.Contains(string(fresh), "second") || !strings.Contains(string(fresh), `"third"`) {
		t.Errorf("new file = %q", fresh)
	}
}

func TestReopenableFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(f, "writer %d line %d %s\n", w, i, strings.Repeat("x", 100))
			}
		}()
	}
	// Reopen repeatedly while writers run; the path stays the same, so
	// every line must land in the one file.
	for range 20 {
		if err := f.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	data, _ := os.ReadFile(path)
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("got %d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "writer ") || !strings.HasSuffix(l, "xxx") {
			t.Fatalf("torn line %q", l)
		}
	}
}

func TestReopenFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d", "x.log")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Replace the directory by a file so the reopen cannot create it.
	if err := os.RemoveAll(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err == nil {
		t.Fatal("Reopen succeeded, want error")
	}
	if _, err := f.Write([]byte("still writable\n")); err != nil {
		t.Errorf("write after failed reopen: %v", err)
	}
}

type countReopener struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func (c *countReopener) Reopen() error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	c.ch <- struct{}{}
	return nil
}

func TestReopenAllSkipsNil(t *testing.T) {
	c := &countReopener{ch: make(chan struct{}, 1)}
	var nilFile *ReopenableFile
	reopenAll([]Reopener{nil, nilFile, c})
	if c.n != 1 {
		t.Errorf("reopened %d times", c.n)
	}
}

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "switchyard.log")
	f, err := OpenRotating(path, 1, 0, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 1100 { // 1.1 MiB: one rotation at 1 MB
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("files after passing maxSize: %v, want the log and one backup", entries)
	}
	if st, _ := os.Stat(path); st.Size() >= 1<<20 {
		t.Errorf("current file is %d bytes, want it rotated below 1 MiB", st.Size())
	}
	if _, err := OpenRotating(path, -1, 0, 0, false); err == nil {
		t.Error("negative maxSize accepted")
	}
}
