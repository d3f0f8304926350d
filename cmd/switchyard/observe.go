package main

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/routers/builder"
)

// wrapRouter returns the per-router hook of the builder, or nil when no
// metrics or tracing wants one (a disabled feature adds no wrapper).
func (s *server) wrapRouter() func(router, service string, obs builder.Obs, h http.Handler) http.Handler {
	if s.metrics == nil && s.tracer == nil {
		return nil
	}
	metricsInternals := s.cfg.Metrics != nil && s.cfg.Metrics.AddInternals
	tracingInternals := s.cfg.Tracing != nil && s.cfg.Tracing.AddInternals
	return func(router, service string, obs builder.Obs, h http.Handler) http.Handler {
		internal := strings.HasSuffix(router, "@internal")
		if s.metrics != nil && obs.Metrics && (!internal || metricsInternals) {
			h = s.metrics.Router(router, service, h)
		}
		if s.tracer != nil && obs.Tracing && (!internal || tracingInternals) {
			h = s.tracer.Router(router, service, h)
		}
		return h
	}
}

// wrapService is wrapRouter's counterpart for (non-internal) services.
func (s *server) wrapService() func(service string, obs builder.Obs, h http.Handler) http.Handler {
	if s.metrics == nil && s.tracer == nil {
		return nil
	}
	return func(service string, obs builder.Obs, h http.Handler) http.Handler {
		if s.metrics != nil && obs.Metrics {
			h = s.metrics.Service(service, h)
		}
		if s.tracer != nil && obs.Tracing {
			h = s.tracer.Service(service, h)
		}
		return h
	}
}

// wrapMiddleware gives each middleware a span when tracing is on.
func (s *server) wrapMiddleware() func(name string, h http.Handler) http.Handler {
	if s.tracer == nil {
		return nil
	}
	return s.tracer.Middleware
}
