// Package builder validates a merged dynamic configuration object by
// object and compiles it into an immutable routing table: one HTTP muxer
// per entrypoint. A broken router, service or middleware is disabled with
// its error recorded in the runtime status; everything else is served.
package builder

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/compat"
	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/middlewares"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
	"github.com/switchyard-proxy/switchyard/routers/httpmux"
	"github.com/switchyard-proxy/switchyard/tls/acme"
)

// Table is the compiled routing state of one configuration generation.
type Table struct {
	// HTTP holds the muxer of each HTTP entrypoint.
	HTTP map[string]http.Handler
	// Edge holds, per TCP entrypoint, the TLS and TCP side (see edge.go).
	Edge map[string]*Edge
	// UDP holds the handler of each UDP entrypoint with a router.
	UDP map[string]UDPHandler
	// ACME lists, per certificate resolver, the domain sets its routers
	// need (for acme.Manager.Sync).
	ACME map[string][][]string
}

// Deps are the long-lived inputs of a build.
type Deps struct {
	EntryPoints map[string]*static.EntryPoint
	// Internal maps "api@internal"-style names to their handlers.
	Internal map[string]http.Handler
	// Services builds service handlers and keeps their state across builds.
	Services *ServiceManager
	// AccessLog is true when an access log wants router and service names.
	AccessLog bool
	// TCPTransport is the static default transport to TCP backends.
	TCPTransport *static.TCPServersTransport
	// Middlewares keeps stateful middlewares across builds (nil: none kept).
	Middlewares *middlewares.State
	// WrapRouter and WrapService, when set, wrap each router's and each
	// non-internal service's handler (metrics, tracing). nil adds nothing.
	// obs says which of them the router wants (its observability options,
	// defaulting to its entrypoint's); a hook adds only those.
	WrapRouter  func(router, service string, obs Obs, h http.Handler) http.Handler
	WrapService func(service string, obs Obs, h http.Handler) http.Handler
	// WrapMiddleware, when set, wraps each middleware's handler (tracing).
	WrapMiddleware func(middleware string, h http.Handler) http.Handler
	// ACME serves the certificate resolvers' certificates (nil: none).
	ACME *acme.Manager
	// CertResolvers are the resolver names of the static configuration
	// (so that `check`, which runs no ACME, knows them too).
	CertResolvers map[string]bool
}

// Build compiles conf. It never fails as a whole: errors land on objects.
func Build(conf *dynamic.Configuration, deps Deps) (*Table, *runtime.Configuration) {
	conf = conf.Normalize()
	rt := runtime.New(conf)
	b := &build{
		conf:     conf,
		rt:       rt,
		deps:     deps,
		services: map[string]serviceResult{},
		raw:      map[string]serviceResult{},
		variants: map[variantKey]http.Handler{},
		mws:      map[string]mwResult{},
	}
	deps.Services.beginGeneration()
	deps.Middlewares.Begin()
	table := b.routers()
	b.sortUsedBy()
	// Objects the providers left out, with their reason (after the build:
	// the placeholders are never compiled).
	rt.AddProblems(conf.Problems)
	deps.Middlewares.End()
	deps.Services.endGeneration()
	return table, rt
}

// Obs is the observability a router's requests get, decided at build time
// from http.routers.<n>.observability and its entrypoint's defaults.
type Obs struct {
	AccessLogs, Metrics, Tracing bool
}

// allObs is what a nested service (and any router by default) gets.
var allObs = Obs{AccessLogs: true, Metrics: true, Tracing: true}

// routerObs resolves a router's options on one entrypoint. As in Traefik,
// a router without an observability section inherits its entrypoint's; one
// with a section opts out of those defaults (an unset field is on).
func routerObs(r *dynamic.RouterObservabilityConfig, ep *static.EntryPoint) Obs {
	if r != nil {
		return Obs{AccessLogs: orTrue(r.AccessLogs), Metrics: orTrue(r.Metrics), Tracing: orTrue(r.Tracing)}
	}
	if e := ep.Observability; e != nil {
		return Obs{AccessLogs: orTrue(e.AccessLogs), Metrics: orTrue(e.Metrics), Tracing: orTrue(e.Tracing)}
	}
	return allObs
}

func orTrue(b *bool) bool { return b == nil || *b }

// variantKey names a router-facing service handler built for one Obs.
type variantKey struct {
	name string
	obs  Obs
}

type serviceResult struct {
	h   http.Handler
	err error
}

type mwResult struct {
	c   middlewares.Constructor
	err error
}

type build struct {
	conf     *dynamic.Configuration
	rt       *runtime.Configuration
	deps     Deps
	services map[string]serviceResult
	// raw holds services before the WrapService hook; variants the
	// handlers routers get per Obs (nested services always get allObs).
	raw      map[string]serviceResult
	variants map[variantKey]http.Handler
	mws      map[string]mwResult
	used     map[string]struct{} // kind, name, user: see firstUse
	edge     edgeBuild
}

// defaultEntryPoints returns the TCP entrypoints routers attach to by
// default: those marked asDefault, or all of them when none is. The
// internal "traefik" entrypoint is never a default, as in Traefik.
func (b *build) defaultEntryPoints() []string {
	var all, def []string
	for name, ep := range b.deps.EntryPoints {
		if proto, _ := ep.Network(); proto != "tcp" || name == static.DefaultInternalEntryPointName {
			continue
		}
		all = append(all, name)
		if ep.AsDefault {
			def = append(def, name)
		}
	}
	if len(def) > 0 {
		all = def
	}
	slices.Sort(all)
	return all
}

func (b *build) routers() *Table {
	muxers := map[string]*httpmux.Muxer{}
	for name, ep := range b.deps.EntryPoints {
		if proto, _ := ep.Network(); proto == "tcp" {
			muxers[name] = httpmux.New()
		}
	}
	defaults := b.defaultEntryPoints()
	b.initEdge()

	for _, name := range slices.Sorted(maps.Keys(b.rt.Routers)) {
		info := b.rt.Routers[name]
		r := info.Router
		_, provider := dynamic.SplitQualified(name)

		if strings.TrimSpace(r.Rule) == "" {
			info.AddError(errors.New("router has no rule"), true)
			continue
		}
		if r.RuleSyntax != "" && r.RuleSyntax != "v3" {
			info.AddError(fmt.Errorf("ruleSyntax %q is not supported (only v3)", r.RuleSyntax), true)
			continue
		}
		if r.Service == "" {
			info.AddError(errors.New("router has no service"), true)
			continue
		}
		if err := refused("http.routers", name, r); err != nil {
			info.AddError(err, true)
			continue
		}

		eps := r.EntryPoints
		if len(eps) == 0 {
			eps = defaults
		}
		var valid []string
		for _, ep := range eps {
			if _, ok := muxers[ep]; !ok {
				info.AddError(fmt.Errorf("entryPoint %q doesn't exist", ep), false)
				continue
			}
			valid = append(valid, ep)
		}
		if len(valid) == 0 {
			info.AddError(errors.New("no valid entryPoint for this router"), true)
			continue
		}
		if err := b.checkRouterTLS(r, valid); err != nil {
			info.AddError(err, true)
			continue
		}

		// Built (and checked) with the default observability; each
		// entrypoint's route below takes the variant its options want.
		if _, err := b.service(r.Service, nil); err != nil {
			info.AddError(err, true)
			continue
		}

		// Build every entrypoint's handler first, add routes only when all
		// succeeded, so a router is either fully served or not at all.
		routes := make([]httpmux.Route, 0, len(valid))
		failed := false
		for _, ep := range valid {
			names := r.Middlewares
			if epm := b.deps.EntryPoints[ep].HTTP.Middlewares; len(epm) > 0 {
				qualified := make([]string, 0, len(epm)+len(names))
				for _, m := range epm {
					qualified = append(qualified, dynamic.Qualify(m, provider))
				}
				names = append(qualified, names...)
			}
			obs := routerObs(r.Observability, b.deps.EntryPoints[ep])
			h, err := b.chain(name, names, b.serviceFor(r.Service, obs))
			if err != nil {
				info.AddError(err, true)
				failed = true
				break
			}
			if b.deps.WrapRouter != nil {
				h = b.deps.WrapRouter(name, r.Service, obs, h)
			}
			if b.deps.AccessLog {
				if obs.AccessLogs {
					h = withRouterName(name, h)
				} else {
					h = skipAccessLog(h)
				}
			}
			routes = append(routes, httpmux.Route{Name: name, Rule: r.Rule, Priority: r.Priority, Handler: h})
		}
		if failed {
			continue
		}
		for i, rt := range routes {
			// The rule is the same on every entrypoint: it can only fail
			// on the first, before anything was added.
			if err := b.muxerFor(valid[i], r, muxers).AddRoute(rt); err != nil {
				info.AddError(fmt.Errorf("rule %q: %w", r.Rule, err), true)
				failed = true
				break
			}
		}
		if failed {
			continue
		}
		info.Using = valid
		b.markServiceUsed(r.Service, name)
		b.recordRouterTLS(name, r, valid)
	}

	table := &Table{HTTP: make(map[string]http.Handler, len(muxers))}
	for ep, m := range muxers {
		m.Build()
		table.HTTP[ep] = m
	}
	b.finishEdge(table)
	return table
}

// refused reports the options of a dynamic object that compat.Dynamic
// refuses (Traefik has them, Switchyard does not act on them): the object
// is disabled with an error naming each. kind is the object's table path
// ("http.routers").
func refused(kind, name string, obj any) error {
	return errors.Join(compat.CheckRefusedAt(obj, kind+".<name>", kind+"."+name, compat.Dynamic)...)
}

// firstUse records that "by" uses the object "kind/name" and reports
// whether it is the first time; a set keeps this linear for a service used
// by 10,000 routers (usedBy lists are sorted once, in sortUsedBy).
func (b *build) firstUse(kind, name, by string) bool {
	if b.used == nil {
		b.used = map[string]struct{}{}
	}
	k := kind + "\x00" + name + "\x00" + by
	if _, ok := b.used[k]; ok {
		return false
	}
	b.used[k] = struct{}{}
	return true
}

// sortUsedBy orders every usedBy list once the build is complete.
func (b *build) sortUsedBy() {
	for _, info := range b.rt.Services {
		slices.Sort(info.UsedBy)
	}
	for _, info := range b.rt.Middlewares {
		slices.Sort(info.UsedBy)
	}
	for _, info := range b.rt.TCPServices {
		slices.Sort(info.UsedBy)
	}
	for _, info := range b.rt.TCPMiddlewares {
		slices.Sort(info.UsedBy)
	}
	for _, info := range b.rt.UDPServices {
		slices.Sort(info.UsedBy)
	}
}

func (b *build) markServiceUsed(name, by string) {
	if info, ok := b.rt.Services[name]; ok && b.firstUse("s", name, by) {
		info.UsedBy = append(info.UsedBy, by)
		if s := info.Service; s != nil {
			for _, c := range childServices(s) {
				b.markServiceUsed(c, name)
			}
		}
	}
}

func (b *build) markMiddlewareUsed(name, by string) {
	if info, ok := b.rt.Middlewares[name]; ok && b.firstUse("m", name, by) {
		info.UsedBy = append(info.UsedBy, by)
	}
}

// chain wraps svc with the named middlewares, first name outermost.
func (b *build) chain(router string, names []string, svc http.Handler) (http.Handler, error) {
	cons, err := b.flatten(router, names, nil)
	if err != nil {
		return nil, err
	}
	h := svc
	for i := len(cons) - 1; i >= 0; i-- {
		h, err = cons[i](h)
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ipWhiteListDeprecated is the warning on a middleware of the deprecated
// ipWhiteList kind (shown in the API and logged at each build).
const ipWhiteListDeprecated = "ipWhiteList is deprecated, please use ipAllowList instead"

// MaxNesting bounds how deep chains of middlewares, and services made of
// services (weighted, mirroring, failover), may nest. Past it the object is
// disabled with an error: a hostile or generated configuration cannot make
// a build take quadratic time and memory (a 100,000-deep chain took 78 s
// and 1.1 GB before) or exhaust the stack. No sane configuration nests a
// hundred levels deep.
const MaxNesting = 100

// nestingError is the error of an object nested deeper than MaxNesting.
func nestingError(kind, name string, stack []string) error {
	return fmt.Errorf("%s %q: nested deeper than %d levels (from %s)", kind, name, MaxNesting, stack[0])
}

// flatten resolves chains into a flat constructor list, detecting loops.
func (b *build) flatten(user string, names, stack []string) ([]middlewares.Constructor, error) {
	var out []middlewares.Constructor
	for _, name := range names {
		if len(stack) >= MaxNesting {
			return nil, nestingError("middleware", name, stack)
		}
		if slices.Contains(stack, name) {
			return nil, fmt.Errorf("middleware %q: recursion detected in chain %s", name, strings.Join(append(stack, name), " -> "))
		}
		info, ok := b.rt.Middlewares[name]
		if !ok {
			return nil, fmt.Errorf("middleware %q does not exist", name)
		}
		b.markMiddlewareUsed(name, user)
		if info.Chain != nil && middlewares.Kind(info.Middleware) == "chain" {
			sub, err := b.flatten(name, info.Chain.Middlewares, append(stack, name))
			if err != nil {
				info.AddError(err, true)
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		res, done := b.mws[name]
		if !done {
			c, err := middlewares.Constructor(nil), refused("http.middlewares", name, info.Middleware)
			if err == nil {
				c, err = middlewares.NewWith(name, info.Middleware, b.mwDeps(name))
			}
			if err != nil {
				info.AddError(err, true)
			} else if info.IPWhiteList != nil {
				info.AddError(errors.New(ipWhiteListDeprecated), false)
				slog.Warn(ipWhiteListDeprecated, "middleware", name)
			}
			res = mwResult{c: c, err: err}
			b.mws[name] = res
		}
		if res.err != nil {
			return nil, res.err
		}
		c := res.c
		if w := b.deps.WrapMiddleware; w != nil {
			c = wrapConstructor(name, c, w)
		}
		out = append(out, c)
	}
	return out, nil
}

// mwDeps gives a middleware access to services (errors middleware) and to
// the state kept across builds.
func (b *build) mwDeps(mw string) middlewares.Deps {
	_, provider := dynamic.SplitQualified(mw)
	return middlewares.Deps{
		Service: func(name string) (http.Handler, error) {
			q := dynamic.Qualify(name, provider)
			h, err := b.service(q, nil)
			if err == nil {
				b.markServiceUsed(q, mw)
			}
			return h, err
		},
		State: b.deps.Middlewares,
	}
}

// service returns the handler of a service, building it once per build.
func (b *build) service(name string, stack []string) (http.Handler, error) {
	if res, ok := b.services[name]; ok {
		return res.h, res.err
	}
	if len(stack) >= MaxNesting {
		return nil, nestingError("service", name, stack)
	}
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("service %q: recursion detected: %s", name, strings.Join(append(stack, name), " -> "))
	}
	h, err := b.buildService(name, append(stack, name))
	b.services[name] = serviceResult{h: h, err: err}
	return h, err
}

func (b *build) buildService(name string, stack []string) (http.Handler, error) {
	if h, ok := b.deps.Internal[name]; ok {
		return h, nil
	}
	info, ok := b.rt.Services[name]
	if !ok {
		return nil, fmt.Errorf("service %q does not exist", name)
	}
	if err := refused("http.services", name, info.Service); err != nil {
		info.AddError(err, true)
		return nil, fmt.Errorf("service %q: %w", name, err)
	}
	h, err := b.deps.Services.Build(name, info, b.conf, func(child string) (http.Handler, error) {
		return b.service(child, stack)
	})
	if err != nil {
		info.AddError(err, true)
		slog.Debug("service disabled", "service", name, "error", err)
		return nil, fmt.Errorf("service %q: %w", name, err)
	}
	if mws := info.Middlewares; len(mws) > 0 {
		// The service's own middlewares (Traefik v3.7), after the router's;
		// a name without "@" is in the service's provider.
		_, provider := dynamic.SplitQualified(name)
		names := make([]string, len(mws))
		for i, m := range mws {
			names[i] = dynamic.Qualify(m, provider)
		}
		if h, err = b.chain(name, names, h); err != nil {
			info.AddError(fmt.Errorf("middlewares: %w", err), true)
			return nil, fmt.Errorf("service %q: middlewares: %w", name, err)
		}
	}
	b.raw[name] = serviceResult{h: h}
	return b.wrapService(name, allObs, h), nil
}

func (b *build) wrapService(name string, obs Obs, h http.Handler) http.Handler {
	if b.deps.WrapService != nil {
		h = b.deps.WrapService(name, obs, h)
	}
	if b.deps.AccessLog {
		h = withServiceName(name, h)
	}
	return h
}

// serviceFor returns the handler of a service already built by b.service
// as a router with obs wants it: the shared one for allObs, else one
// wrapped once per build for that Obs (internal services are never
// wrapped, so they are shared too).
func (b *build) serviceFor(name string, obs Obs) http.Handler {
	obs.AccessLogs = true // services carry no access-log switch
	raw, ok := b.raw[name]
	if obs == allObs || !ok {
		return b.services[name].h
	}
	k := variantKey{name, obs}
	if h, ok := b.variants[k]; ok {
		return h
	}
	h := b.wrapService(name, obs, raw.h)
	b.variants[k] = h
	return h
}

func withRouterName(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accesslog.SetRouter(r, name)
		next.ServeHTTP(w, r)
	})
}

// skipAccessLog leaves the request out of the access log
// (observability.accessLogs: false).
func skipAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accesslog.Skip(r)
		next.ServeHTTP(w, r)
	})
}

func withServiceName(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accesslog.SetService(r, name, nil)
		next.ServeHTTP(w, r)
	})
}

// wrapConstructor applies the WrapMiddleware hook to what c builds.
func wrapConstructor(name string, c middlewares.Constructor, w func(string, http.Handler) http.Handler) middlewares.Constructor {
	return func(next http.Handler) (http.Handler, error) {
		h, err := c(next)
		if err != nil {
			return nil, err
		}
		return w(name, h), nil
	}
}
