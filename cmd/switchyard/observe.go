package main

import (
	"net/http"
	"strings"
)

// wrapRouter returns the per-router hook of the builder, or nil when no
// metrics or tracing wants one (a disabled feature adds no wrapper).
func (s *server) wrapRouter() func(router, service string, h http.Handler) http.Handler {
	if s.metrics == nil {
		return nil
	}
	addInternals := s.cfg.Metrics.AddInternals
	return func(router, service string, h http.Handler) http.Handler {
		if !addInternals && strings.HasSuffix(router, "@internal") {
			return h
		}
		return s.metrics.Router(router, service, h)
	}
}

// wrapService is wrapRouter's counterpart for services.
func (s *server) wrapService() func(service string, h http.Handler) http.Handler {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.Service
}
