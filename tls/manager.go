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
}

// Build loads certificates and compiles options. It never fails as a
// whole: a bad certificate or option set is left out and reported.
func Build(conf *dynamic.TLSConfiguration) *Set {
	s := &Set{Store: NewStore(), options: map[string]*ctls.Config{}, optErr: map[string]error{}}
	if conf == nil {
		conf = &dynamic.TLSConfiguration{}
	}
	for name := range conf.Stores {
		if name != DefaultStore {
			s.Errors = append(s.Errors, fmt.Errorf("tls store %q: only the %q store is served; ignored", name, DefaultStore))
		}
	}
	if st, ok := conf.Stores[DefaultStore]; ok {
		if st.DefaultCertificate != nil {
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
		if err != nil {
			s.optErr[name] = err
			s.Errors = append(s.Errors, fmt.Errorf("tls options %q: %w", name, err))
			continue
		}
		s.options[name] = cfg
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
