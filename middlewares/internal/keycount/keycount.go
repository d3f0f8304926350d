// Package keycount bounds how many things (connections) each key holds at
// once: the counter behind the inFlightConn and mqttInFlightConn TCP
// middlewares, which differ only in what they count by.
package keycount

import "sync"

// Counter counts open slots per key, at most Max each. Safe for
// concurrent use; the zero value is not usable: use New.
type Counter struct {
	max   int64
	mu    sync.Mutex
	count map[string]int64
}

// New returns a counter allowing limit slots per key.
func New(limit int64) *Counter {
	return &Counter{max: limit, count: map[string]int64{}}
}

// Acquire takes a slot for key. When ok, release must be called once the
// slot is given back (later calls do nothing); when not ok, key holds max
// already.
func (c *Counter) Acquire(key string) (release func(), ok bool) {
	c.mu.Lock()
	if c.count[key] >= c.max {
		c.mu.Unlock()
		return nil, false
	}
	c.count[key]++
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			if c.count[key]--; c.count[key] <= 0 {
				delete(c.count, key)
			}
			c.mu.Unlock()
		})
	}, true
}

// InFlight reports the slots key holds.
func (c *Counter) InFlight(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[key]
}
