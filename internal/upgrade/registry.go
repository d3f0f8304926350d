package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Kinds used by the protocol itself; registered kinds must not start with
// ReservedPrefix.
const (
	ReservedPrefix = "upgrade."
	KindListener   = "upgrade.listener"  // meta: ListenerMeta JSON; one socket
	KindListenEnd  = "upgrade.listeners" // every listener has been sent
	KindReady      = "upgrade.ready"     // child → parent: serving; meta: ReadyMeta JSON
	KindDone       = "upgrade.done"      // parent → child: every mover has run
)

// SendFunc sends one record (kind, metadata, descriptors) to the new
// process. The files stay open on the sending side: close them (and the
// connections they were taken from) once SendFunc has returned nil.
type SendFunc func(kind string, meta []byte, files ...*os.File) error

// SendBatchFunc sends records, many per message; it returns how many,
// from the first, went whole (see Conn.SendBatch). The files stay open on
// the sending side.
type SendBatchFunc func(recs []Record) (int, error)

// Sender is what a mover sends with.
type Sender struct {
	Send      SendFunc
	SendBatch SendBatchFunc
}

// Mover runs in the old process after the new one is ready and every
// entrypoint has stopped accepting; it sends what it moves (live
// connections) and returns. Once ctx ends it moves nothing more; each
// send fails after SendStall without progress.
type Mover func(ctx context.Context, s Sender) error

// Adopter runs in the new process for each record of its kind. It owns
// files from then on, also when it returns an error (it closes them).
type Adopter func(meta []byte, files []*os.File) error

// SendStall bounds one send of a mover (a batch of records): the new
// process must take it within that time.
const SendStall = 10 * time.Second

var (
	regMu    sync.Mutex
	movers   []namedMover
	adopters = map[string]Adopter{}
)

type namedMover struct {
	name string
	m    Mover
}

// RegisterMover adds a mover; movers run in registration order, one at a
// time. name is for logs.
func RegisterMover(name string, m Mover) {
	regMu.Lock()
	defer regMu.Unlock()
	movers = append(movers, namedMover{name, m})
}

// RegisterAdopter sets the adopter of a record kind (replacing any
// earlier one). It panics on a reserved kind: that is a programming error.
func RegisterAdopter(kind string, a Adopter) {
	if kind == "" || len(kind) > MaxKind || strings.HasPrefix(kind, ReservedPrefix) {
		panic(fmt.Sprintf("upgrade: RegisterAdopter: invalid kind %q", kind))
	}
	regMu.Lock()
	defer regMu.Unlock()
	adopters[kind] = a
}

// RunMovers runs every registered mover with c.Send, then sends
// KindDone. A mover's error is logged and the next one runs: what it did
// not move drains in the old process. The error is c's, when sending
// KindDone fails.
func RunMovers(ctx context.Context, c *Conn) error {
	regMu.Lock()
	ms := append([]namedMover(nil), movers...)
	regMu.Unlock()
	// A new process that stops reading must not hold this one for ever:
	// a send that makes no progress for SendStall fails (what it carried
	// stays and drains here).
	c.SetSendStall(SendStall)
	s := Sender{
		Send: func(kind string, meta []byte, files ...*os.File) error {
			if strings.HasPrefix(kind, ReservedPrefix) {
				return fmt.Errorf("upgrade: mover used reserved kind %q", kind)
			}
			return c.Send(kind, meta, files...)
		},
		SendBatch: func(recs []Record) (int, error) {
			for _, r := range recs {
				if strings.HasPrefix(r.Kind, ReservedPrefix) {
					return 0, fmt.Errorf("upgrade: mover used reserved kind %q", r.Kind)
				}
			}
			return c.SendBatch(recs)
		},
	}
	for _, m := range ms {
		if err := m.m(ctx, s); err != nil {
			slog.Warn("upgrade: mover failed; what it did not move drains here", "mover", m.name, "error", err)
		}
	}
	return c.Send(KindDone, nil)
}

// Dispatch receives records until KindDone or the end of the channel and
// hands each to the adopter of its kind; records of an unknown kind are
// logged and their files closed. It returns nil on KindDone or a clean
// end of the channel.
func Dispatch(c *Conn) error {
	for {
		r, err := c.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Kind == KindDone {
			r.Close()
			return nil
		}
		regMu.Lock()
		a := adopters[r.Kind]
		regMu.Unlock()
		if a == nil {
			slog.Warn("upgrade: no adopter for record; dropped", "kind", r.Kind, "files", len(r.Files))
			r.Close()
			continue
		}
		if err := a(r.Meta, r.Files); err != nil {
			slog.Warn("upgrade: adopting failed", "kind", r.Kind, "error", err)
		}
	}
}
