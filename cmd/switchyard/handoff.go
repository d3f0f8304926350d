package main

import (
	"context"
	"os"
	"sync"

	"github.com/switchyard-proxy/switchyard/entrypoints"
	"github.com/switchyard-proxy/switchyard/internal/handoff"
	"github.com/switchyard-proxy/switchyard/internal/upgrade"
)

// registerHandoff plugs the live connection hand-off into the upgrade
// channel: in the old process the mover sends every entrypoint's movable
// connections once the new process is ready and accepting stopped; in the
// new process the adopters resume them in the entrypoint of the same name
// (docs/operations.md, "Which connections move").
func (s *server) registerHandoff() {
	upgrade.RegisterMover("connections", func(ctx context.Context, snd upgrade.Sender) error {
		// Every entrypoint at once: their batches interleave on the
		// channel.
		var wg sync.WaitGroup
		for _, ep := range s.eps {
			wg.Go(func() {
				var recs []upgrade.Record
				ep.MoveConns(ctx, func(batch []handoff.Record) (int, error) {
					recs = recs[:0]
					for _, r := range batch {
						recs = append(recs, upgrade.Record{Kind: r.Kind, Meta: r.Meta, Files: r.Files})
					}
					return snd.SendBatch(recs)
				})
			})
		}
		wg.Wait()
		return nil
	})
	for _, kind := range entrypoints.Kinds {
		upgrade.RegisterAdopter(kind, func(meta []byte, files []*os.File) error {
			return entrypoints.AdoptRecord(s.eps, kind, meta, files)
		})
	}
}
