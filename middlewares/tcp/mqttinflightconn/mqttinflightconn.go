// Package mqttinflightconn limits the simultaneous connections of each
// MQTT client, by client identifier or user name from its CONNECT: the
// mqttInFlightConn TCP middleware (a Switchyard extension).
package mqttinflightconn

import (
	"fmt"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/middlewares/internal/keycount"
)

// Limiter counts open connections per client key. It is safe for
// concurrent use and meant to be kept across reloads while its config is
// unchanged.
type Limiter struct {
	n      *keycount.Counter
	byUser bool
}

// New validates cfg: amount > 0, by "clientID" (default) or "username".
func New(cfg *dynamic.TCPMQTTInFlightConn) (*Limiter, error) {
	if cfg == nil || cfg.Amount <= 0 {
		return nil, fmt.Errorf("amount must be greater than 0")
	}
	l := &Limiter{n: keycount.New(cfg.Amount)}
	switch cfg.By {
	case "", "clientID":
	case "username":
		l.byUser = true
	default:
		return nil, fmt.Errorf("by %q: want clientID or username", cfg.By)
	}
	return l, nil
}

// Key is what c is counted by; "" (an empty client identifier, which the
// broker replaces by one of its own, or no user name) is not limited.
func (l *Limiter) Key(c *mqtt.Connect) string {
	if l.byUser {
		return c.Username
	}
	return c.ClientID
}

// Acquire takes a slot for the client of c. When ok, release must be
// called once the connection is closed; when not ok the caller refuses
// the connection (mqtt.Refuse with mqtt.ReasonQuotaExceeded).
func (l *Limiter) Acquire(c *mqtt.Connect) (release func(), ok bool) {
	key := l.Key(c)
	if key == "" {
		return func() {}, true
	}
	return l.n.Acquire(key)
}

// InFlight reports the open connections of a client key (for tests and
// metrics).
func (l *Limiter) InFlight(key string) int64 {
	return l.n.InFlight(key)
}
