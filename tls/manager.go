package tls

import (
	ctls "crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/compat"
	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// DefaultStore and DefaultOptions are the names Traefik reserves.
const (
	DefaultStore   = "default"
	DefaultOptions = "default"
)

// Set is the compiled TLS section of one configuration generation.
type Set struct {
	// Store is the default store: every router's certificates come from it
	// (Traefik serves only the default store).
	Store   *Store
	options map[string]*ctls.Config
	optErr  map[string]error
	// Errors are certificate and store problems; each one disabled only
	// its own object.
	Errors []error
	// Certs lists the loaded certificates for the API.
	Certs []CertInfo
	// TLCP holds the SM2 dual certificates (entries with encCertFile).
	TLCP *TLCPStore
	// tlcp: the TLCP side of each option set that enables it, keyed by
	// its crypto/tls config (and the clones Alias registers).
	tlcp map[*ctls.Config]*tlcp.Config
}

// TLCPFor returns the TLCP config of the option set cfg was built from,
// nil when that set does not enable TLCP.
func (s *Set) TLCPFor(cfg *ctls.Config) *tlcp.Config {
	if s == nil || cfg == nil {
		return nil
	}
	return s.tlcp[cfg]
}

// Alias makes clone (a copy of orig with other ALPN) share orig's TLCP
// side. Called while the set is built, before it is served.
func (s *Set) Alias(clone, orig *ctls.Config) {
	if t := s.tlcp[orig]; t != nil {
		s.tlcp[clone] = t
	}
}

// Build loads certificates and compiles options. It never fails as a
// whole: a bad certificate or option set is left out and reported.
func Build(conf *dynamic.TLSConfiguration) *Set {
	s := &Set{Store: NewStore(), options: map[string]*ctls.Config{}, optErr: map[string]error{}, TLCP: newTLCPStore(), tlcp: map[*ctls.Config]*tlcp.Config{}}
	if conf == nil {
		conf = &dynamic.TLSConfiguration{}
	}
	for name := range conf.Stores {
		if name != DefaultStore {
			s.Errors = append(s.Errors, fmt.Errorf("tls store %q: only the %q store is served; ignored", name, DefaultStore))
		}
	}
	if st, ok := conf.Stores[DefaultStore]; ok {
		if st.DefaultCertificate != nil && st.DefaultCertificate.IsTLCP() {
			p, err := LoadTLCP(*st.DefaultCertificate)
			if err != nil {
				s.Errors = append(s.Errors, fmt.Errorf("tls store %q: defaultCertificate: %w", DefaultStore, err))
			} else {
				s.TLCP.Default = p
			}
		} else if st.DefaultCertificate != nil {
			c, err := Load(*st.DefaultCertificate)
			if err != nil {
				s.Errors = append(s.Errors, fmt.Errorf("tls store %q: defaultCertificate: %w", DefaultStore, err))
			} else {
				s.Store.Default = c
			}
		}
		if st.DefaultGeneratedCert != nil {
			// Refused in compat.Dynamic: the error names the option.
			for _, err := range compat.CheckRefusedAt(st, "tls.stores.<name>", "tls.stores."+DefaultStore, compat.Dynamic) {
				s.Errors = append(s.Errors, fmt.Errorf("%w; using the self-signed default", err))
			}
		}
	}
	for i, cs := range conf.Certificates {
		if cs == nil {
			continue
		}
		stores := cs.Stores
		if len(stores) == 0 {
			stores = []string{DefaultStore}
		}
		if !slices.Contains(stores, DefaultStore) {
			s.Errors = append(s.Errors, fmt.Errorf("tls certificate #%d: stores %v: only the %q store is served; ignored", i, stores, DefaultStore))
			continue
		}
		if cs.IsTLCP() {
			p, err := LoadTLCP(cs.Certificate)
			if err != nil {
				s.Errors = append(s.Errors, fmt.Errorf("tls certificate #%d: %w", i, err))
				continue
			}
			s.TLCP.Add(p)
			leaf := p.Sign.Leaf.ToX509()
			s.Certs = append(s.Certs, CertInfo{Names: Names(leaf), NotAfter: leaf.NotAfter, Stores: stores, Issuer: leaf.Issuer.String()})
			continue
		}
		c, err := Load(cs.Certificate)
		if err != nil {
			s.Errors = append(s.Errors, fmt.Errorf("tls certificate #%d: %w", i, err))
			continue
		}
		if left := time.Until(c.Leaf.NotAfter); left < 0 {
			s.Errors = append(s.Errors, fmt.Errorf("tls certificate #%d %v: expired on %s (still served)", i, Names(c.Leaf), c.Leaf.NotAfter.UTC().Format(time.RFC3339)))
		} else if left < 30*24*time.Hour {
			slog.Warn("tls certificate expires soon", "names", Names(c.Leaf), "notAfter", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		s.Store.Add(c)
		s.Certs = append(s.Certs, CertInfo{Names: Names(c.Leaf), NotAfter: c.Leaf.NotAfter, Stores: stores, Issuer: c.Leaf.Issuer.String()})
	}

	if s.TLCP.Default == nil {
		// No SM2 default configured: the first dual certificate serves
		// TLCP clients whose server name matches none (or who send none).
		for _, cs := range conf.Certificates {
			if cs != nil && cs.IsTLCP() {
				if p, err := LoadTLCP(cs.Certificate); err == nil {
					s.TLCP.Default = p
					break
				}
			}
		}
	}

	opts := conf.Options
	if _, ok := opts[DefaultOptions]; !ok {
		opts = maps.Clone(opts)
		if opts == nil {
			opts = map[string]dynamic.TLSOptions{}
		}
		opts[DefaultOptions] = dynamic.TLSOptions{}
	}
	for _, name := range slices.Sorted(maps.Keys(opts)) {
		cfg, err := BuildOptions(opts[name], s.Store)
		var tc *tlcp.Config
		if err == nil {
			tc, err = buildTLCP(opts[name], s.TLCP)
		}
		if err != nil {
			s.optErr[name] = err
			s.Errors = append(s.Errors, fmt.Errorf("tls options %q: %w", name, err))
			continue
		}
		s.options[name] = cfg
		if tc != nil {
			s.tlcp[cfg] = tc
		}
	}
	if _, ok := s.options[DefaultOptions]; !ok {
		// A broken user "default" falls back to the built-in default.
		s.options[DefaultOptions], _ = BuildOptions(dynamic.TLSOptions{}, s.Store)
	}
	return s
}

// Options returns the compiled options of a (qualified) name; "" means
// the default. A name without a provider matches "name@provider" when
// exactly one provider defines it (entrypoint defaults are unqualified).
func (s *Set) Options(name string) (*ctls.Config, error) {
	if name == "" {
		name = DefaultOptions
	}
	if c, ok := s.options[name]; ok {
		return c, nil
	}
	if err, ok := s.optErr[name]; ok {
		return nil, fmt.Errorf("tls options %q: %w", name, err)
	}
	if !strings.Contains(name, "@") {
		var found string
		for n := range s.options {
			if base, _, ok := strings.Cut(n, "@"); ok && base == name {
				if found != "" {
					return nil, fmt.Errorf("tls options %q: ambiguous, qualify it with @provider", name)
				}
				found = n
			}
		}
		if found != "" {
			return s.options[found], nil
		}
	}
	return nil, fmt.Errorf("unknown TLS options: %s", name)
}

// Log reports the set's errors once per build.
func (s *Set) Log() {
	for _, err := range s.Errors {
		slog.Error("tls", "error", err)
	}
}

// Selector picks the options of an entrypoint's HTTPS side by server
// name: routers' hosts map to their options; the rest use the default.
type Selector struct {
	exact map[string]*ctls.Config
	wild  map[string]*ctls.Config
	def   *ctls.Config
	set   *Set // for the TLCP side of each config; nil: no TLCP
}

// WithTLCP lets the selector answer TLCP clients from set's options.
func (s *Selector) WithTLCP(set *Set) *Selector {
	s.set = set
	return s
}

// TLCPFor is the TLCP config of a config this selector (or a TCP router
// of the same build) returned; nil when TLCP is off for it.
func (s *Selector) TLCPFor(cfg *ctls.Config) *tlcp.Config {
	if s == nil {
		return nil
	}
	return s.set.TLCPFor(cfg)
}

// NewSelector indexes host → config; "*.example.com" hosts are wildcards.
func NewSelector(def *ctls.Config, hosts map[string]*ctls.Config) *Selector {
	sel := &Selector{exact: map[string]*ctls.Config{}, wild: map[string]*ctls.Config{}, def: def}
	for h, c := range hosts {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if parent, ok := strings.CutPrefix(h, "*."); ok {
			sel.wild[parent] = c
			continue
		}
		sel.exact[h] = c
	}
	return sel
}

// Select returns the config for a server name (never nil if def is set).
func (s *Selector) Select(name string) *ctls.Config {
	if s == nil {
		return nil
	}
	name = normalize(name)
	if c, ok := s.exact[name]; ok {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := s.wild[name[i+1:]]; ok {
			return c
		}
	}
	return s.def
}
