package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Reopener is anything that can reopen its output, e.g. after logrotate
// moved the file away.
type Reopener interface {
	Reopen() error
}

// FileMode is the mode of a log file this package creates. Log lines can
// carry client addresses and headers, so others get nothing.
const FileMode = 0o600

// ReopenableFile is an append-only log file that can be reopened at the
// same path (logrotate's "move, then signal" rotation). Writes, Reopen
// and Close are safe for concurrent use; each Write reaches the file
// whole, so concurrent lines never interleave.
type ReopenableFile struct {
	path string

	mu     sync.Mutex
	f      *os.File
	closed bool
}

// Open opens path for appending, creating it (mode FileMode) and its
// directory if missing.
func Open(path string) (*ReopenableFile, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &ReopenableFile{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("log file %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, FileMode)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// Path is the path the file was opened with.
func (r *ReopenableFile) Path() string { return r.path }

// Write appends p to the current file.
func (r *ReopenableFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, os.ErrClosed
	}
	return r.f.Write(p)
}

// Reopen opens the path again and swaps it in, then closes the old file.
// If the new open fails, writing continues to the old file and the error
// is returned. A nil receiver is a no-op, so callers may pass optional
// files without checks.
func (r *ReopenableFile) Reopen() error {
	if r == nil {
		return nil
	}
	// Open outside the lock: a slow filesystem must not stall writers.
	nf, err := openAppend(r.path)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = nf.Close()
		return os.ErrClosed
	}
	old := r.f
	r.f = nf
	r.mu.Unlock()
	if err := old.Close(); err != nil {
		return fmt.Errorf("log file %s: close old: %w", r.path, err)
	}
	return nil
}

// Close closes the file; later writes fail with os.ErrClosed. Closing
// twice is harmless.
func (r *ReopenableFile) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return r.f.Close()
}
