package logs

import (
	"fmt"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// rotates: one of Traefik's rotation options is set.
func rotates(c static.Log) bool {
	return c.MaxSize != 0 || c.MaxAge != 0 || c.MaxBackups != 0 || c.Compress
}

// RotatingFile is a log file rotated by size (log.maxSize, in MB), its
// old copies pruned by age (maxAge, days) and count (maxBackups) and
// gzipped (compress), as Traefik's. Reopen (SIGUSR1) also works: the
// file is closed and opened again at its path on the next write.
type RotatingFile struct {
	l *lumberjack.Logger
}

// OpenRotating opens path (created with FileMode) with these limits; zero
// size means lumberjack's 100 MB, zero age or backups keep everything.
func OpenRotating(path string, maxSize, maxAge, maxBackups int, compress bool) (*RotatingFile, error) {
	if maxSize < 0 || maxAge < 0 || maxBackups < 0 {
		return nil, fmt.Errorf("log.maxSize, maxAge and maxBackups must not be negative")
	}
	// Created here so that a bad path fails at start, with our mode.
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	_ = f.Close()
	return &RotatingFile{l: &lumberjack.Logger{
		Filename: path, MaxSize: maxSize, MaxAge: maxAge, MaxBackups: maxBackups, Compress: compress,
	}}, nil
}

// Write appends p, rotating first when p would pass maxSize.
func (r *RotatingFile) Write(p []byte) (int, error) { return r.l.Write(p) }

// Reopen closes the file; the next write opens the path again.
func (r *RotatingFile) Reopen() error { return r.l.Close() }

// Close closes the file.
func (r *RotatingFile) Close() error { return r.l.Close() }
