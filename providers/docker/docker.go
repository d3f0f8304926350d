// Package docker is the Docker provider (`providers.docker`): running
// containers with labels in Traefik's syntax (`traefik.http.routers.x.rule`
// or `switchyard.…`) become routers, services and middlewares; several
// containers of one service are its load-balanced servers. The Engine's
// event stream is followed live (no polling): a container that starts,
// stops, dies or changes health is reflected at once.
package docker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/labeled"
)

// Name is the provider name carried by every Message.
const Name = "docker"

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// Compose labels: a service of a project is named service_project.
	labelComposeProject = "com.docker.compose.project"
	labelComposeService = "com.docker.compose.service"
)

var _ providers.Provider = (*Provider)(nil)

// Provider reads containers from one Docker Engine.
type Provider struct {
	cfg        static.DockerProvider
	log        *slog.Logger
	cli        *client.Client
	rule       *template.Template
	constraint labeled.Constraint
	roots      []string
	timeout    time.Duration

	last string // hash of the last configuration sent
	sent bool
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.DockerProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", Name)}
}

// Init checks the options, compiles the default rule and the constraints
// and builds the client (API version negotiated with the Engine on first
// use, so Engine 20.10 / API 1.41 and newer work).
func (p *Provider) Init() error {
	c := &p.cfg
	if c.Endpoint == "" {
		c.Endpoint = static.DefaultDockerEndpoint
	}
	if c.DefaultRule == "" {
		c.DefaultRule = static.DefaultDockerRule
	}
	if c.HTTPClientTimeout < 0 {
		return errors.New("docker provider: httpClientTimeout: must not be negative")
	}
	p.timeout = time.Duration(c.HTTPClientTimeout)
	var err error
	if p.rule, err = labeled.CompileRule(c.DefaultRule); err != nil {
		return fmt.Errorf("docker provider: %w", err)
	}
	if p.constraint, err = labeled.CompileConstraints(c.Constraints, labeled.LabelFuncs); err != nil {
		return fmt.Errorf("docker provider: %w", err)
	}
	p.roots = []string{"traefik", "switchyard"}
	if p.cli, err = newClient(c); err != nil {
		return fmt.Errorf("docker provider: %w", err)
	}
	return nil
}

// newClient builds the Engine client: unix socket or TCP (TLS with tls.*),
// basic auth with username/password.
func newClient(c *static.DockerProvider) (*client.Client, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", c.Endpoint, err)
	}
	switch u.Scheme {
	case "unix", "tcp", "http", "https":
	case "npipe", "ssh":
		return nil, fmt.Errorf("endpoint %q: the %s scheme is not supported (use unix:// or tcp://)", c.Endpoint, u.Scheme)
	default:
		return nil, fmt.Errorf("endpoint %q: want unix:///path or tcp://host:port", c.Endpoint)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	if c.TLS != nil {
		if u.Scheme == "unix" {
			return nil, fmt.Errorf("tls: set for the unix endpoint %q (TLS applies to tcp:// endpoints)", c.Endpoint)
		}
		cfg, err := clientTLS(c.TLS)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tr.TLSClientConfig = cfg
	}
	host := c.Endpoint
	if u.Scheme == "http" || u.Scheme == "https" {
		host = "tcp://" + u.Host + u.Path
		if u.Scheme == "https" && tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	opts := []client.Opt{
		client.WithHTTPClient(&http.Client{Transport: tr}),
		client.WithHost(host),
		client.WithAPIVersionNegotiation(),
	}
	if c.Username != "" || c.Password != "" {
		if u.Scheme == "unix" {
			return nil, errors.New("username/password: basic auth applies to tcp:// endpoints only")
		}
		auth := base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
		opts = append(opts, client.WithHTTPHeaders(map[string]string{"Authorization": "Basic " + auth}))
	}
	return client.NewClientWithOpts(opts...)
}

func clientTLS(t *static.DockerTLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if t.CA != "" {
		pem, err := readPEM(t.CA)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("ca: no certificate found")
		}
		cfg.RootCAs = pool
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, errors.New("cert and key go together")
	}
	if t.Cert != "" {
		certPEM, err := readPEM(t.Cert)
		if err != nil {
			return nil, fmt.Errorf("cert: %w", err)
		}
		keyPEM, err := readPEM(t.Key)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("cert/key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// readPEM accepts a file path or the PEM text itself, as Traefik does.
func readPEM(s string) ([]byte, error) {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	return os.ReadFile(s)
}

// Provide lists the running containers and, with watch, follows the
// Engine's container events; each relevant event rebuilds the
// configuration (inspecting only the containers it concerns). A lost
// Engine keeps the last configuration and is retried with backoff.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	defer func() { _ = p.cli.Close() }()
	backoff := minBackoff
	failing := false
	for ctx.Err() == nil {
		start := time.Now()
		err := p.session(ctx, out, func() {
			if failing {
				p.log.Info("Docker Engine reachable again")
				failing = false
			}
		})
		if ctx.Err() != nil {
			return nil
		}
		if !failing {
			p.log.Error("Docker Engine unreachable; keeping the last configuration", "endpoint", p.cfg.Endpoint, "error", err)
		}
		failing = true
		if time.Since(start) > maxBackoff {
			backoff = minBackoff
		}
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(backoff*2, maxBackoff)
	}
	return nil
}

// relevant: the events that change what a container contributes.
func relevant(a events.Action) bool {
	switch a {
	case events.ActionStart, events.ActionDie, events.ActionStop, events.ActionPause, events.ActionUnPause,
		events.ActionRename, events.ActionUpdate, events.ActionDestroy, events.ActionRestart:
		return true
	}
	return strings.HasPrefix(string(a), string(events.ActionHealthStatus))
}

// session subscribes to events (before listing, so nothing is missed),
// sends the configuration and follows the events until the stream fails.
func (p *Provider) session(ctx context.Context, out chan<- dynamic.Message, ok func()) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		msgs <-chan events.Message
		errs <-chan error
	)
	if p.cfg.Watch {
		msgs, errs = p.cli.Events(sctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))})
	}
	cache := map[string]container.InspectResponse{}
	sync := func() error {
		conf, err := p.load(sctx, cache)
		if err != nil {
			return err
		}
		ok()
		return p.send(ctx, out, conf)
	}
	if err := sync(); err != nil {
		return err
	}
	if !p.cfg.Watch {
		<-ctx.Done()
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return fmt.Errorf("events: %w", err)
		case ev := <-msgs:
			if !relevant(ev.Action) {
				continue
			}
			delete(cache, ev.Actor.ID)
			// Take every event already queued: one rebuild for a burst.
		drain:
			for {
				select {
				case ev := <-msgs:
					delete(cache, ev.Actor.ID)
				default:
					break drain
				}
			}
			if err := sync(); err != nil {
				return err
			}
		}
	}
}

func (p *Provider) send(ctx context.Context, out chan<- dynamic.Message, conf *dynamic.Configuration) error {
	h := dynamic.Hash(conf)
	if p.sent && h == p.last {
		return nil
	}
	select {
	case out <- dynamic.Message{ProviderName: Name, Configuration: conf}:
		p.sent, p.last = true, h
	case <-ctx.Done():
	}
	return nil
}

func (p *Provider) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout > 0 {
		return context.WithTimeout(ctx, p.timeout)
	}
	return context.WithCancel(ctx)
}

// load lists the running containers, inspects those not in cache and
// builds the configuration.
func (p *Provider) load(ctx context.Context, cache map[string]container.InspectResponse) (*dynamic.Configuration, error) {
	rctx, cancel := p.reqCtx(ctx)
	list, err := p.cli.ContainerList(rctx, container.ListOptions{})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	seen := make(map[string]bool, len(list))
	var ctrs []container.InspectResponse
	for _, s := range list {
		seen[s.ID] = true
		c, ok := cache[s.ID]
		if !ok {
			rctx, cancel := p.reqCtx(ctx)
			c, err = p.cli.ContainerInspect(rctx, s.ID)
			cancel()
			if err != nil {
				if cerrdefs.IsNotFound(err) {
					continue // gone since the list; its event follows
				}
				return nil, fmt.Errorf("inspect container %s: %w", s.ID, err)
			}
			cache[s.ID] = c
		}
		ctrs = append(ctrs, c)
	}
	for id := range cache {
		if !seen[id] {
			delete(cache, id)
		}
	}
	return p.build(ctx, ctrs), nil
}

// ruleData is what a defaultRule template sees.
type ruleData struct {
	Name          string
	ContainerName string
	Labels        map[string]string
}

// build turns the containers into one configuration: each container's
// labels make a configuration of its own, merged as in Traefik (objects
// defined the same way are kept, load balancers get every container's
// server, objects defined differently are left out and reported).
func (p *Provider) build(ctx context.Context, ctrs []container.InspectResponse) *dynamic.Configuration {
	sort.Slice(ctrs, func(i, j int) bool { return ctrs[i].Name < ctrs[j].Name })
	byID := make(map[string]*container.InspectResponse, len(ctrs))
	for i := range ctrs {
		byID[ctrs[i].ID] = &ctrs[i]
		byID[strings.TrimPrefix(ctrs[i].Name, "/")] = &ctrs[i]
	}
	m := labeled.NewMerger("containers")
	r := &resolver{p: p, ctx: ctx, byID: byID}
	for i := range ctrs {
		c := &ctrs[i]
		if c.Config == nil || c.State == nil {
			continue
		}
		name := strings.TrimPrefix(c.Name, "/")
		lbls := c.Config.Labels
		svc := serviceName(name, lbls)
		where := fmt.Sprintf("container %q", name)
		on, err := labeled.Enabled(lbls, p.roots, p.cfg.ExposedByDefault)
		if err != nil {
			m.AddProblems(dynamic.ObjectProblem{Kind: "service", Name: svc, Warning: true,
				Error: fmt.Sprintf("%s: label %v: container left out", where, err)})
		}
		if !on || !p.constraint(labeled.Subject{Labels: lbls}) {
			continue
		}
		up := usable(c)
		if !up && !p.cfg.AllowEmptyServices {
			continue
		}
		for _, k := range unknownDockerLabels(lbls, p.roots) {
			m.AddProblems(dynamic.ObjectProblem{Kind: "service", Name: svc, Warning: true,
				Error: fmt.Sprintf("%s: label %q is not supported by Switchyard's Docker provider: ignored", where, k)})
		}
		in := labeled.Instance{
			Service: svc,
			Where:   where,
			Noun:    "label",
			Labels:  lbls,
			Rule: func() (string, error) {
				return labeled.RenderRule(p.rule, ruleData{Name: svc, ContainerName: name, Labels: lbls})
			},
		}
		if up {
			in.Address = func(port string) (string, error) { return r.address(c, port) }
		}
		conf, problems := labeled.Build(in, p.roots, "docker.")
		m.Add(conf, name)
		m.AddProblems(problems...)
	}
	return m.Finish(p.log)
}

// usable: running, not paused, and healthy when the image or run defines
// a health check ("starting" and "unhealthy" are out).
func usable(c *container.InspectResponse) bool {
	s := c.State
	if !s.Running || s.Paused || s.Restarting {
		return false
	}
	return s.Health == nil || s.Health.Status == container.NoHealthcheck || s.Health.Status == container.Healthy
}

// serviceName is the container's name, or service_project for a Compose
// service, normalized.
func serviceName(name string, lbls map[string]string) string {
	if s, p := lbls[labelComposeService], lbls[labelComposeProject]; s != "" && p != "" {
		name = s + "_" + p
	}
	return labeled.Normalize(name)
}

// unknownDockerLabels lists root.docker.* labels other than network.
func unknownDockerLabels(lbls map[string]string, roots []string) []string {
	var out []string
	for k := range lbls {
		rest, ok := labeled.Own(k, roots)
		if !ok {
			continue
		}
		lr := strings.ToLower(rest)
		if strings.HasPrefix(lr, "docker.") && lr != "docker.network" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// resolver finds a container's address for a port, as Traefik does: the
// host's address for host-network containers, the other container's for
// `container:` network mode, else the IP on the chosen network.
type resolver struct {
	p      *Provider
	ctx    context.Context
	byID   map[string]*container.InspectResponse
	host   string
	hostOK bool
}

func (r *resolver) address(c *container.InspectResponse, port string) (string, error) {
	if port == "" {
		port = defaultPort(c)
		if port == "" {
			return "", errors.New("no port: the container exposes none; set a loadbalancer.server.port label")
		}
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q: not a port number", port)
	}
	if r.p.cfg.UseBindPortIP {
		if ip, hp, ok := bindPort(c, port); ok {
			return net.JoinHostPort(ip, hp), nil
		}
	}
	ip, err := r.ip(c, 0)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip, port), nil
}

func (r *resolver) ip(c *container.InspectResponse, depth int) (string, error) {
	mode := container.NetworkMode("")
	if c.HostConfig != nil {
		mode = c.HostConfig.NetworkMode
	}
	switch {
	case mode.IsHost():
		return r.hostIP(), nil
	case mode.IsContainer():
		if depth > 2 {
			return "", fmt.Errorf("network mode %s: too many container: hops", mode)
		}
		other := mode.ConnectedContainer()
		oc, ok := r.byID[other]
		if !ok {
			ctx, cancel := r.p.reqCtx(r.ctx)
			ins, err := r.p.cli.ContainerInspect(ctx, other)
			cancel()
			if err != nil {
				return "", fmt.Errorf("network mode %s: %w", mode, err)
			}
			oc = &ins
			r.byID[other] = oc
		}
		return r.ip(oc, depth+1)
	}
	if c.NetworkSettings == nil || len(c.NetworkSettings.Networks) == 0 {
		return "", fmt.Errorf("no network (network mode %q)", mode)
	}
	nets := c.NetworkSettings.Networks
	want := r.p.cfg.Network
	for k, v := range c.Config.Labels {
		if rest, ok := labeled.Own(k, r.p.roots); ok && strings.EqualFold(rest, "docker.network") {
			want = v
		}
	}
	if want != "" {
		if n, ok := nets[want]; ok && n.IPAddress != "" {
			return n.IPAddress, nil
		}
		for _, n := range nets {
			if n.NetworkID == want && n.IPAddress != "" {
				return n.IPAddress, nil
			}
		}
		r.p.log.Warn("network not found on the container; using another of its networks",
			"container", strings.TrimPrefix(c.Name, "/"), "network", want)
	}
	for _, k := range slices.Sorted(mapKeys(nets)) {
		if ip := nets[k].IPAddress; ip != "" {
			return ip, nil
		}
	}
	return "", fmt.Errorf("no IP address on networks %v", slices.Sorted(mapKeys(nets)))
}

// hostIP is how a host-network container is reached: host.docker.internal
// (or host.containers.internal) when it resolves, as when Switchyard runs
// in a bridge container with that host entry, else 127.0.0.1.
func (r *resolver) hostIP() string {
	if r.hostOK {
		return r.host
	}
	r.hostOK, r.host = true, "127.0.0.1"
	ctx, cancel := context.WithTimeout(r.ctx, 200*time.Millisecond)
	defer cancel()
	for _, h := range []string{"host.docker.internal", "host.containers.internal"} {
		if addrs, err := net.DefaultResolver.LookupHost(ctx, h); err == nil && len(addrs) > 0 {
			r.host = addrs[0]
			break
		}
	}
	return r.host
}

// defaultPort is the lowest published or exposed port.
func defaultPort(c *container.InspectResponse) string {
	var ports []int
	add := func(p string) {
		num, _, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(num); err == nil && !slices.Contains(ports, n) {
			ports = append(ports, n)
		}
	}
	if c.NetworkSettings != nil {
		for p := range c.NetworkSettings.Ports {
			add(string(p))
		}
	}
	if len(ports) == 0 && c.Config != nil {
		for p := range c.Config.ExposedPorts {
			add(string(p))
		}
	}
	if len(ports) == 0 {
		return ""
	}
	return strconv.Itoa(slices.Min(ports))
}

// bindPort is the host binding of port (tcp, else udp) when it names a
// usable host IP; otherwise the container's own address is used.
func bindPort(c *container.InspectResponse, port string) (string, string, bool) {
	if c.NetworkSettings == nil {
		return "", "", false
	}
	for _, proto := range []string{"tcp", "udp"} {
		for _, b := range c.NetworkSettings.Ports[natPort(port, proto)] {
			if b.HostIP != "" && b.HostIP != "0.0.0.0" && b.HostIP != "::" && b.HostPort != "" {
				return b.HostIP, b.HostPort, true
			}
		}
	}
	return "", "", false
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func natPort(port, proto string) nat.Port { return nat.Port(port + "/" + proto) }
