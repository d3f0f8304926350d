//go:build !unix

package relay

import "errors"

// rawReads: no raw socket reads here; every read holds a buffer.
const rawReads = false

// readFD is never reached here.
func readFD(uintptr, []byte) (int, bool, error) {
	return 0, false, errors.New("relay: raw reads need unix")
}
