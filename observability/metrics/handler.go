package metrics

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-proxy/switchyard/internal/retryhook"
)

// recorder captures the status and the response size. Unwrap lets
// http.ResponseController reach the real writer (deadlines, full duplex).
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// ReadFrom keeps the underlying writer's fast path (sendfile, pooled
// copies) while counting the bytes.
func (w *recorder) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// set is one family of request metrics with its fixed leading labels
// (entrypoint, or router+service, or service).
type set struct {
	m        *Registry
	fixed    []string
	reqs     *prometheus.CounterVec
	dur      *prometheus.HistogramVec
	reqBytes *prometheus.CounterVec
	respByte *prometheus.CounterVec
	open     *prometheus.GaugeVec // entrypoints only
	retries  prometheus.Counter   // services only

	// cache maps (code, method, protocol) to the resolved series, so a
	// request pays one map lookup instead of four label hashings.
	cache sync.Map // seriesKey -> *series
}

type seriesKey struct {
	code          int
	method, proto string
}

type series struct {
	reqs                prometheus.Counter // nil with headerLabels
	dur                 prometheus.Observer
	reqBytes, respBytes prometheus.Counter
}

func (s *set) series(code int, method, proto string) *series {
	k := seriesKey{code, method, proto}
	if v, ok := s.cache.Load(k); ok {
		return v.(*series)
	}
	lv := append(append([]string(nil), s.fixed...), codeLabel(code), method, proto)
	sr := &series{
		dur:       s.dur.WithLabelValues(lv...),
		reqBytes:  s.reqBytes.WithLabelValues(lv...),
		respBytes: s.respByte.WithLabelValues(lv...),
	}
	if len(s.m.headerLabels) == 0 {
		sr.reqs = s.reqs.WithLabelValues(lv...)
	}
	// Only bounded keys are cached: standard methods and real status codes.
	if code >= 100 && code < 600 {
		v, _ := s.cache.LoadOrStore(k, sr)
		return v.(*series)
	}
	return sr
}

func (s *set) wrap(next http.Handler) http.Handler {
	n := len(s.fixed)
	// The three protocol labels' gauges, resolved once.
	var open map[string]prometheus.Gauge
	if s.open != nil {
		open = map[string]prometheus.Gauge{}
		for _, p := range []string{"http", "websocket", "sse"} {
			open[p] = s.open.WithLabelValues(s.fixed[0], p)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto := protocolLabel(r)
		var g prometheus.Gauge
		if s.open != nil {
			g = open[proto]
			g.Inc()
		}
		rec := recorders.Get().(*recorder)
		*rec = recorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		d := time.Since(start).Seconds()
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		size := rec.bytes
		*rec = recorder{}
		recorders.Put(rec)
		if g != nil {
			g.Dec()
		}
		if s.retries != nil && retryhook.Pending(r) {
			// This attempt wrote nothing and runs again: a retry, not a
			// request.
			s.retries.Inc()
			return
		}

		method := methodLabel(r.Method)
		sr := s.series(code, method, proto)
		sr.dur.Observe(d)
		if r.ContentLength > 0 {
			sr.reqBytes.Add(float64(r.ContentLength))
		}
		sr.respBytes.Add(float64(size))
		if sr.reqs != nil {
			sr.reqs.Inc()
			return
		}
		lv := make([]string, 0, n+3+len(s.m.headerLabels))
		lv = append(append(lv, s.fixed...), codeLabel(code), method, proto)
		for _, h := range s.m.headerLabels {
			lv = append(lv, r.Header.Get(h.header))
		}
		s.reqs.WithLabelValues(lv...).Inc()
	})
}

// EntryPoint wraps an entrypoint's handler (nil when entrypoint labels are
// off, so the caller adds no wrapper).
func (m *Registry) EntryPoint(name string, next http.Handler) http.Handler {
	if !m.cfg.AddEntryPointsLabels {
		return next
	}
	s := &set{m: m, fixed: []string{name}, reqs: m.epReqs, dur: m.epDur, reqBytes: m.epReqBytes, respByte: m.epRespBytes, open: m.openConns}
	return s.wrap(next)
}

// Router wraps a router's handler when addRoutersLabels is on.
func (m *Registry) Router(router, service string, next http.Handler) http.Handler {
	if !m.cfg.AddRoutersLabels {
		return next
	}
	s := &set{m: m, fixed: []string{router, service}, reqs: m.routerReqs, dur: m.routerDur, reqBytes: m.routerReqBytes, respByte: m.routerRespBy}
	return s.wrap(next)
}

// Service wraps a service's handler when addServicesLabels is on.
func (m *Registry) Service(service string, next http.Handler) http.Handler {
	if !m.cfg.AddServicesLabels {
		return next
	}
	s := &set{m: m, fixed: []string{service}, reqs: m.svcReqs, dur: m.svcDur, reqBytes: m.svcReqBy, respByte: m.svcRespBy,
		retries: m.svcRetries.WithLabelValues(service)}
	return s.wrap(next)
}
