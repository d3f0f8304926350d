// Package dynamic is the data model of the dynamic configuration streamed by
// providers: HTTP, TCP and UDP routers, services and middlewares, and TLS.
// Field names follow Traefik v3 so that existing files, labels and KV trees
// decode unchanged. The package holds data only: defaults, hashing and merge.
package dynamic

// Message is what a provider sends: its whole current configuration.
type Message struct {
	ProviderName  string
	Configuration *Configuration
	// Hash is Hash(Configuration) when the provider computed it already
	// (the watcher then skips it); empty means unknown.
	Hash string
}

// Configuration is one provider's (or the merged) dynamic configuration.
type Configuration struct {
	HTTP *HTTPConfiguration `json:"http,omitempty" toml:"http,omitempty" yaml:"http,omitempty" export:"true"`
	TCP  *TCPConfiguration  `json:"tcp,omitempty" toml:"tcp,omitempty" yaml:"tcp,omitempty" export:"true"`
	UDP  *UDPConfiguration  `json:"udp,omitempty" toml:"udp,omitempty" yaml:"udp,omitempty" export:"true"`
	TLS  *TLSConfiguration  `json:"tls,omitempty" toml:"tls,omitempty" yaml:"tls,omitempty" export:"true"`
	// Problems are errors a provider found on objects it had to leave out
	// or could only partly read (definitions that conflict between
	// instances, labels that do not decode). The builder shows each on its
	// object in the API and the logs. Set by providers only: never read
	// from files, labels or KV.
	Problems []ObjectProblem `json:"problems,omitempty" toml:"-" yaml:"-" label:"-" file:"-" kv:"-"`
}

// ObjectProblem is one error on one object of a provider's configuration.
type ObjectProblem struct {
	// Kind is the object's kind as the API's problems name it: "router",
	// "service", "middleware", "tcp router", "tcp service",
	// "tcp middleware", "udp router" or "udp service".
	Kind string `json:"kind"`
	// Name is the object's name (qualified by the aggregator).
	Name  string `json:"name"`
	Error string `json:"error"`
	// Warning: the object is still served (only part of its definition was
	// dropped); otherwise the provider left the object out and it is shown
	// disabled.
	Warning bool `json:"warning,omitempty"`
}

// Configurations maps provider names to their configuration.
type Configurations map[string]*Configuration

// New returns an empty configuration with every map allocated.
func New() *Configuration {
	return &Configuration{
		HTTP: &HTTPConfiguration{
			Routers:           map[string]*Router{},
			Services:          map[string]*Service{},
			Middlewares:       map[string]*Middleware{},
			ServersTransports: map[string]*ServersTransport{},
		},
		TCP: &TCPConfiguration{
			Routers:           map[string]*TCPRouter{},
			Services:          map[string]*TCPService{},
			Middlewares:       map[string]*TCPMiddleware{},
			ServersTransports: map[string]*TCPServersTransport{},
		},
		UDP: &UDPConfiguration{
			Routers:  map[string]*UDPRouter{},
			Services: map[string]*UDPService{},
		},
		TLS: &TLSConfiguration{
			Options: map[string]TLSOptions{},
			Stores:  map[string]Store{},
		},
	}
}

// Normalize allocates nil sections and maps so consumers never nil-check.
func (c *Configuration) Normalize() *Configuration {
	if c == nil {
		return New()
	}
	n := New()
	if c.HTTP == nil {
		c.HTTP = n.HTTP
	}
	if c.HTTP.Routers == nil {
		c.HTTP.Routers = n.HTTP.Routers
	}
	if c.HTTP.Services == nil {
		c.HTTP.Services = n.HTTP.Services
	}
	if c.HTTP.Middlewares == nil {
		c.HTTP.Middlewares = n.HTTP.Middlewares
	}
	if c.HTTP.ServersTransports == nil {
		c.HTTP.ServersTransports = n.HTTP.ServersTransports
	}
	if c.TCP == nil {
		c.TCP = n.TCP
	}
	if c.TCP.Routers == nil {
		c.TCP.Routers = n.TCP.Routers
	}
	if c.TCP.Services == nil {
		c.TCP.Services = n.TCP.Services
	}
	if c.TCP.Middlewares == nil {
		c.TCP.Middlewares = n.TCP.Middlewares
	}
	if c.TCP.ServersTransports == nil {
		c.TCP.ServersTransports = n.TCP.ServersTransports
	}
	if c.UDP == nil {
		c.UDP = n.UDP
	}
	if c.UDP.Routers == nil {
		c.UDP.Routers = n.UDP.Routers
	}
	if c.UDP.Services == nil {
		c.UDP.Services = n.UDP.Services
	}
	if c.TLS == nil {
		c.TLS = n.TLS
	}
	if c.TLS.Options == nil {
		c.TLS.Options = n.TLS.Options
	}
	if c.TLS.Stores == nil {
		c.TLS.Stores = n.TLS.Stores
	}
	return c
}
