// Package http is the HTTP provider (providers.http): it polls an endpoint
// for a whole dynamic configuration in the file provider's format (YAML or
// JSON). An unchanged answer costs one request and nothing else: the
// provider sends If-None-Match / If-Modified-Since from the last answer, and
// a 200 whose body hashes like the last one is neither decoded nor sent.
package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/filedecode"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/redact"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/clienttls"
)

// Name is the provider name carried by every Message.
const Name = "http"

// maxBody bounds one answer: a configuration, not a download.
const maxBody = 64 << 20

var _ providers.Provider = (*Provider)(nil)

// Provider polls one endpoint.
type Provider struct {
	cfg    static.HTTPProvider
	client *nethttp.Client
	log    *slog.Logger
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.HTTPProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", Name)}
}

// Init validates the options and builds the client.
func (p *Provider) Init() error {
	if p.cfg.Endpoint == "" {
		return errors.New("http provider: endpoint is empty")
	}
	u, err := url.Parse(p.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("http provider: endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("http provider: endpoint %q: want an http:// or https:// URL", redact.URL(p.cfg.Endpoint))
	}
	if p.cfg.PollInterval <= 0 {
		return fmt.Errorf("http provider: pollInterval %s: must be positive", time.Duration(p.cfg.PollInterval))
	}
	if p.cfg.PollTimeout <= 0 {
		return fmt.Errorf("http provider: pollTimeout %s: must be positive", time.Duration(p.cfg.PollTimeout))
	}
	for k := range p.cfg.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n\t") {
			return fmt.Errorf("http provider: headers: invalid header name %q", k)
		}
	}
	tc, err := clienttls.Config(p.cfg.TLS)
	if err != nil {
		return fmt.Errorf("http provider: %w", err)
	}
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 1
	p.client = &nethttp.Client{Transport: tr, Timeout: time.Duration(p.cfg.PollTimeout)}
	return nil
}

// poller is the state kept between polls.
type poller struct {
	p            *Provider
	etag, lastMo string
	bodyHash     [32]byte
	haveBody     bool
	failing      bool
}

// Provide polls until ctx is done: once at start, then every pollInterval.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	defer p.client.CloseIdleConnections()
	pl := &poller{p: p}
	t := time.NewTicker(time.Duration(p.cfg.PollInterval))
	defer t.Stop()
	for {
		conf, err := pl.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		pl.report(err)
		if conf != nil {
			select {
			case out <- dynamic.Message{ProviderName: Name, Configuration: conf}:
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}

func (pl *poller) report(err error) {
	log := pl.p.log.With("endpoint", redact.URL(pl.p.cfg.Endpoint))
	switch {
	case err != nil && !pl.failing:
		log.Error("cannot get the configuration; keeping the last one", "error", err)
		pl.failing = true
	case err != nil:
		log.Debug("cannot get the configuration", "error", err)
	case pl.failing:
		log.Info("configuration endpoint answering again")
		pl.failing = false
	}
}

// errUnchanged is no error: the answer says nothing changed.
var errUnchanged = errors.New("unchanged")

// poll returns a configuration to send, nil when nothing changed.
func (pl *poller) poll(ctx context.Context) (*dynamic.Configuration, error) {
	body, ctype, err := pl.fetch(ctx)
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(body)
	if pl.haveBody && h == pl.bodyHash {
		return nil, nil // same bytes: same configuration, or the same error already reported
	}
	pl.bodyHash, pl.haveBody = h, true
	conf, err := Decode(body, ctype)
	if err != nil {
		return nil, err
	}
	return conf, nil
}

func (pl *poller) fetch(ctx context.Context) ([]byte, string, error) {
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, pl.p.cfg.Endpoint, nil)
	if err != nil {
		return nil, "", err
	}
	for k, v := range pl.p.cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if pl.etag != "" {
		req.Header.Set("If-None-Match", pl.etag)
	}
	if pl.lastMo != "" {
		req.Header.Set("If-Modified-Since", pl.lastMo)
	}
	resp, err := pl.p.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case nethttp.StatusNotModified:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", errUnchanged
	case nethttp.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading the body: %w", err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("body larger than %d bytes", maxBody)
	}
	pl.etag = resp.Header.Get("ETag")
	pl.lastMo = resp.Header.Get("Last-Modified")
	return body, resp.Header.Get("Content-Type"), nil
}

// Decode reads a configuration in the file provider's format: JSON when
// the content type says so or the body starts with '{', YAML otherwise.
// Errors name the line and key; unknown keys are refused.
func Decode(body []byte, contentType string) (*dynamic.Configuration, error) {
	ext := ".yaml"
	if strings.Contains(strings.ToLower(contentType), "json") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		ext = ".json"
	}
	el, ignored, err := filedecode.DecodeWithUnknownRootKeys("response", ext, string(body), func() any { return &dynamic.Configuration{} })
	if err != nil {
		return nil, err
	}
	if len(ignored) > 0 {
		names := make([]string, len(ignored))
		for i, k := range ignored {
			names[i] = fmt.Sprintf("%s (line %d)", k.Name, k.Line)
		}
		return nil, fmt.Errorf("unknown top-level keys: %s", strings.Join(names, ", "))
	}
	return el.(*dynamic.Configuration).Normalize(), nil
}
