package connreg

import (
	"context"
	"fmt"

	"github.com/switchyard-proxy/switchyard/internal/handoff"
	"github.com/switchyard-proxy/switchyard/internal/relay"
)

// DetachRelay is Detach for a connection served by a relay (a TCP
// router's, a tunnel): the relay stops at a clean point (bounded by ctx)
// and the pair with its pending bytes is returned; Release resumes it here
// or lets it end. Pairs with TLS of ours on a side are not movable.
func DetachRelay(ctx context.Context, r *relay.Relay, p Protocol, s State) (*Detached, error) {
	a, b := r.Conns()
	if !handoff.Movable(a) || !handoff.Movable(b) {
		return nil, ErrNotMovable
	}
	st, err := r.DetachContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connreg: relay did not stop: %w", err)
		}
		return nil, ErrNotMovable // ended meanwhile
	}
	delay, idle := r.Bounds()
	return &Detached{
		Client: a, Backend: b,
		Pending: st.Pending, Closed: st.Closed, DelayLeft: st.DelayLeft,
		Delay: delay, Idle: idle,
		Protocol: p, State: s,
		Release: r.Release,
	}, nil
}
