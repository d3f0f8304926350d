// Package acme obtains, stores, serves and renews certificates from ACME
// certificate resolvers (certificatesResolvers.<name>.acme) with lego.
package acme

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/lego"
	legolog "github.com/go-acme/lego/v4/log"
	"github.com/go-acme/lego/v4/registration"

	"github.com/switchyard-proxy/switchyard/config/static"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// ChallengePath is the URL path prefix of HTTP-01 challenges.
const ChallengePath = "/.well-known/acme-challenge/"

// Options tune renewal; zero values derive from certificatesDuration.
type Options struct {
	// RenewBefore renews a certificate this long before its expiry.
	RenewBefore time.Duration
	// CheckInterval is how often certificates are checked for renewal
	// (and failed orders retried).
	CheckInterval time.Duration
	// OnChange, when set, is called (from a worker goroutine) after
	// certificates were obtained or renewed. It must not block nor
	// rebuild the configuration itself: it asks the single writer of the
	// configuration (the watcher) for a rebuild.
	OnChange func()
}

// OptionsFromEnv reads SWITCHYARD_ACME_RENEW_BEFORE and
// SWITCHYARD_ACME_CHECK_INTERVAL (Go durations), for tests and operators
// who want other timings than the certificatesDuration defaults.
func OptionsFromEnv() Options {
	var o Options
	if d, err := time.ParseDuration(os.Getenv("SWITCHYARD_ACME_RENEW_BEFORE")); err == nil && d > 0 {
		o.RenewBefore = d
	}
	if d, err := time.ParseDuration(os.Getenv("SWITCHYARD_ACME_CHECK_INTERVAL")); err == nil && d > 0 {
		o.CheckInterval = d
	}
	return o
}

// RenewTimings derives when to renew and how often to check from the
// certificates' lifetime in hours (90 days: renew 30 days before, check
// daily). Short lifetimes renew at a third of their life left.
func RenewTimings(hours int) (renewBefore, check time.Duration) {
	life := time.Duration(hours) * time.Hour
	if life <= 0 {
		life = 90 * 24 * time.Hour
	}
	renewBefore = life / 3
	check = min(max(renewBefore/30, time.Minute), 24*time.Hour)
	return renewBefore, check
}

// CertInfo describes a served certificate for the API.
type CertInfo struct {
	Resolver string
	Names    []string
	NotAfter time.Time
	Issuer   string
}

// Manager runs every ACME resolver of the static configuration. Its
// certificates are served through sytls.Store.Dynamic; it is safe for
// concurrent use.
type Manager struct {
	resolvers map[string]*resolver
	// httpTokens: token → key authorization (HTTP-01).
	httpTokens sync.Map
	// alpnCerts: domain → challenge certificate (TLS-ALPN-01).
	alpnCerts sync.Map
	// served is the snapshot handshakes read; rebuilt on each change.
	served atomic.Pointer[sytls.Store]
	// httpEPs are the entrypoints serving HTTP-01 challenges.
	httpEPs map[string]bool

	onChange func() // Options.OnChange, fixed before the workers start

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type resolver struct {
	m     *Manager
	name  string
	conf  static.ACME
	opts  Options
	kick  chan struct{}
	mu    sync.Mutex
	data  *resolverData
	want  map[string][]string // key → domains
	certs []*liveCert
	fails map[string]error
}

type liveCert struct {
	stored *storedCert
	tls    *ctls.Certificate
}

// legoLog routes lego's chatty progress lines to slog at debug level
// (our own info lines say what was obtained or renewed).
var legoLog sync.Once

// New loads the resolvers' storage and starts one worker per resolver.
// Stored certificates are served at once.
func New(confs map[string]static.CertificateResolver, opts Options) (*Manager, error) {
	legoLog.Do(func() { legolog.Logger = slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug) })
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{resolvers: map[string]*resolver{}, httpEPs: map[string]bool{}, ctx: ctx, cancel: cancel, onChange: opts.OnChange}
	for _, name := range slices.Sorted(maps.Keys(confs)) {
		c := confs[name].ACME
		if c == nil {
			continue
		}
		conf := *c
		if conf.CAServer == "" {
			conf.CAServer = lego.LEDirectoryProduction
		}
		if conf.Storage == "" {
			conf.Storage = "acme.json"
		}
		if conf.TLSChallenge == nil && conf.HTTPChallenge == nil {
			cancel()
			return nil, fmt.Errorf("certificatesResolvers.%s.acme: needs tlsChallenge or httpChallenge (dnsChallenge is not supported)", name)
		}
		if conf.HTTPChallenge != nil {
			if conf.HTTPChallenge.EntryPoint == "" {
				cancel()
				return nil, fmt.Errorf("certificatesResolvers.%s.acme.httpChallenge: entryPoint is required", name)
			}
			m.httpEPs[conf.HTTPChallenge.EntryPoint] = true
		}
		if _, err := keyType(conf.KeyType); err != nil {
			cancel()
			return nil, fmt.Errorf("certificatesResolvers.%s.acme: %w", name, err)
		}
		o := opts
		rb, ci := RenewTimings(conf.CertificatesDuration)
		if o.RenewBefore == 0 {
			o.RenewBefore = rb
		}
		if o.CheckInterval == 0 {
			o.CheckInterval = ci
		}
		data, err := load(conf.Storage, name)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("certificatesResolvers.%s.acme: %w", name, err)
		}
		r := &resolver{m: m, name: name, conf: conf, opts: o, kick: make(chan struct{}, 1), data: data,
			want: map[string][]string{}, fails: map[string]error{}}
		for _, sc := range data.Certificates {
			lc, err := parse(sc)
			if err != nil {
				slog.Error("acme: stored certificate skipped", "resolver", name, "domain", sc.Domain.Main, "error", err)
				continue
			}
			r.certs = append(r.certs, lc)
		}
		m.resolvers[name] = r
	}
	m.refresh()
	for _, r := range m.resolvers {
		m.wg.Add(1)
		go r.run()
	}
	return m, nil
}

// Close stops the workers. lego has no cancellation, so an order in
// flight is waited for at most a few seconds, then abandoned.
func (m *Manager) Close() {
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// Has reports whether a resolver of that name exists.
func (m *Manager) Has(name string) bool {
	_, ok := m.resolvers[name]
	return ok
}

// Sync sets the domain sets each resolver must hold certificates for
// (resolver → list of domain lists) and wakes the workers. Unknown
// resolvers are ignored (the builder reports them on the routers).
func (m *Manager) Sync(want map[string][][]string) {
	for name, r := range m.resolvers {
		sets := map[string][]string{}
		for _, ds := range want[name] {
			ds = clean(ds)
			if len(ds) > 0 {
				sets[strings.Join(ds, ",")] = ds
			}
		}
		r.mu.Lock()
		r.want = sets
		r.mu.Unlock()
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// clean lower-cases and dedups, keeping the first name first (it is the
// certificate's main name).
func clean(ds []string) []string {
	var out []string
	for _, d := range ds {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// Match serves a resolver certificate for a server name, or nil.
func (m *Manager) Match(name string) *ctls.Certificate {
	if s := m.served.Load(); s != nil {
		return s.Match(name)
	}
	return nil
}

// Challenge returns the TLS-ALPN-01 certificate for a domain, or nil.
func (m *Manager) Challenge(name string) *ctls.Certificate {
	if c, ok := m.alpnCerts.Load(strings.ToLower(strings.TrimSuffix(name, "."))); ok {
		return c.(*ctls.Certificate)
	}
	return nil
}

// Certificates lists the served certificates, for the API.
func (m *Manager) Certificates() []CertInfo {
	var out []CertInfo
	for _, name := range slices.Sorted(maps.Keys(m.resolvers)) {
		r := m.resolvers[name]
		r.mu.Lock()
		for _, c := range r.certs {
			out = append(out, CertInfo{Resolver: name, Names: sytls.Names(c.tls.Leaf), NotAfter: c.tls.Leaf.NotAfter, Issuer: c.tls.Leaf.Issuer.String()})
		}
		r.mu.Unlock()
	}
	return out
}

// Errors lists the resolvers' last failures (one per domain set).
func (m *Manager) Errors() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m.resolvers)) {
		r := m.resolvers[name]
		r.mu.Lock()
		for _, k := range slices.Sorted(maps.Keys(r.fails)) {
			out = append(out, fmt.Sprintf("certResolver %q: %s: %v", name, k, r.fails[k]))
		}
		r.mu.Unlock()
	}
	return out
}

// HTTPHandler answers HTTP-01 challenges before next on the entrypoints
// a resolver's httpChallenge names; other entrypoints get next as is.
func (m *Manager) HTTPHandler(entryPoint string, next http.Handler) http.Handler {
	if m == nil || !m.httpEPs[entryPoint] {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := strings.CutPrefix(req.URL.Path, ChallengePath)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		v, found := m.httpTokens.Load(token)
		if !found {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(v.(string)))
	})
}

// refresh publishes a new snapshot of every resolver's certificates.
func (m *Manager) refresh() {
	st := sytls.NewStore()
	for _, name := range slices.Sorted(maps.Keys(m.resolvers)) {
		r := m.resolvers[name]
		r.mu.Lock()
		for _, c := range r.certs {
			st.Add(c.tls)
		}
		r.mu.Unlock()
	}
	m.served.Store(st)
}

func parse(sc *storedCert) (*liveCert, error) {
	c, err := ctls.X509KeyPair(sc.Certificate, sc.Key)
	if err != nil {
		return nil, err
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &liveCert{stored: sc, tls: &c}, nil
}

func keyType(s string) (certcrypto.KeyType, error) {
	switch s {
	case "", "RSA4096":
		return certcrypto.RSA4096, nil
	case "EC256":
		return certcrypto.EC256, nil
	case "EC384":
		return certcrypto.EC384, nil
	case "RSA2048":
		return certcrypto.RSA2048, nil
	case "RSA3072":
		return certcrypto.RSA3072, nil
	case "RSA8192":
		return certcrypto.RSA8192, nil
	}
	return "", fmt.Errorf("keyType: unknown key type %q (EC256, EC384, RSA2048, RSA3072, RSA4096, RSA8192)", s)
}

// covers is true when the certificate serves every domain of ds.
func covers(c *ctls.Certificate, ds []string) bool {
	for _, d := range ds {
		if c.Leaf.VerifyHostname(d) != nil {
			return false
		}
	}
	return true
}

// run is the resolver's worker: it acts on Sync kicks and on a ticker.
func (r *resolver) run() {
	defer r.m.wg.Done()
	t := time.NewTicker(r.opts.CheckInterval)
	defer t.Stop()
	var client *lego.Client
	for {
		// A kick (new configuration) only obtains missing certificates;
		// renewals wait for the ticker, so a rebuild never re-renews.
		renew := false
		select {
		case <-r.m.ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
			renew = true
		}
		r.mu.Lock()
		idle := len(r.want) == 0
		r.mu.Unlock()
		if idle {
			continue
		}
		if client == nil {
			c, err := r.client()
			if err != nil {
				slog.Error("acme: account", "resolver", r.name, "error", err)
				r.mu.Lock()
				r.fails["account"] = err
				r.mu.Unlock()
				continue
			}
			client = c
			r.mu.Lock()
			delete(r.fails, "account")
			r.mu.Unlock()
		}
		if r.pass(client, renew) {
			r.m.refresh()
			if f := r.m.onChange; f != nil {
				f()
			}
		}
	}
}

// pass obtains missing certificates, and renews expiring ones when renew
// is set; true if any certificate changed.
func (r *resolver) pass(client *lego.Client, renew bool) bool {
	r.mu.Lock()
	want := maps.Clone(r.want)
	r.mu.Unlock()
	changed := false
	for _, key := range slices.Sorted(maps.Keys(want)) {
		ds := want[key]
		r.mu.Lock()
		idx := slices.IndexFunc(r.certs, func(c *liveCert) bool { return covers(c.tls, ds) })
		due := idx < 0 || (renew && time.Until(r.certs[idx].tls.Leaf.NotAfter) < r.opts.RenewBefore)
		r.mu.Unlock()
		if !due || r.m.ctx.Err() != nil {
			continue
		}
		if slices.ContainsFunc(ds, func(d string) bool { return strings.HasPrefix(d, "*.") }) {
			r.fail(key, fmt.Errorf("wildcard domains need the DNS-01 challenge, which is not supported"))
			continue
		}
		verb := "obtained"
		if idx >= 0 {
			verb = "renewed"
		}
		res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: ds, Bundle: true, PreferredChain: r.conf.PreferredChain})
		if err != nil {
			r.fail(key, err)
			continue
		}
		sc := &storedCert{Domain: Domain{Main: ds[0], SANs: ds[1:]}, Certificate: res.Certificate, Key: res.PrivateKey, Store: sytls.DefaultStore}
		lc, err := parse(sc)
		if err != nil {
			r.fail(key, fmt.Errorf("parse issued certificate: %w", err))
			continue
		}
		r.mu.Lock()
		if idx >= 0 && idx < len(r.certs) {
			r.certs[idx] = lc
		} else {
			r.certs = append(r.certs, lc)
		}
		delete(r.fails, key)
		r.data.Certificates = r.data.Certificates[:0]
		for _, c := range r.certs {
			r.data.Certificates = append(r.data.Certificates, c.stored)
		}
		data := *r.data
		r.mu.Unlock()
		if err := save(r.conf.Storage, r.name, &data); err != nil {
			slog.Error("acme: save", "resolver", r.name, "error", err)
		}
		slog.Info("acme: certificate "+verb, "resolver", r.name, "domains", ds, "notAfter", lc.tls.Leaf.NotAfter.UTC().Format(time.RFC3339))
		changed = true
	}
	return changed
}

func (r *resolver) fail(key string, err error) {
	slog.Error("acme: certificate", "resolver", r.name, "domains", key, "error", err)
	r.mu.Lock()
	r.fails[key] = err
	r.mu.Unlock()
}

// user is the ACME account lego acts for.
type user struct {
	email string
	reg   *registration.Resource
	key   crypto.PrivateKey
}

func (u *user) GetEmail() string                        { return u.email }
func (u *user) GetRegistration() *registration.Resource { return u.reg }
func (u *user) GetPrivateKey() crypto.PrivateKey        { return u.key }

// client builds the lego client, creating and registering the account
// on first use (and storing it).
func (r *resolver) client() (*lego.Client, error) {
	r.mu.Lock()
	acc := r.data.Account
	r.mu.Unlock()
	u := &user{email: r.conf.Email}
	if acc != nil && acc.Email == r.conf.Email && len(acc.PrivateKey) > 0 {
		k, err := x509.ParsePKCS8PrivateKey(acc.PrivateKey)
		if err == nil {
			u.key, u.reg = k, acc.Registration
		} else if k, err := x509.ParsePKCS1PrivateKey(acc.PrivateKey); err == nil {
			u.key, u.reg = k, acc.Registration
		}
	}
	if u.key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		u.key = k
	}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = r.conf.CAServer
	cfg.UserAgent = "switchyard"
	cfg.Certificate.KeyType, _ = keyType(r.conf.KeyType)
	if len(r.conf.CACertificates) > 0 || r.conf.CAServerName != "" {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &ctls.Config{ServerName: r.conf.CAServerName}
		if len(r.conf.CACertificates) > 0 {
			pool, err := lego.CreateCertPool(r.conf.CACertificates, true)
			if err != nil {
				return nil, fmt.Errorf("caCertificates: %w", err)
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: tr}
	}
	client, err := lego.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("caServer %s: %w", r.conf.CAServer, err)
	}
	if r.conf.TLSChallenge != nil {
		if err := client.Challenge.SetTLSALPN01Provider(alpnProvider{r.m}); err != nil {
			return nil, err
		}
	}
	if r.conf.HTTPChallenge != nil {
		if err := client.Challenge.SetHTTP01Provider(httpProvider{r.m}); err != nil {
			return nil, err
		}
	}
	if u.reg == nil {
		var reg *registration.Resource
		if e := r.conf.EAB; e != nil {
			reg, err = client.Registration.RegisterWithExternalAccountBinding(registration.RegisterEABOptions{TermsOfServiceAgreed: true, Kid: e.Kid, HmacEncoded: e.HmacEncoded})
		} else {
			reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
		}
		if err != nil {
			return nil, fmt.Errorf("register account: %w", err)
		}
		u.reg = reg
		der, err := x509.MarshalPKCS8PrivateKey(u.key)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.data.Account = &account{Email: r.conf.Email, Registration: reg, PrivateKey: der, KeyType: "EC256"}
		data := *r.data
		r.mu.Unlock()
		if err := save(r.conf.Storage, r.name, &data); err != nil {
			slog.Error("acme: save account", "resolver", r.name, "error", err)
		}
	}
	return client, nil
}
