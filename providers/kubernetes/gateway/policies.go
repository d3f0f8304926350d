package gateway

import (
	"fmt"
	"time"

	ptypes "github.com/traefik/paerser/types"

	gatev1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// defaultRetries is the number of retries of a rule whose retry leaves
// attempts unset (the Gateway API leaves the default to implementations).
const defaultRetries = 1

// retry turns an HTTPRoute rule's retry into a retry middleware (returned
// by name; "" when the rule retries nothing). The retry middleware runs a
// request again when the backend could not be reached (a connection
// error); it does not look at response status codes, so a rule listing
// codes is refused by name rather than retried on other failures only.
func (b *builder) retry(base string, r *gatev1.HTTPRouteRetry) (string, error) {
	if r == nil {
		return "", nil
	}
	if len(r.Codes) > 0 {
		return "", fmt.Errorf("retry.codes: retrying on response status codes is not supported (only connection errors are retried)")
	}
	retries := defaultRetries
	if r.Attempts != nil {
		retries = *r.Attempts
	}
	if retries < 0 {
		return "", fmt.Errorf("retry.attempts: %d is negative", retries)
	}
	var backoff time.Duration
	if r.Backoff != nil {
		d, err := time.ParseDuration(string(*r.Backoff))
		if err != nil || d < 0 {
			return "", fmt.Errorf("retry.backoff: %q is not a Gateway API duration", *r.Backoff)
		}
		backoff = d
	}
	if retries == 0 {
		return "", nil
	}
	name := base + "-retry"
	// Gateway API attempts are retries; the middleware's count the first try.
	b.conf.HTTP.Middlewares[name] = &dynamic.Middleware{Retry: &dynamic.Retry{
		Attempts: retries + 1, InitialInterval: ptypes.Duration(backoff),
	}}
	return name, nil
}

// sticky checks a rule's sessionPersistence and returns the cookie that
// implements it (nil when the rule has none): the load balancer's sticky
// cookie, named sessionName, with absoluteTimeout as its Max-Age. Header
// based persistence, and persistence over several backends (it would need
// one cookie per level of load balancing), are refused by name.
func sticky(sp *gatev1.SessionPersistence, backends int) (*dynamic.Cookie, error) {
	if sp == nil {
		return nil, nil
	}
	if sp.Type != nil && *sp.Type != gatev1.CookieBasedSessionPersistence {
		return nil, fmt.Errorf("sessionPersistence.type: %q is not supported (only Cookie)", *sp.Type)
	}
	if backends > 1 {
		return nil, fmt.Errorf("sessionPersistence: only supported on a rule with one backendRef")
	}
	c := &dynamic.Cookie{}
	c.SetDefaults()
	if sp.SessionName != nil {
		c.Name = *sp.SessionName
	}
	var maxAge time.Duration
	if sp.AbsoluteTimeout != nil {
		d, err := time.ParseDuration(string(*sp.AbsoluteTimeout))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("sessionPersistence.absoluteTimeout: %q is not a positive Gateway API duration", *sp.AbsoluteTimeout)
		}
		maxAge = max(d, time.Second)
	}
	session := sp.CookieConfig != nil && sp.CookieConfig.LifetimeType != nil && *sp.CookieConfig.LifetimeType == gatev1.SessionCookieLifetimeType
	switch {
	case session && maxAge > 0:
		return nil, fmt.Errorf("sessionPersistence.absoluteTimeout: not supported with cookieConfig.lifetimeType Session (a session cookie has no Max-Age)")
	case sp.CookieConfig != nil && sp.CookieConfig.LifetimeType != nil && *sp.CookieConfig.LifetimeType == gatev1.PermanentCookieLifetimeType && maxAge == 0:
		return nil, fmt.Errorf("sessionPersistence.absoluteTimeout: required with cookieConfig.lifetimeType Permanent")
	}
	c.MaxAge = int(maxAge / time.Second)
	return c, nil
}

// stickyService returns a copy of svc, a load balancer, for this rule
// only (the backend's service is shared with other rules), with the
// sticky cookie c. Other services (the invalid backend's) are returned as
// they are: they have no servers to stick to.
func (b *builder) stickyService(base, svc string, c *dynamic.Cookie) string {
	if c == nil {
		return svc
	}
	s, ok := b.conf.HTTP.Services[svc]
	if !ok || s.LoadBalancer == nil || svc == b.emptyService() {
		return svc
	}
	lb := *s.LoadBalancer
	lb.Sticky = &dynamic.Sticky{Cookie: c}
	name := base + "-sticky"
	b.conf.HTTP.Services[name] = &dynamic.Service{LoadBalancer: &lb}
	return name
}

// weightedCount is the number of backendRefs that get traffic.
func weightedCount(backends []gatev1.BackendRef) int {
	n := 0
	for _, br := range backends {
		if br.Weight == nil || *br.Weight != 0 {
			n++
		}
	}
	return n
}
