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
