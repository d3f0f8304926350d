//go:build !linux

package http1

func peekIdle(*conn) bool { return false }
