// Package healthcheck runs the active health checks of a load balancer's
// servers: one probe loop per server, reporting transitions only.
package healthcheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Target is one server to probe.
type Target struct {
	Name string   // the balancer's server name, passed back to the status func
	URL  *url.URL // the server URL (scheme http, https or h2c)
}

// RoundTripperFunc returns the round tripper for a scheme (http, https, h2c).
type RoundTripperFunc func(scheme string) http.RoundTripper

// Config is a resolved health-check configuration.
type Config struct {
	Scheme            string
	Mode              string // "http" or "grpc"
	Path              string
	Method            string
	Status            int
	Port              int
	Interval          time.Duration
	UnhealthyInterval time.Duration
	Timeout           time.Duration
	Hostname          string
	FollowRedirects   bool
	Headers           map[string]string
}

// NewConfig resolves and validates a healthCheck section with Traefik's defaults.
func NewConfig(c *dynamic.ServerHealthCheck) (*Config, error) {
	out := &Config{
		Scheme: c.Scheme, Mode: strings.ToLower(c.Mode), Path: c.Path, Method: c.Method, Status: c.Status, Port: c.Port,
		Interval: time.Duration(c.Interval), Timeout: time.Duration(c.Timeout), Hostname: c.Hostname,
		FollowRedirects: c.FollowRedirects == nil || *c.FollowRedirects, Headers: c.Headers,
	}
	if out.Mode == "" {
		out.Mode = "http"
	}
	if out.Mode != "http" && out.Mode != "grpc" {
		return nil, fmt.Errorf("healthCheck: mode %q must be http or grpc", c.Mode)
	}
	if out.Interval == 0 {
		out.Interval = 30 * time.Second
	}
	if out.Timeout == 0 {
		out.Timeout = 5 * time.Second
	}
	if out.Interval < 0 || out.Timeout < 0 {
		return nil, errors.New("healthCheck: interval and timeout must be positive")
	}
	out.UnhealthyInterval = out.Interval
	if c.UnhealthyInterval != nil {
		if *c.UnhealthyInterval <= 0 {
			return nil, errors.New("healthCheck: unhealthyInterval must be positive")
		}
		out.UnhealthyInterval = time.Duration(*c.UnhealthyInterval)
	}
	if out.Method == "" {
		out.Method = http.MethodGet
	}
	if out.Port < 0 || out.Port > 65535 {
		return nil, fmt.Errorf("healthCheck: port %d out of range", out.Port)
	}
	if out.Status != 0 && (out.Status < 100 || out.Status > 999) {
		return nil, fmt.Errorf("healthCheck: status %d is not an HTTP status", out.Status)
	}
	switch out.Scheme {
	case "", "http", "https", "h2c":
	default:
		return nil, fmt.Errorf("healthCheck: scheme %q must be http, https or h2c", out.Scheme)
	}
	if out.Path != "" && !strings.HasPrefix(out.Path, "/") {
		out.Path = "/" + out.Path
	}
	return out, nil
}

// Checker probes a set of targets until stopped.
type Checker struct {
	cfg     *Config
	targets []Target
	rt      RoundTripperFunc
	set     func(name string, up bool)
	service string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares a checker; set is called on every status transition (servers
// start up). Nothing runs until Start.
func New(service string, cfg *Config, targets []Target, rt RoundTripperFunc, set func(name string, up bool)) *Checker {
	return &Checker{cfg: cfg, targets: targets, rt: rt, set: set, service: service}
}

// Start launches one probe loop per target; the first probe runs at once.
func (c *Checker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, t := range c.targets {
		c.wg.Add(1)
		go c.loop(ctx, t)
	}
}

// Stop ends every probe loop and waits for them.
func (c *Checker) Stop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

func (c *Checker) loop(ctx context.Context, t Target) {
	defer c.wg.Done()
	client := c.client(t)
	up := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := c.probe(ctx, client, t)
		if ctx.Err() != nil {
			return
		}
		if now := err == nil; now != up {
			up = now
			if up {
				slog.Info("health check: server up", "service", c.service, "server", t.URL.Redacted())
			} else {
				slog.Warn("health check: server down", "service", c.service, "server", t.URL.Redacted(), "error", err)
			}
			c.set(t.Name, up)
		}
		d := c.cfg.Interval
		if !up {
			d = c.cfg.UnhealthyInterval
		}
		timer.Reset(d)
	}
}

func (c *Checker) scheme(t Target) string {
	s := t.URL.Scheme
	if c.cfg.Scheme != "" {
		s = c.cfg.Scheme
	}
	if c.cfg.Mode == "grpc" && s == "http" {
		s = "h2c" // gRPC needs HTTP/2; over cleartext that is h2c
	}
	return s
}

func (c *Checker) client(t Target) *http.Client {
	cl := &http.Client{Transport: c.rt(c.scheme(t))}
	if !c.cfg.FollowRedirects {
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return cl
}

// URL is the probe URL of a target.
func (c *Checker) URL(t Target) *url.URL {
	u := &url.URL{Scheme: c.scheme(t), Host: t.URL.Host}
	if u.Scheme == "h2c" {
		u.Scheme = "http"
	}
	if c.cfg.Port != 0 {
		u.Host = net.JoinHostPort(t.URL.Hostname(), strconv.Itoa(c.cfg.Port))
	}
	path := c.cfg.Path
	if c.cfg.Mode == "grpc" {
		path = "/grpc.health.v1.Health/Check"
	}
	// The probe path is absolute, as Traefik resolves it: a server URL's own
	// path does not prefix it.
	p, q, _ := strings.Cut(path, "?")
	u.Path = p
	u.RawQuery = q
	return u
}

// grpcCheckRequest is an empty grpc.health.v1.HealthCheckRequest in a gRPC frame.
var grpcCheckRequest = []byte{0, 0, 0, 0, 0}

func (c *Checker) probe(ctx context.Context, client *http.Client, t Target) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	method := c.cfg.Method
	var body io.Reader
	if c.cfg.Mode == "grpc" {
		method, body = http.MethodPost, bytes.NewReader(grpcCheckRequest)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL(t).String(), body)
	if err != nil {
		return err
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	if c.cfg.Hostname != "" {
		req.Host = c.cfg.Hostname
	}
	if c.cfg.Mode == "grpc" {
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("TE", "trailers")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if c.cfg.Mode == "grpc" {
		return grpcServing(resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if c.cfg.Status != 0 {
		if resp.StatusCode != c.cfg.Status {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, c.cfg.Status)
		}
		return nil
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// grpcServing reads a grpc.health.v1.HealthCheckResponse: status (field 1)
// must be SERVING (1) and grpc-status 0.
func grpcServing(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("grpc health: HTTP status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return fmt.Errorf("grpc health: %w", err)
	}
	gs := resp.Trailer.Get("Grpc-Status")
	if gs == "" {
		gs = resp.Header.Get("Grpc-Status")
	}
	if gs != "0" {
		return fmt.Errorf("grpc health: grpc-status %q %s", gs, resp.Trailer.Get("Grpc-Message"))
	}
	if len(data) < 5 || data[0] != 0 {
		return errors.New("grpc health: bad response frame")
	}
	n := binary.BigEndian.Uint32(data[1:5])
	msg := data[5:]
	if uint32(len(msg)) < n {
		return errors.New("grpc health: short response")
	}
	msg = msg[:n]
	status := uint64(0)
	for len(msg) > 0 {
		key, k := binary.Uvarint(msg)
		if k <= 0 {
			return errors.New("grpc health: bad message")
		}
		msg = msg[k:]
		switch key & 7 {
		case 0:
			v, k := binary.Uvarint(msg)
			if k <= 0 {
				return errors.New("grpc health: bad message")
			}
			msg = msg[k:]
			if key>>3 == 1 {
				status = v
			}
		case 2:
			l, k := binary.Uvarint(msg)
			if k <= 0 || uint64(len(msg)-k) < l {
				return errors.New("grpc health: bad message")
			}
			msg = msg[k+int(l):]
		default:
			return errors.New("grpc health: bad message")
		}
	}
	if status != 1 {
		return fmt.Errorf("grpc health: status %d, not SERVING", status)
	}
	return nil
}
