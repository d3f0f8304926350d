//go:build !unix

package handoff

import "errors"

func dupCloexec(int) (int, error) { return -1, errors.New("handoff: not supported here") }
