package k8s

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/tools/cache"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Trigger coalesces informer events into one pending rebuild: any number of
// events between two rebuilds cost one.
type Trigger chan struct{}

// NewTrigger returns a trigger with one pending slot.
func NewTrigger() Trigger { return make(Trigger, 1) }

// Fire asks for a rebuild; it never blocks.
func (t Trigger) Fire() {
	select {
	case t <- struct{}{}:
	default:
	}
}

// Handler is an informer event handler that fires t on every change.
// Resyncs (same resource version) are ignored: nothing changed.
func (t Trigger) Handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { t.Fire() },
		UpdateFunc: func(o, n any) {
			if oo, ok := o.(interface{ GetResourceVersion() string }); ok {
				if nn, ok := n.(interface{ GetResourceVersion() string }); ok && oo.GetResourceVersion() == nn.GetResourceVersion() {
					return
				}
			}
			t.Fire()
		},
		DeleteFunc: func(any) { t.Fire() },
	}
}

// Loop is the body of a Kubernetes provider's Provide once its informers
// have synced: it builds a whole configuration now and after every trigger
// (at most one per throttle), and sends it when it differs from the last
// one sent. It returns when ctx is done.
//
// build must not block on the network: it reads the informers' caches. It
// may report problems through its own logging; the configuration it
// returns is sent as is (objects it could not translate left out).
func Loop(ctx context.Context, name string, trig Trigger, throttle time.Duration, build func() *dynamic.Configuration, out chan<- dynamic.Message, log *slog.Logger) {
	var last string
	send := func() {
		conf := build()
		h := dynamic.Hash(conf)
		if h == last {
			return
		}
		select {
		case out <- dynamic.Message{ProviderName: name, Configuration: conf, Hash: h}:
			last = h
		case <-ctx.Done():
		}
	}
	send()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trig:
		}
		if throttle > 0 {
			// Events come in bursts (a rollout touches many slices):
			// gather them for the throttle before rebuilding.
			t := time.NewTimer(throttle)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			select { // events of the throttle window are in this rebuild
			case <-trig:
			default:
			}
		}
		send()
		if log != nil {
			log.Debug("kubernetes configuration rebuilt")
		}
	}
}

// WaitForSync waits until every informer has synced or ctx is done; it
// reports whether they synced.
func WaitForSync(ctx context.Context, synced ...cache.InformerSynced) bool {
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}
