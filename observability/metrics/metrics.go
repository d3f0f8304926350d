// Package metrics exports Prometheus metrics named like Traefik's, with a
// "switchyard_" prefix. A Registry is built only when metrics.prometheus
// is configured; without it nothing wraps any handler, so metrics cost
// nothing when off.
package metrics

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/redact"
)

const ns = "switchyard"

// Registry holds every metric and the handler serving them.
type Registry struct {
	cfg *static.Prometheus
	reg *prometheus.Registry

	headerLabels []headerLabel

	epReqs, routerReqs, svcReqs          *prometheus.CounterVec
	epDur, routerDur, svcDur             *prometheus.HistogramVec
	epReqBytes, routerReqBytes, svcReqBy *prometheus.CounterVec
	epRespBytes, routerRespBy, svcRespBy *prometheus.CounterVec
	openConns                            *prometheus.GaugeVec
	svcRetries                           *prometheus.CounterVec

	reloads, reloadFailures *prometheus.CounterVec
	lastSuccess, lastFail   prometheus.Gauge
	certNotAfter            *prometheus.GaugeVec

	rt atomic.Pointer[runtime.Configuration]
}

type headerLabel struct{ label, header string }

// New builds the registry from metrics.prometheus.
func New(cfg *static.Prometheus) *Registry {
	if cfg == nil {
		cfg = &static.Prometheus{}
		cfg.SetDefaults()
	}
	buckets := cfg.Buckets
	if len(buckets) == 0 {
		buckets = []float64{0.1, 0.3, 1.2, 5}
	}
	m := &Registry{cfg: cfg, reg: prometheus.NewRegistry()}
	for _, l := range slices.Sorted(keys(cfg.HeaderLabels)) {
		m.headerLabels = append(m.headerLabels, headerLabel{label: l, header: cfg.HeaderLabels[l]})
	}
	extra := make([]string, 0, len(m.headerLabels))
	for _, h := range m.headerLabels {
		extra = append(extra, h.label)
	}
	base := []string{"code", "method", "protocol"}

	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	hist := func(name, help string, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(v)
		return v
	}
	with := func(first []string, rest ...[]string) []string {
		out := slices.Clone(first)
		for _, r := range rest {
			out = append(out, r...)
		}
		return out
	}

	m.epReqs = counter("entrypoint_requests_total", "How many HTTP requests processed on an entrypoint.", with([]string{"entrypoint"}, base, extra)...)
	m.epDur = hist("entrypoint_request_duration_seconds", "How long it took to process the request on an entrypoint.", with([]string{"entrypoint"}, base)...)
	m.epReqBytes = counter("entrypoint_requests_bytes_total", "The total size of requests in bytes handled by an entrypoint.", with([]string{"entrypoint"}, base)...)
	m.epRespBytes = counter("entrypoint_responses_bytes_total", "The total size of responses in bytes handled by an entrypoint.", with([]string{"entrypoint"}, base)...)

	m.routerReqs = counter("router_requests_total", "How many HTTP requests are processed on a router.", with([]string{"router", "service"}, base, extra)...)
	m.routerDur = hist("router_request_duration_seconds", "How long it took to process the request on a router.", with([]string{"router", "service"}, base)...)
	m.routerReqBytes = counter("router_requests_bytes_total", "The total size of requests in bytes handled by a router.", with([]string{"router", "service"}, base)...)
	m.routerRespBy = counter("router_responses_bytes_total", "The total size of responses in bytes handled by a router.", with([]string{"router", "service"}, base)...)

	m.svcReqs = counter("service_requests_total", "How many HTTP requests processed on a service.", with([]string{"service"}, base, extra)...)
	m.svcDur = hist("service_request_duration_seconds", "How long it took to process the request on a service.", with([]string{"service"}, base)...)
	m.svcReqBy = counter("service_requests_bytes_total", "The total size of requests in bytes received by a service.", with([]string{"service"}, base)...)
	m.svcRespBy = counter("service_responses_bytes_total", "The total size of responses in bytes returned by a service.", with([]string{"service"}, base)...)
	m.svcRetries = counter("service_retries_total", "How many request retries happened on a service.", "service")

	m.openConns = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "open_connections",
		Help: "How many requests are in flight on an entrypoint, by protocol."}, []string{"entrypoint", "protocol"})
	m.reg.MustRegister(m.openConns)

	m.reloads = counter("config_reloads_total", "Config reloads (every applied configuration).")
	m.reloadFailures = counter("config_reloads_failure_total", "Config reloads in which at least one object was rejected.")
	m.lastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "config_last_reload_success",
		Help: "Unix time of the last reload in which every object was accepted."})
	m.lastFail = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "config_last_reload_failure",
		Help: "Unix time of the last reload in which an object was rejected."})
	m.certNotAfter = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "tls_certs_not_after",
		Help: "Certificate expiration timestamp (Unix seconds)."}, []string{"cn", "sans", "stores"})
	m.reg.MustRegister(m.lastSuccess, m.lastFail, m.certNotAfter, serverUp{m})
	// The metrics exist from the start, as Traefik's do.
	m.reloads.WithLabelValues()
	m.reloadFailures.WithLabelValues()
	return m
}

func keys[V any](mp map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range mp {
			if !yield(k) {
				return
			}
		}
	}
}

// Handler serves /metrics (the prometheus@internal service).
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gatherer exposes the registry to tests.
func (m *Registry) Gatherer() prometheus.Gatherer { return m.reg }

// ConfigApplied records a reload and the state it produced: reload
// counters, certificate expiry, and the runtime view read by the server
// UP/DOWN gauge at scrape time.
func (m *Registry) ConfigApplied(rt *runtime.Configuration, at time.Time) {
	m.reloads.WithLabelValues().Inc()
	failed := len(rt.TLSErrors) > 0
	for _, r := range rt.Routers {
		failed = failed || len(r.Err) > 0
	}
	for _, s := range rt.Services {
		failed = failed || len(s.Err) > 0
	}
	for _, mw := range rt.Middlewares {
		failed = failed || len(mw.Err) > 0
	}
	for _, r := range rt.TCPRouters {
		failed = failed || len(r.Err) > 0
	}
	for _, r := range rt.UDPRouters {
		failed = failed || len(r.Err) > 0
	}
	if failed {
		m.reloadFailures.WithLabelValues().Inc()
		m.lastFail.Set(float64(at.Unix()))
	} else {
		m.lastSuccess.Set(float64(at.Unix()))
	}
	m.certNotAfter.Reset()
	for _, c := range rt.TLSCertificates {
		cn := ""
		if len(c.Names) > 0 {
			cn = c.Names[0]
		}
		m.certNotAfter.WithLabelValues(cn, strings.Join(c.Names, ","), strings.Join(c.Stores, ",")).Set(float64(c.NotAfter.Unix()))
	}
	m.rt.Store(rt)
}

// serverUp reports switchyard_service_server_up from the latest runtime
// view at scrape time, so health-check changes show without a reload.
type serverUp struct{ m *Registry }

var serverUpDesc = prometheus.NewDesc(ns+"_service_server_up", "Current service's server status, 1 for UP, 0 for DOWN.", []string{"service", "url"}, nil)

func (s serverUp) Describe(ch chan<- *prometheus.Desc) { ch <- serverUpDesc }

func (s serverUp) Collect(ch chan<- prometheus.Metric) {
	rt := s.m.rt.Load()
	if rt == nil {
		return
	}
	for name, svc := range rt.Services {
		for url, st := range svc.ServerStatus() {
			v := 0.0
			if st == "UP" {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(serverUpDesc, prometheus.GaugeValue, v, name, redact.URL(url))
		}
	}
}

// codes avoids strconv per request for the usual statuses.
var codes sync.Map

func codeLabel(c int) string {
	if v, ok := codes.Load(c); ok {
		return v.(string)
	}
	s := itoa(c)
	if c >= 100 && c < 600 {
		codes.Store(c, s)
	}
	return s
}

func itoa(c int) string {
	if c <= 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for c > 0 && i > 0 {
		i--
		b[i] = byte('0' + c%10)
		c /= 10
	}
	return string(b[i:])
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "EXTENSION_METHOD"
}

// protocolLabel is "websocket", "sse" or "http", as in Traefik.
func protocolLabel(r *http.Request) string {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "websocket"
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return "sse"
	}
	return "http"
}

// ConnGauge is one series of switchyard_entrypoint_connections.
type ConnGauge struct {
	Protocol, State string
	N               int
}

// EntryPointConnections exports an entrypoint's open connections by
// protocol and state (switchyard_entrypoint_connections, a Switchyard
// extension), read from its registry at scrape time: count is called once
// per scrape and returns every series, zero or not.
func (m *Registry) EntryPointConnections(entrypoint string, count func() []ConnGauge) {
	m.reg.MustRegister(&connCollector{
		desc: prometheus.NewDesc(ns+"_entrypoint_connections",
			"Connections open on an entrypoint, by protocol and state (read from its connection registry).",
			[]string{"protocol", "state"}, prometheus.Labels{"entrypoint": entrypoint}),
		count: count,
	})
}

type connCollector struct {
	desc  *prometheus.Desc
	count func() []ConnGauge
}

func (c *connCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range c.count() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(g.N), g.Protocol, g.State)
	}
}

// ConnectionsRefused exports a count kept by an entrypoint of connections
// it closed at accept (switchyard_entrypoint_connections_refused_total,
// labels entrypoint and reason, e.g. maxConnsPerIP).
func (m *Registry) ConnectionsRefused(entrypoint, reason string, count func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: ns, Name: "entrypoint_connections_refused_total",
		Help:        "Connections an entrypoint closed as soon as accepted, by reason.",
		ConstLabels: prometheus.Labels{"entrypoint": entrypoint, "reason": reason},
	}, func() float64 { return float64(count()) }))
}
