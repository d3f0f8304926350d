// Package errorpage is the "errors" middleware: when the response status is
// in one of the configured ranges, the body is replaced by a page fetched
// from another service (package name avoids clashing with std errors).
package errorpage

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

type codeRange = statusrange.Range

// Ranges is a parsed list of statuses and ranges ("404", "500-599").
type Ranges = statusrange.Ranges

// ParseRanges parses entries, each possibly a comma-separated list.
func ParseRanges(list []string) (Ranges, error) { return statusrange.Parse(list) }

type rewrite struct {
	codeRange
	to int
}

type page struct {
	next     http.Handler
	service  http.Handler
	ranges   Ranges
	rewrites []rewrite
	query    string
	nginx    bool
	reqSet   map[string]string // canonical keys
	// keep, when filter is set, are the only request headers sent to the
	// page service (errorRequestHeaders; canonical keys).
	keep   []string
	filter bool
}

// Setup validates cfg; service is the handler of cfg.Service.
func Setup(cfg *dynamic.ErrorPage, service http.Handler) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	if cfg.Service == "" {
		return nil, errors.New("service is required")
	}
	if service == nil {
		return nil, fmt.Errorf("service %q is not available", cfg.Service)
	}
	rg, err := ParseRanges(cfg.Status)
	if err != nil {
		return nil, err
	}
	p := page{service: service, ranges: rg, query: cfg.Query, nginx: cfg.NGINXHeaders}
	if cfg.ErrorRequestHeaders != nil {
		p.filter = true
		for _, h := range cfg.ErrorRequestHeaders {
			if !httpguts.ValidHeaderFieldName(h) {
				return nil, fmt.Errorf("errorRequestHeaders: %q is not a valid header name", h)
			}
			p.keep = append(p.keep, http.CanonicalHeaderKey(h))
		}
	}
	for k, v := range cfg.RequestHeaders {
		if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			return nil, fmt.Errorf("requestHeaders %q: invalid header name or value", k)
		}
		if p.reqSet == nil {
			p.reqSet = map[string]string{}
		}
		p.reqSet[http.CanonicalHeaderKey(k)] = v
	}
	for k, to := range cfg.StatusRewrites {
		r, err := ParseRanges([]string{k})
		if err != nil || len(r) != 1 {
			return nil, fmt.Errorf("statusRewrites %q: not a status or range", k)
		}
		if to < 100 || to > 599 {
			return nil, fmt.Errorf("statusRewrites %q: %d is not a valid status", k, to)
		}
		p.rewrites = append(p.rewrites, rewrite{r[0], to})
		p.ranges = append(p.ranges, r[0])
	}
	if len(p.ranges) == 0 {
		return nil, errors.New("status is required")
	}
	if p.query == "" {
		p.query = "/"
	}
	if !strings.HasPrefix(p.query, "/") {
		p.query = "/" + p.query
	}
	return func(next http.Handler) http.Handler {
		h := p
		h.next = next
		return &h
	}, nil
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The original URL, before the next handlers rewrite it.
	orig := r.URL.String()
	origURI := r.RequestURI
	if origURI == "" {
		origURI = r.URL.RequestURI()
	}
	c := &catcher{rw: w, ranges: p.ranges, header: http.Header{}}
	p.next.ServeHTTP(c, r)
	if !c.caught {
		c.flushHeader()
		return
	}
	status := c.code
	for _, rw := range p.rewrites {
		if status >= rw.Lo && status <= rw.Hi {
			status = rw.to
			break
		}
	}
	q := strings.NewReplacer("{status}", strconv.Itoa(status), "{originalStatus}", strconv.Itoa(c.code),
		"{url}", url.QueryEscape(orig)).Replace(p.query)
	u, err := url.ParseRequestURI(q)
	if err != nil {
		slog.Debug("errors middleware: bad query", "query", q, "error", err)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status)))
		return
	}
	pr := r.Clone(r.Context())
	pr.Method = http.MethodGet
	pr.Body = http.NoBody
	pr.ContentLength = 0
	pr.URL.Path, pr.URL.RawPath, pr.URL.RawQuery = u.Path, u.RawPath, u.RawQuery
	pr.RequestURI = u.RequestURI()
	pr.Header.Del("Content-Length")
	pr.Header.Del("Transfer-Encoding")
	pr.Header.Del("Accept-Encoding") // the page body is sent as is
	if p.filter {
		kept := make(http.Header, len(p.keep))
		for _, k := range p.keep {
			if v, ok := pr.Header[k]; ok {
				kept[k] = v
			}
		}
		pr.Header = kept
	}
	if p.nginx {
		pr.Header.Set("X-Code", strconv.Itoa(c.code))
		pr.Header.Set("X-Format", r.Header.Get("Accept"))
		pr.Header.Set("X-Original-URI", origURI)
	}
	for k, v := range p.reqSet {
		pr.Header[k] = []string{v}
	}
	p.service.ServeHTTP(&fixedStatus{ResponseWriter: w, code: status}, pr)
}

// catcher holds the response head until it knows whether the status is
// caught, and drops the body of a caught one.
type catcher struct {
	rw     http.ResponseWriter
	ranges Ranges
	header http.Header
	code   int
	caught bool
	wrote  bool
}

func (c *catcher) Header() http.Header {
	if c.wrote {
		return c.rw.Header()
	}
	return c.header
}

func (c *catcher) WriteHeader(code int) {
	if c.wrote || c.caught {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		copyHeader(c.rw.Header(), c.header)
		c.rw.WriteHeader(code)
		return
	}
	c.code = code
	if c.ranges.Contains(code) {
		c.caught = true
		return
	}
	c.flushHeader()
}

func (c *catcher) flushHeader() {
	if c.wrote || c.caught {
		return
	}
	c.wrote = true
	copyHeader(c.rw.Header(), c.header)
	if c.code != 0 {
		c.rw.WriteHeader(c.code)
	}
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (c *catcher) Write(b []byte) (int, error) {
	if !c.wrote && !c.caught {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		return len(b), nil
	}
	return c.rw.Write(b)
}

func (c *catcher) Flush() {
	if c.caught {
		return
	}
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if f, ok := c.rw.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack serves upgrades (WebSocket) through the middleware.
func (c *catcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	copyHeader(c.rw.Header(), c.header)
	c.wrote = true
	return http.NewResponseController(c.rw).Hijack()
}

func (c *catcher) Unwrap() http.ResponseWriter { return c.rw }

// fixedStatus answers the error page with the original (or rewritten) status.
type fixedStatus struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (f *fixedStatus) WriteHeader(int) {
	if !f.wrote {
		f.wrote = true
		f.ResponseWriter.WriteHeader(f.code)
	}
}

func (f *fixedStatus) Write(b []byte) (int, error) {
	f.WriteHeader(0)
	return f.ResponseWriter.Write(b)
}

func (f *fixedStatus) Flush() {
	f.WriteHeader(0)
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
