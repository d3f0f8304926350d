package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	pfile "github.com/traefik/paerser/file"

	"github.com/switchyard-proxy/switchyard/api"
	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/entrypoints"
	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/examples"
	"github.com/switchyard-proxy/switchyard/internal/gctuner"
	"github.com/switchyard-proxy/switchyard/internal/ping"
	"github.com/switchyard-proxy/switchyard/internal/upgrade"
	"github.com/switchyard-proxy/switchyard/internal/version"
	"github.com/switchyard-proxy/switchyard/internal/whoami"
	"github.com/switchyard-proxy/switchyard/middlewares"
	"github.com/switchyard-proxy/switchyard/middlewares/forwardedheaders"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
	"github.com/switchyard-proxy/switchyard/observability/logs"
	"github.com/switchyard-proxy/switchyard/observability/metrics"
	"github.com/switchyard-proxy/switchyard/observability/tracing"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/aggregator"
	"github.com/switchyard-proxy/switchyard/providers/builtin"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
	"github.com/switchyard-proxy/switchyard/routers/builder"
	"github.com/switchyard-proxy/switchyard/tls/acme"
)

// prepare turns the decoded command line into a validated configuration;
// with no source at all it switches to the embedded quick start.
func prepare(cfg *cmdConfig, src *source) (*static.Configuration, bool, error) {
	quickstart := false
	if src.kind == "" {
		quickstart = true
		fresh := newCmdConfig()
		if err := pfile.DecodeContent(string(examples.QuickstartStatic), ".yml", fresh); err != nil {
			return nil, false, fmt.Errorf("embedded quick start: %w", err)
		}
		*cfg = *fresh
	}
	sc := &cfg.Configuration
	sc.SetEffectiveConfiguration()
	if err := sc.Validate(); err != nil {
		where := "configuration"
		if src.file != "" {
			where = src.file
		}
		return nil, false, fmt.Errorf("invalid %s:\n%w", where, err)
	}
	return sc, quickstart, nil
}

func runServer(cfg *cmdConfig, src *source) error {
	sc, quickstart, err := prepare(cfg, src)
	if err != nil {
		return err
	}
	logCloser, err := logs.Setup(sc.Log)
	if err != nil {
		return err
	}
	defer logCloser.Close()
	// A small live heap would be collected many times a second under
	// load; keep the goal at 64 MiB until the heap really is that big.
	if !gctuner.Start(gctuner.Config{MinGoal: 64 << 20, MaxPercent: 800}) {
		slog.Info("GC tuner off: GOGC or GOMEMLIMIT set by the operator",
			"GOGC", os.Getenv("GOGC"), "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
	}
	if src.file != "" {
		slog.Info("configuration loaded", "file", src.file)
	}
	logGlobal(sc.Global)

	// A process started by a binary upgrade first takes the listening
	// sockets of the previous one.
	parent, err := upgrade.Inherited()
	if err != nil {
		return err
	}
	if parent != nil {
		if err := adoptFromParent(parent); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if quickstart {
		dir, err := os.MkdirTemp("", "switchyard-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dyn := filepath.Join(dir, "dynamic.yml")
		if err := os.WriteFile(dyn, examples.QuickstartDynamic, 0o644); err != nil {
			return err
		}
		sc.Providers.File.Filename = dyn
		if err := startDemoBackends(ctx); err != nil {
			return err
		}
		slog.Warn("no configuration found: running the embedded quick start",
			"try", "curl http://localhost:8080/ ; open http://localhost:8080/dashboard/")
	}

	srv, err := newServer(sc)
	if err != nil {
		return err
	}
	up := newUpgrader(sc.PIDFile)
	if srv.api != nil {
		srv.api.SetUpgrader(up.Upgrade)
	}
	// Ready, for a process started by an upgrade, is once every provider's
	// first configuration has been applied.
	configured := make(chan struct{})
	var configuredOnce sync.Once
	srv.watcher.AfterApply = func(n int) {
		if n >= len(srv.provs) {
			configuredOnce.Do(func() { close(configured) })
		}
	}
	if err := srv.start(ctx); err != nil {
		srv.stopNow()
		return err
	}
	if parent != nil {
		<-configured // the previous process kills this one after upgrade.ReadyTimeout
		entrypoints.StartAccepting()
		if names := entrypoints.CloseUnadopted(); len(names) > 0 {
			slog.Info("binary upgrade: closed the previous process's sockets that no entrypoint uses any more", "sockets", names)
		}
		if err := writePIDFile(sc.PIDFile); err != nil {
			slog.Warn("binary upgrade", "error", err)
		}
		meta, _ := json.Marshal(upgrade.ReadyMeta{PID: os.Getpid(), Generation: upgrade.Generation()})
		if err := parent.Send(upgrade.KindReady, meta); err != nil {
			slog.Warn("binary upgrade: telling the previous process we are ready", "error", err)
		}
		slog.Info("binary upgrade: ready; the previous process stops accepting", "generation", upgrade.Generation())
		go func() {
			if err := upgrade.Dispatch(parent); err != nil {
				slog.Warn("binary upgrade: receiving from the previous process", "error", err)
			}
			_ = parent.Close()
		}()
	} else {
		if err := writePIDFile(sc.PIDFile); err != nil {
			srv.stopNow()
			return err
		}
		up.removeStatus() // a stale one from a process that crashed
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	var handed *upgrade.Conn
loop:
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				slog.Info("SIGUSR1: reopening log files")
				srv.reopenLogs(logCloser)
			case syscall.SIGUSR2:
				go func() {
					// Failures are logged by Upgrade; refusals here.
					if _, err := up.Upgrade(context.Background()); errors.Is(err, upgrade.ErrBusy) {
						slog.Warn("SIGUSR2: " + err.Error())
					}
				}()
			default:
				slog.Info("shutting down", "signal", sig.String())
				up.abort()
				break loop
			}
		case handed = <-up.handed:
			break loop
		}
	}
	if handed != nil {
		srv.handOver(handed)
	} else {
		srv.shutdown(false)
	}
	removePIDFile(sc.PIDFile)
	cancel()
	// Kubernetes providers' leaders release their Leases (bounded: an
	// unreachable API server must not hold the exit).
	k8s.WaitReleased(3 * time.Second)
	return nil
}

// server wires entrypoints, providers and the builder together.
type server struct {
	cfg       *static.Configuration
	eps       map[string]*entrypoints.HTTPEntryPoint
	udpEPs    map[string]*entrypoints.UDPEntryPoint
	services  *builder.ServiceManager
	mwState   *middlewares.State
	api       *api.Handler
	ping      *ping.Handler
	accessLog *accesslog.Handler
	metrics   *metrics.Registry // nil: metrics off, no wrapper anywhere
	tracer    *tracing.Tracer   // nil: tracing off, no wrapper anywhere
	internal  map[string]http.Handler
	watcher   *aggregator.Watcher
	provs     []providers.Provider
	acme      *acme.Manager // nil: no certificate resolver
}

func newServer(sc *static.Configuration) (*server, error) {
	s := &server{cfg: sc, eps: map[string]*entrypoints.HTTPEntryPoint{}, internal: map[string]http.Handler{}}
	s.services = builder.NewServiceManager(sc.ServersTransport)
	s.mwState = middlewares.NewState()

	if sc.AccessLog != nil {
		al, err := accesslog.New(sc.AccessLog)
		if err != nil {
			return nil, fmt.Errorf("accessLog: %w", err)
		}
		s.accessLog = al
		s.services.AccessLog = true
	}

	if sc.Metrics != nil && sc.Metrics.Prometheus != nil {
		s.metrics = metrics.New(sc.Metrics.Prometheus)
		s.internal[builtin.ServicePrometheus] = s.metrics.Handler()
	}
	if sc.Tracing != nil {
		t, err := tracing.New(context.Background(), sc.Tracing)
		if err != nil {
			return nil, err
		}
		s.tracer = t
	}

	s.internal[builtin.ServiceNoop] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	if sc.API != nil {
		s.api = api.New(sc, api.Version{Version: version.Version, Codename: version.Codename,
			StartDate: version.StartDate, Generation: upgrade.Generation()})
		s.internal[builtin.ServiceAPI] = s.api
		if sc.API.Dashboard {
			// As in Traefik, api@internal also serves the dashboard, so one
			// router "PathPrefix(`/api`) || PathPrefix(`/dashboard`)" is enough.
			dash := api.NewDashboard(sc.API.BasePath)
			s.internal[builtin.ServiceAPI] = s.api.WithDashboard(dash)
			s.internal[builtin.ServiceDashboard] = dash
		}
		if sc.API.Debug {
			s.internal[builtin.ServiceAPI] = api.WithDebug(sc.API.BasePath, s.internal[builtin.ServiceAPI])
		}
	}
	if sc.Ping != nil {
		s.ping = ping.New(sc.Ping.TerminatingStatusCode)
		s.internal[builtin.ServicePing] = s.ping
	}

	for _, name := range slices.Sorted(mapsKeys(sc.EntryPoints)) {
		ep := sc.EntryPoints[name]
		if proto, _ := ep.Network(); proto != "tcp" {
			if s.udpEPs == nil {
				s.udpEPs = map[string]*entrypoints.UDPEntryPoint{}
			}
			s.udpEPs[name] = entrypoints.NewUDP(name, ep)
			continue
		}
		fh := ep.ForwardedHeaders
		epName := name
		wrap := func(next http.Handler) http.Handler {
			// Forwarded headers run first so the access log sees only
			// X-Forwarded-* values from trusted clients.
			h := next
			if s.accessLog != nil && (ep.Observability == nil || ep.Observability.AccessLogs == nil || *ep.Observability.AccessLogs) {
				h = s.accessLog.Wrap(epName, h)
			}
			if s.metrics != nil && (ep.Observability == nil || ep.Observability.Metrics == nil || *ep.Observability.Metrics) {
				h = s.metrics.EntryPoint(epName, h)
			}
			if s.tracer != nil && (ep.Observability == nil || ep.Observability.Tracing == nil || *ep.Observability.Tracing) {
				h = s.tracer.EntryPoint(epName, h)
			}
			fwd, err := forwardedheaders.New(fh.Insecure, fh.TrustedIPs, fh.Connection, h)
			if err != nil {
				slog.Error("forwardedHeaders", "entrypoint", epName, "error", err)
				return h
			}
			return fwd
		}
		s.eps[name] = entrypoints.NewHTTP(name, ep, wrap)
		if s.metrics != nil {
			hep := s.eps[name]
			s.metrics.EntryPointConnections(name, func() []metrics.ConnGauge {
				c := hep.Connections()
				out := make([]metrics.ConnGauge, 0, len(connreg.Protocols())*len(connreg.States()))
				for _, p := range connreg.Protocols() {
					for _, st := range connreg.States() {
						out = append(out, metrics.ConnGauge{Protocol: p.String(), State: st.String(), N: c.ByProtocolState[p][st]})
					}
				}
				return out
			})
		}
		if s.metrics != nil && ep.Transport != nil && ep.Transport.MaxConnsPerIP > 0 {
			s.metrics.ConnectionsRefused(name, "maxConnsPerIP", s.eps[name].RefusedByIPLimit)
		}
	}

	if s.api != nil {
		// s.eps is complete and never changes from here.
		s.api.SetConnCounter(func(name string) (connreg.Counts, bool) {
			if ep := s.eps[name]; ep != nil {
				return ep.Connections(), true
			}
			return connreg.Counts{}, false
		})
	}

	internalConf, err := builtin.Configuration(sc)
	if err != nil {
		return nil, err
	}
	// The watcher is the single writer of the running configuration:
	// apply runs on its goroutine only.
	s.watcher = aggregator.NewWatcher(time.Duration(sc.Providers.ProvidersThrottleDuration),
		dynamic.Configurations{builtin.ProviderName: internalConf}, s.apply)

	if len(sc.CertificatesResolvers) > 0 {
		opts := acme.OptionsFromEnv()
		// A new certificate is served at once (Store.Dynamic); the rebuild
		// only refreshes what the API shows. It goes through the watcher,
		// which rebuilds from its own newest state, never from a copy that
		// a provider update could have overtaken.
		opts.OnChange = s.certificatesChanged
		m, err := acme.New(sc.CertificatesResolvers, opts)
		if err != nil {
			return nil, err
		}
		s.acme = m
	}

	provs, err := configuredProviders(sc)
	if err != nil {
		return nil, err
	}
	s.provs = provs
	s.registerHandoff()
	return s, nil
}

// certificatesChanged is the ACME manager's OnChange: it only asks the
// watcher, the single writer of the running configuration, for a rebuild
// from its newest state.
func (s *server) certificatesChanged() { s.watcher.Refresh() }

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// apply compiles a merged configuration and swaps it in. Only the watcher
// calls it, on its one goroutine.
func (s *server) apply(conf *dynamic.Configuration) {
	start := time.Now()
	table, rt := builder.Build(conf, builder.Deps{
		EntryPoints:    s.cfg.EntryPoints,
		Internal:       s.internal,
		Services:       s.services,
		AccessLog:      s.accessLog != nil,
		TCPTransport:   s.cfg.TCPServersTransport,
		Middlewares:    s.mwState,
		WrapRouter:     s.wrapRouter(),
		WrapService:    s.wrapService(),
		WrapMiddleware: s.wrapMiddleware(),
		ACME:           s.acme,
	})
	if s.acme != nil {
		s.acme.Sync(table.ACME)
	}
	for name, ep := range s.eps {
		if h, ok := table.HTTP[name]; ok {
			h = s.acme.HTTPHandler(name, h)
			r := entrypoints.Routing{HTTP: h}
			if e := table.Edge[name]; e != nil {
				r.HTTPS, r.TCP, r.TLS, r.TCPOnly = e.HTTPS, e.TCP, e.TLS, e.TCPOnly
			}
			ep.SetRouting(r)
		}
	}
	for name, ep := range s.udpEPs {
		if h, ok := table.UDP[name]; ok {
			ep.SetPicker(h)
		} else {
			ep.SetPicker(nil)
		}
	}
	if s.api != nil {
		s.api.Update(rt)
	}
	if s.metrics != nil {
		s.metrics.ConfigApplied(rt, time.Now())
	}
	logObjectErrors(rt)
	slog.Info("configuration applied", "routers", len(rt.Routers), "services", len(rt.Services),
		"middlewares", len(rt.Middlewares), "took", time.Since(start).String())
}

func logObjectErrors(rt *runtime.Configuration) {
	for _, p := range rt.Problems() {
		// The attribute is named after the object ("router", "service",
		// "middleware") as everywhere else in the logs.
		key := p.Kind[strings.LastIndexByte(p.Kind, ' ')+1:]
		slog.Error(p.Kind+" error", key, p.Name, "status", p.Status, "error", p.Errors)
	}
}

func (s *server) start(ctx context.Context) error {
	var errs []error
	for _, name := range slices.Sorted(mapsKeys(s.eps)) {
		if err := s.eps[name].Start(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range slices.Sorted(mapsKeys(s.udpEPs)) {
		if err := s.udpEPs[name].Start(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	go s.watcher.Run(ctx)
	for _, p := range s.provs {
		go func() {
			if err := p.Provide(ctx, s.watcher.Messages()); err != nil && ctx.Err() == nil {
				slog.Error("provider stopped", "error", err)
			}
		}()
	}
	return nil
}

// handOver is the end of a binary upgrade on the old side: the new
// process is ready and holds every listening socket. Stop accepting here,
// let the movers send what they move, then drain the rest.
func (s *server) handOver(c *upgrade.Conn) {
	for _, ep := range s.eps {
		ep.StopAccepting()
	}
	// UDP sessions do not move: stop reading; the clients' next datagrams
	// reach the new process, which opens new sessions.
	for _, ep := range s.udpEPs {
		_ = ep.Shutdown(context.Background())
	}
	var grace time.Duration
	for _, ep := range s.cfg.EntryPoints {
		grace = max(grace, time.Duration(ep.Transport.LifeCycle.GraceTimeOut))
	}
	// The hand-off is bounded on its own (each connection's stop, each
	// batch's send); this is the bound of the whole, after which what is
	// left drains.
	ctx, cancel := context.WithTimeout(context.Background(), max(grace, handOffTimeout))
	if err := upgrade.RunMovers(ctx, c); err != nil {
		slog.Warn("binary upgrade: telling the new process that the hand-off is over", "error", err)
	}
	cancel()
	_ = c.Close()
	// Connections accepted here just before the listeners closed have not
	// sent their first request yet; the drain would close them as idle.
	// Give them a moment to become requests that the drain waits for.
	time.Sleep(min(upgradeSettle, grace))
	s.shutdown(true)
}

// handOffTimeout bounds the live hand-off of an upgrade (at least: the
// largest graceTimeOut when that is longer); docs/operations.md.
const handOffTimeout = time.Minute

// upgradeSettle is how long the old process of an upgrade waits after it
// stopped accepting before draining (docs/operations.md).
const upgradeSettle = time.Second

// shutdown is the graceful path: keep accepting for
// requestAcceptGraceTimeout (ping already answers "terminating"), then stop
// accepting and give in-flight requests graceTimeOut to finish. After a
// binary upgrade (upgraded) the new process accepts already: no wait, and
// ping keeps answering OK on the connections that remain here.
func (s *server) shutdown(upgraded bool) {
	if s.acme != nil {
		s.acme.Close()
	}
	if s.ping != nil && !upgraded {
		s.ping.SetTerminating()
	}
	var wg sync.WaitGroup
	for name, ep := range s.eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := s.cfg.EntryPoints[name].Transport.LifeCycle
			if d := time.Duration(lc.RequestAcceptGraceTimeout); d > 0 && !upgraded {
				slog.Info("still accepting requests before shutdown", "entrypoint", name, "for", d.String())
				time.Sleep(d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(lc.GraceTimeOut))
			defer cancel()
			_ = ep.Shutdown(ctx)
		}()
	}
	for _, ep := range s.udpEPs {
		_ = ep.Shutdown(context.Background())
	}
	wg.Wait()
	s.services.Close()
	if s.accessLog != nil {
		_ = s.accessLog.Close()
	}
	if s.tracer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.tracer.Shutdown(ctx)
		cancel()
	}
	slog.Info("stopped")
}

func (s *server) stopNow() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ep := range s.eps {
		_ = ep.Shutdown(ctx)
	}
	for _, ep := range s.udpEPs {
		_ = ep.Shutdown(ctx)
	}
}

func (s *server) reopenLogs(logCloser io.Closer) {
	if r, ok := logCloser.(interface{ Reopen() error }); ok {
		if err := r.Reopen(); err != nil {
			slog.Error("reopening log file", "error", err)
		}
	}
	if s.accessLog != nil {
		if err := s.accessLog.Reopen(); err != nil {
			slog.Error("reopening access log", "error", err)
		}
	}
}

// startDemoBackends serves the quick start's whoami backends in-process.
func startDemoBackends(ctx context.Context) error {
	for i, addr := range examples.QuickstartBackends {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("quick start demo backend: %w", err)
		}
		srv := &http.Server{Handler: whoami.New(fmt.Sprintf("demo-%d", i+1)), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		go func() { <-ctx.Done(); _ = srv.Close() }()
	}
	return nil
}

// logGlobal answers Traefik's global switches: Switchyard never contacts a
// version server nor sends usage data, whatever they say.
func logGlobal(g *static.Global) {
	if g == nil {
		return
	}
	if g.CheckNewVersion {
		slog.Info("global.checkNewVersion: Switchyard never checks for new versions (it contacts no one)")
	}
	if g.SendAnonymousUsage {
		slog.Info("global.sendAnonymousUsage: Switchyard never sends usage data (it contacts no one)")
	}
}
