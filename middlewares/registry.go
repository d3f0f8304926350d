// Package middlewares turns a dynamic middleware definition into a
// constructor. It holds the one table of middleware kinds; each kind lives in
// its own package (middlewares/<kind>) with its README, setup and tests.
//
// New validates and precomputes everything once per configuration: the
// returned Constructor only wraps a next handler, so it may be called for
// every router using the middleware without parsing anything again.
package middlewares

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/addprefix"
	"github.com/switchyard-proxy/switchyard/middlewares/basicauth"
	"github.com/switchyard-proxy/switchyard/middlewares/buffering"
	"github.com/switchyard-proxy/switchyard/middlewares/circuitbreaker"
	"github.com/switchyard-proxy/switchyard/middlewares/compress"
	"github.com/switchyard-proxy/switchyard/middlewares/contenttype"
	"github.com/switchyard-proxy/switchyard/middlewares/digestauth"
	"github.com/switchyard-proxy/switchyard/middlewares/encodedcharacters"
	"github.com/switchyard-proxy/switchyard/middlewares/errorpage"
	"github.com/switchyard-proxy/switchyard/middlewares/forwardauth"
	"github.com/switchyard-proxy/switchyard/middlewares/gatewayfilters"
	"github.com/switchyard-proxy/switchyard/middlewares/grpcweb"
	"github.com/switchyard-proxy/switchyard/middlewares/headers"
	"github.com/switchyard-proxy/switchyard/middlewares/inflightreq"
	"github.com/switchyard-proxy/switchyard/middlewares/ipallowlist"
	"github.com/switchyard-proxy/switchyard/middlewares/ipdenylist"
	"github.com/switchyard-proxy/switchyard/middlewares/passtlsclientcert"
	"github.com/switchyard-proxy/switchyard/middlewares/ratelimit"
	"github.com/switchyard-proxy/switchyard/middlewares/redirectregex"
	"github.com/switchyard-proxy/switchyard/middlewares/redirectscheme"
	"github.com/switchyard-proxy/switchyard/middlewares/replacepath"
	"github.com/switchyard-proxy/switchyard/middlewares/replacepathregex"
	"github.com/switchyard-proxy/switchyard/middlewares/retry"
	"github.com/switchyard-proxy/switchyard/middlewares/stripprefix"
	"github.com/switchyard-proxy/switchyard/middlewares/stripprefixregex"
)

// Constructor wraps next with the configured middleware.
type Constructor func(next http.Handler) (http.Handler, error)

var (
	// ErrChain is returned by New for a chain: chains reference other
	// middlewares, so the builder resolves them.
	ErrChain = errors.New("chain middlewares are resolved by the builder")
	// ErrNotSupported matches (errors.Is) the error of a known kind that has
	// no implementation yet. Only the routers using it should be disabled.
	ErrNotSupported = errors.New("middleware type is not supported yet")
	// ErrNoType is returned for a middleware with no kind set.
	ErrNoType = errors.New("no middleware type set")
	// ErrManyTypes is returned for a middleware with several kinds set.
	ErrManyTypes = errors.New("more than one middleware type set")
)

// wrapper is what every middleware package's Setup returns.
type wrapper = func(next http.Handler) http.Handler

// Deps are what some middlewares need from the builder.
type Deps struct {
	// Service returns the handler of a service (errors middleware). The
	// name is qualified with the middleware's provider when it has no "@".
	Service func(name string) (http.Handler, error)
	// State keeps stateful middlewares across reloads (nil: fresh state).
	State *State
}

// setupCtx is what a setup function gets besides the config.
type setupCtx struct {
	name string // qualified middleware name
	deps Deps
}

// kind is one row of the table: its config key (as in the dynamic
// configuration), whether cfg sets it, and how to set it up (nil when not
// implemented yet).
type kind struct {
	key   string
	isSet func(m *dynamic.Middleware) bool
	setup func(m *dynamic.Middleware, c *setupCtx) (wrapper, error)
}

// kinds lists every field of dynamic.Middleware, in its declaration order.
var kinds = []kind{
	{"addPrefix", func(m *dynamic.Middleware) bool { return m.AddPrefix != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) { return addprefix.Setup(m.AddPrefix) }},
	{"stripPrefix", func(m *dynamic.Middleware) bool { return m.StripPrefix != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) { return stripprefix.Setup(m.StripPrefix) }},
	{"stripPrefixRegex", func(m *dynamic.Middleware) bool { return m.StripPrefixRegex != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return stripprefixregex.Setup(m.StripPrefixRegex)
		}},
	{"replacePath", func(m *dynamic.Middleware) bool { return m.ReplacePath != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) { return replacepath.Setup(m.ReplacePath) }},
	{"replacePathRegex", func(m *dynamic.Middleware) bool { return m.ReplacePathRegex != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return replacepathregex.Setup(m.ReplacePathRegex)
		}},
	{"chain", func(m *dynamic.Middleware) bool { return m.Chain != nil }, nil},
	{"ipAllowList", func(m *dynamic.Middleware) bool { return m.IPAllowList != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return ipallowlist.Setup(m.IPAllowList) }},
	{"ipDenyList", func(m *dynamic.Middleware) bool { return m.IPDenyList != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return ipdenylist.Setup(m.IPDenyList) }},
	{"ipWhiteList", func(m *dynamic.Middleware) bool { return m.IPWhiteList != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			// Traefik's deprecated name: the same filter, answering 403.
			return ipallowlist.Setup(&dynamic.IPAllowList{SourceRange: m.IPWhiteList.SourceRange, IPStrategy: m.IPWhiteList.IPStrategy})
		}},
	{"headers", func(m *dynamic.Middleware) bool { return m.Headers != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) { return headers.Setup(m.Headers) }},
	{"errors", func(m *dynamic.Middleware) bool { return m.Errors != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			if c.deps.Service == nil {
				return nil, errors.New("no service resolver")
			}
			var svc http.Handler
			if m.Errors.Service != "" {
				h, err := c.deps.Service(m.Errors.Service)
				if err != nil {
					return nil, fmt.Errorf("service: %w", err)
				}
				svc = h
			}
			return errorpage.Setup(m.Errors, svc)
		}},
	{"rateLimit", func(m *dynamic.Middleware) bool { return m.RateLimit != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			l, err := stateful(c, "rateLimit", m.RateLimit, func() (*ratelimit.Limiter, error) { return ratelimit.New(c.name, m.RateLimit) })
			return method(l, err, (*ratelimit.Limiter).Wrap)
		}},
	{"redirectRegex", func(m *dynamic.Middleware) bool { return m.RedirectRegex != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) { return redirectregex.Setup(m.RedirectRegex) }},
	{"redirectScheme", func(m *dynamic.Middleware) bool { return m.RedirectScheme != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return redirectscheme.Setup(m.RedirectScheme)
		}},
	{"basicAuth", func(m *dynamic.Middleware) bool { return m.BasicAuth != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return basicauth.Setup(m.BasicAuth) }},
	{"digestAuth", func(m *dynamic.Middleware) bool { return m.DigestAuth != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return digestauth.Setup(m.DigestAuth) }},
	{"forwardAuth", func(m *dynamic.Middleware) bool { return m.ForwardAuth != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			a, err := stateful(c, "forwardAuth", m.ForwardAuth, func() (*forwardauth.Auth, error) { return forwardauth.New(m.ForwardAuth) })
			return method(a, err, (*forwardauth.Auth).Wrap)
		}},
	{"inFlightReq", func(m *dynamic.Middleware) bool { return m.InFlightReq != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			l, err := stateful(c, "inFlightReq", m.InFlightReq, func() (*inflightreq.Limiter, error) { return inflightreq.New(m.InFlightReq) })
			return method(l, err, (*inflightreq.Limiter).Wrap)
		}},
	{"buffering", func(m *dynamic.Middleware) bool { return m.Buffering != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return buffering.Setup(m.Buffering) }},
	{"circuitBreaker", func(m *dynamic.Middleware) bool { return m.CircuitBreaker != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			b, err := stateful(c, "circuitBreaker", m.CircuitBreaker, func() (*circuitbreaker.Breaker, error) { return circuitbreaker.New(m.CircuitBreaker) })
			return method(b, err, (*circuitbreaker.Breaker).Wrap)
		}},
	{"compress", func(m *dynamic.Middleware) bool { return m.Compress != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return compress.Setup(m.Compress) }},
	{"passTLSClientCert", func(m *dynamic.Middleware) bool { return m.PassTLSClientCert != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			return passtlsclientcert.Setup(m.PassTLSClientCert)
		}},
	{"retry", func(m *dynamic.Middleware) bool { return m.Retry != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return retry.Setup(m.Retry) }},
	{"contentType", func(m *dynamic.Middleware) bool { return m.ContentType != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return contenttype.Setup(m.ContentType) }},
	{"grpcWeb", func(m *dynamic.Middleware) bool { return m.GrpcWeb != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) { return grpcweb.Setup(m.GrpcWeb) }},
	{"encodedCharacters", func(m *dynamic.Middleware) bool { return m.EncodedCharacters != nil },
		func(m *dynamic.Middleware, c *setupCtx) (wrapper, error) {
			return encodedcharacters.Setup(m.EncodedCharacters)
		}},
	{"plugin", func(m *dynamic.Middleware) bool { return len(m.Plugin) > 0 }, nil},
	// Gateway API filters (Kubernetes Gateway provider only).
	{"requestHeaderModifier", func(m *dynamic.Middleware) bool { return m.RequestHeaderModifier != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return gatewayfilters.RequestHeaderModifier(m.RequestHeaderModifier)
		}},
	{"responseHeaderModifier", func(m *dynamic.Middleware) bool { return m.ResponseHeaderModifier != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return gatewayfilters.ResponseHeaderModifier(m.ResponseHeaderModifier)
		}},
	{"requestRedirect", func(m *dynamic.Middleware) bool { return m.RequestRedirect != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return gatewayfilters.RequestRedirect(m.RequestRedirect)
		}},
	{"urlRewrite", func(m *dynamic.Middleware) bool { return m.URLRewrite != nil },
		func(m *dynamic.Middleware, _ *setupCtx) (wrapper, error) {
			return gatewayfilters.URLRewrite(m.URLRewrite)
		}},
}

// stateful returns the state of the middleware being set up, kept across
// builds while its options are unchanged.
func stateful[T any](c *setupCtx, kind string, cfg any, mk func() (T, error)) (T, error) {
	v, err := c.deps.State.get(c.name+"#"+kind, cfg, func() (any, error) { return mk() })
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// method turns (state, err) and a wrapping method into a wrapper.
func method[T any](v T, err error, wrap func(T, http.Handler) http.Handler) (wrapper, error) {
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler { return wrap(v, next) }, nil
}

// UnsupportedError is the error of a kind with no implementation yet.
type UnsupportedError struct {
	Name string // qualified middleware name
	Type string // config key, e.g. "basicAuth"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("middleware %q: type %q is not supported yet", e.Name, e.Type)
}

// Is makes errors.Is(err, ErrNotSupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }

// New validates cfg (exactly one kind set, options valid) and returns its
// constructor. A chain returns an error wrapping ErrChain; a kind without an
// implementation an *UnsupportedError. Errors name the middleware.
func New(name string, cfg *dynamic.Middleware) (Constructor, error) {
	return NewWith(name, cfg, Deps{})
}

// NewWith is New with the builder's dependencies.
func NewWith(name string, cfg *dynamic.Middleware, deps Deps) (Constructor, error) {
	k, err := only(cfg)
	if err != nil {
		return nil, fmt.Errorf("middleware %q: %w", name, err)
	}
	if k.key == "chain" {
		return nil, fmt.Errorf("middleware %q: %w", name, ErrChain)
	}
	if k.setup == nil {
		return nil, &UnsupportedError{Name: name, Type: k.key}
	}
	wrap, err := k.setup(cfg, &setupCtx{name: name, deps: deps})
	if err != nil {
		return nil, fmt.Errorf("middleware %q: %s: %w", name, k.key, err)
	}
	return func(next http.Handler) (http.Handler, error) {
		if next == nil {
			return nil, fmt.Errorf("middleware %q: no next handler", name)
		}
		return wrap(next), nil
	}, nil
}

// only returns the one kind cfg sets.
func only(cfg *dynamic.Middleware) (*kind, error) {
	if cfg == nil {
		return nil, ErrNoType
	}
	var found *kind
	var keys []string
	for i := range kinds {
		if kinds[i].isSet(cfg) {
			if found == nil {
				found = &kinds[i]
			}
			keys = append(keys, kinds[i].key)
		}
	}
	switch {
	case found == nil:
		return nil, ErrNoType
	case len(keys) > 1:
		return nil, fmt.Errorf("%w: %s", ErrManyTypes, strings.Join(keys, ", "))
	}
	return found, nil
}

// Kind returns the lowercased kind of cfg ("stripprefix", "headers", ...),
// or "" when none is set. Like Traefik's API "type", a plugin middleware is
// named after its plugin. With several kinds set, the first in declaration
// order is returned (New rejects such a middleware).
func Kind(cfg *dynamic.Middleware) string {
	if cfg == nil {
		return ""
	}
	for i := range kinds {
		if !kinds[i].isSet(cfg) {
			continue
		}
		if kinds[i].key == "plugin" && len(cfg.Plugin) == 1 {
			for p := range cfg.Plugin {
				return strings.ToLower(p)
			}
		}
		return strings.ToLower(kinds[i].key)
	}
	return ""
}

// Supported lists the config keys of the kinds New can build (chain
// excepted: the builder resolves it).
func Supported() []string {
	var out []string
	for _, k := range kinds {
		if k.setup != nil {
			out = append(out, k.key)
		}
	}
	return out
}
