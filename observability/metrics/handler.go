package metrics

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
}

func (s *set) wrap(next http.Handler) http.Handler {
	n := len(s.fixed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto := protocolLabel(r)
		var g prometheus.Gauge
		if s.open != nil {
			g = s.open.WithLabelValues(s.fixed[0], proto)
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

		var buf [8]string
		lv := append(buf[:0], s.fixed...)
		lv = append(lv, codeLabel(code), methodLabel(r.Method), proto)
		s.dur.WithLabelValues(lv...).Observe(d)
		if r.ContentLength > 0 {
			s.reqBytes.WithLabelValues(lv...).Add(float64(r.ContentLength))
		} else {
			s.reqBytes.WithLabelValues(lv...).Add(0)
		}
		s.respByte.WithLabelValues(lv...).Add(float64(size))
		if len(s.m.headerLabels) > 0 {
			full := make([]string, 0, n+3+len(s.m.headerLabels))
			full = append(full, lv...)
			for _, h := range s.m.headerLabels {
				full = append(full, r.Header.Get(h.header))
			}
			lv = full
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
	s := &set{m: m, fixed: []string{service}, reqs: m.svcReqs, dur: m.svcDur, reqBytes: m.svcReqBy, respByte: m.svcRespBy}
	return s.wrap(next)
}

// Retry counts one retry of a service's request.
func (m *Registry) Retry(service string) { m.svcRetries.WithLabelValues(service).Inc() }
