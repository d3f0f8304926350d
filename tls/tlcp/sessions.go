package tlcp

import (
	"container/list"
	"sync"
	"time"
)

// SessionCache keeps up to a fixed number of sessions for a fixed time,
// dropping the least recently used. Safe for concurrent use; one cache
// may serve many connections (and many Configs).
type SessionCache struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration
	lru   *list.List // of *cacheEntry, most recent first
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key string
	s   *session
}

// NewSessionCache holds at most capacity sessions (≤ 0: 4096), each for
// ttl (≤ 0: 1 hour, well inside the 24 h GB/T 38636 allows).
func NewSessionCache(capacity int, ttl time.Duration) *SessionCache {
	if capacity <= 0 {
		capacity = 4096
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &SessionCache{cap: capacity, ttl: ttl, lru: list.New(), byKey: make(map[string]*list.Element)}
}

// Len is the number of sessions held.
func (c *SessionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *SessionCache) get(key string, now time.Time) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil
	}
	ce := e.Value.(*cacheEntry)
	if now.Sub(ce.s.created) > c.ttl {
		c.lru.Remove(e)
		delete(c.byKey, key)
		return nil
	}
	c.lru.MoveToFront(e)
	return ce.s
}

func (c *SessionCache) put(key string, s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*cacheEntry).s = s
		c.lru.MoveToFront(e)
		return
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, s: s})
	for c.lru.Len() > c.cap {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byKey, old.Value.(*cacheEntry).key)
	}
}

func (c *SessionCache) delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.lru.Remove(e)
		delete(c.byKey, key)
	}
}
