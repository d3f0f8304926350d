//go:build windows || plan9 || js || wasip1

package logs

import "context"

// ReopenOnSIGUSR1 has no signal to wait for on this platform; it returns
// when ctx is done.
func ReopenOnSIGUSR1(ctx context.Context, files ...Reopener) {
	<-ctx.Done()
}
