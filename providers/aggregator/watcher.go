package aggregator

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Watcher receives provider messages, throttles each provider, drops
// configurations equal to the running one and hands the merged result to
// apply. It is the single writer of the running configuration: apply runs
// on its goroutine only, never concurrently with itself, and always with
// the newest configuration of every provider. Anything else that needs a
// rebuild (new ACME certificates) asks for one with Refresh instead of
// calling apply itself, so it can never bring back an older configuration.
type Watcher struct {
	Throttle time.Duration
	Apply    func(*dynamic.Configuration)
	// Fixed configurations that are always part of the merge (the internal provider).
	Fixed dynamic.Configurations
	// AfterApply, when set before Run, is called on the watcher's goroutine
	// after every apply with how many providers (besides Fixed) the
	// applied merge held: a new process is ready once all have spoken.
	AfterApply func(providers int)

	in      chan dynamic.Message
	refresh chan struct{}
}

// NewWatcher returns a watcher; Messages is the channel providers send on.
func NewWatcher(throttle time.Duration, fixed dynamic.Configurations, apply func(*dynamic.Configuration)) *Watcher {
	return &Watcher{Throttle: throttle, Apply: apply, Fixed: fixed,
		in: make(chan dynamic.Message, 16), refresh: make(chan struct{}, 1)}
}

// Messages is where providers send their configurations.
func (w *Watcher) Messages() chan<- dynamic.Message { return w.in }

// Refresh asks the watcher to rebuild from its newest configurations (for
// state outside the configuration that the build reads, such as ACME
// certificates). It never blocks; requests made while one is pending
// collapse into one rebuild.
func (w *Watcher) Refresh() {
	select {
	case w.refresh <- struct{}{}:
	default:
	}
}

// Run merges and applies until ctx is done. The first application happens
// immediately so that internal routers (API, ping) serve before any
// provider has spoken.
func (w *Watcher) Run(ctx context.Context) {
	latest := dynamic.Configurations{}
	for k, v := range w.Fixed {
		latest[k] = v
	}
	perProvider := map[string]chan dynamic.Message{}
	ready := make(chan dynamic.Message)
	lastHash := map[string]string{}

	apply := func() {
		w.Apply(Merge(latest))
		if w.AfterApply != nil {
			n := 0
			for k := range latest {
				if _, fixed := w.Fixed[k]; !fixed {
					n++
				}
			}
			w.AfterApply(n)
		}
	}
	apply()

	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-w.in:
			// One throttling goroutine per provider keeps only the newest
			// message and releases at most one per Throttle.
			ch, ok := perProvider[msg.ProviderName]
			if !ok {
				ch = make(chan dynamic.Message, 1)
				perProvider[msg.ProviderName] = ch
				go throttle(ctx, w.Throttle, ch, ready)
			}
			select {
			case <-ch: // drop the stale pending message
			default:
			}
			ch <- msg
		case <-w.refresh:
			apply()
		case msg := <-ready:
			h := msg.Hash
			if h == "" {
				h = dynamic.Hash(msg.Configuration)
			}
			if lastHash[msg.ProviderName] == h {
				slog.Debug("skipping unchanged configuration", "provider", msg.ProviderName)
				continue
			}
			lastHash[msg.ProviderName] = h
			latest[msg.ProviderName] = msg.Configuration
			apply()
		}
	}
}

func throttle(ctx context.Context, d time.Duration, in <-chan dynamic.Message, out chan<- dynamic.Message) {
	for {
		var msg dynamic.Message
		select {
		case <-ctx.Done():
			return
		case msg = <-in:
		}
		select {
		case <-ctx.Done():
			return
		case out <- msg:
		}
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}
