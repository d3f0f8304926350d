package aggregator

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func routerConf(names ...string) *dynamic.Configuration {
	c := dynamic.New()
	for _, n := range names {
		c.HTTP.Routers[n] = &dynamic.Router{Rule: "Host(`" + n + "`)", Service: "s"}
	}
	return c
}

// A configuration equal to the last one applied is dropped, whether the
// provider sent its hash or not; a provided hash is trusted as is.
func TestWatcherSkipsUnchanged(t *testing.T) {
	applied := make(chan *dynamic.Configuration, 8)
	w := NewWatcher(0, nil, func(c *dynamic.Configuration) { applied <- c })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	<-applied // the initial, empty application

	expect := func(routers int) {
		t.Helper()
		select {
		case c := <-applied:
			if len(c.HTTP.Routers) != routers {
				t.Fatalf("applied %d routers, want %d", len(c.HTTP.Routers), routers)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing applied")
		}
	}
	a := routerConf("a")
	w.Messages() <- dynamic.Message{ProviderName: "p", Configuration: a}
	expect(1)
	// Same content, hash computed by the watcher: dropped.
	w.Messages() <- dynamic.Message{ProviderName: "p", Configuration: routerConf("a")}
	// Same content, hash given by the provider: dropped.
	w.Messages() <- dynamic.Message{ProviderName: "p", Configuration: routerConf("a"), Hash: dynamic.Hash(a)}
	b := routerConf("a", "b")
	w.Messages() <- dynamic.Message{ProviderName: "p", Configuration: b, Hash: dynamic.Hash(b)}
	expect(2)
	select {
	case c := <-applied:
		t.Fatalf("unexpected application of %d routers", len(c.HTTP.Routers))
	case <-time.After(50 * time.Millisecond):
	}
}

// Defect 5 of issue 13: a rebuild asked for by something outside the
// providers (ACME certificates) while a provider update is in flight must
// never bring back the older configuration. The old side path read the
// last configuration, unlocked, then rebuilt it, so an update applied in
// between was overwritten. Here the refresh is requested, and the newer
// configuration sent, while the older one is being applied (deterministic:
// apply is held on a channel); every application after the newer one was
// first applied must still contain it, and the last one must be it.
func TestWatcherRefreshNeverRevertsAnUpdate(t *testing.T) {
	for _, refreshFirst := range []bool{true, false} {
		var seq []int
		applied := make(chan int, 16)
		hold := make(chan struct{})
		holding := make(chan struct{}, 1)
		w := NewWatcher(0, nil, func(c *dynamic.Configuration) {
			n := len(c.HTTP.Routers)
			if n == 1 { // the older configuration: hold it while the race is set up
				select {
				case holding <- struct{}{}:
					<-hold
				default:
				}
			}
			applied <- n
		})
		ctx, cancel := context.WithCancel(context.Background())
		go w.Run(ctx)
		<-applied // the initial, empty application
		w.Messages() <- dynamic.Message{ProviderName: "file", Configuration: routerConf("a")}
		select {
		case <-holding:
		case <-time.After(5 * time.Second):
			t.Fatal("older configuration never applied")
		}
		if refreshFirst {
			w.Refresh()
			w.Messages() <- dynamic.Message{ProviderName: "file", Configuration: routerConf("a", "b")}
		} else {
			w.Messages() <- dynamic.Message{ProviderName: "file", Configuration: routerConf("a", "b")}
			w.Refresh()
		}
		w.Refresh() // collapses with the pending one, never blocks
		close(hold)
		deadline := time.After(5 * time.Second)
	collect:
		for {
			select {
			case n := <-applied:
				seq = append(seq, n)
			case <-time.After(300 * time.Millisecond):
				if len(seq) >= 2 {
					break collect
				}
			case <-deadline:
				t.Fatalf("applications %v: the newer configuration never applied", seq)
			}
		}
		cancel()
		seenNew := false
		for _, n := range seq {
			if n == 2 {
				seenNew = true
			} else if seenNew {
				t.Fatalf("refreshFirst=%v: applications %v: the older configuration came back", refreshFirst, seq)
			}
		}
		if seq[len(seq)-1] != 2 {
			t.Fatalf("refreshFirst=%v: applications %v: last is not the newest", refreshFirst, seq)
		}
	}
}
