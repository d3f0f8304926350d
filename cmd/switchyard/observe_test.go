package main

import (
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/observability/metrics"
)

// TestObserveHooksOff: with metrics and tracing off the builder gets no
// hook at all, so no handler is wrapped.
func TestObserveHooksOff(t *testing.T) {
	s := &server{cfg: &static.Configuration{}}
	if s.wrapRouter() != nil || s.wrapService() != nil || s.wrapMiddleware() != nil {
		t.Fatal("hooks installed with metrics and tracing off")
	}
	p := &static.Prometheus{}
	p.SetDefaults()
	s = &server{cfg: &static.Configuration{Metrics: &static.Metrics{Prometheus: p}}, metrics: metrics.New(p)}
	if s.wrapRouter() == nil || s.wrapService() == nil {
		t.Fatal("metrics on: router/service hooks missing")
	}
	if s.wrapMiddleware() != nil {
		t.Fatal("middleware hook installed without tracing")
	}
}
