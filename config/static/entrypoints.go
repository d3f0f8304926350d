package static

import (
	"fmt"
	"math"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// EntryPoint is a network address Switchyard listens on.
type EntryPoint struct {
	Address          string                `description:"Entry point address." json:"address,omitempty" toml:"address,omitempty" yaml:"address,omitempty"`
	AllowACMEByPass  bool                  `description:"Enables handling of ACME TLS and HTTP challenges with custom routers." json:"allowACMEByPass,omitempty" toml:"allowACMEByPass,omitempty" yaml:"allowACMEByPass,omitempty"`
	ReusePort        bool                  `description:"Enables EntryPoints from the same or different processes listening on the same TCP/UDP port." json:"reusePort,omitempty" toml:"reusePort,omitempty" yaml:"reusePort,omitempty"`
	AsDefault        bool                  `description:"Sets this entryPoint to be the default one for HTTP/TCP routers." json:"asDefault,omitempty" toml:"asDefault,omitempty" yaml:"asDefault,omitempty"`
	Transport        *EntryPointsTransport `description:"Configures communication between clients and Switchyard." json:"transport,omitempty" toml:"transport,omitempty" yaml:"transport,omitempty" export:"true"`
	ProxyProtocol    *ProxyConfig          `description:"Proxy-Protocol configuration." json:"proxyProtocol,omitempty" toml:"proxyProtocol,omitempty" yaml:"proxyProtocol,omitempty" label:"allowEmpty" file:"allowEmpty" export:"true"`
	ForwardedHeaders *ForwardedHeaders     `description:"Trust client forwarding headers." json:"forwardedHeaders,omitempty" toml:"forwardedHeaders,omitempty" yaml:"forwardedHeaders,omitempty" export:"true"`
	HTTP             HTTPConfig            `description:"HTTP configuration." json:"http,omitempty" toml:"http,omitempty" yaml:"http,omitempty" export:"true"`
	HTTP2            *HTTP2Config          `description:"HTTP/2 configuration." json:"http2,omitempty" toml:"http2,omitempty" yaml:"http2,omitempty" export:"true"`
	HTTP3            *HTTP3Config          `description:"HTTP/3 configuration." json:"http3,omitempty" toml:"http3,omitempty" yaml:"http3,omitempty" label:"allowEmpty" file:"allowEmpty" export:"true"`
	UDP              *UDPConfig            `description:"UDP configuration." json:"udp,omitempty" toml:"udp,omitempty" yaml:"udp,omitempty"`
	Observability    *ObservabilityConfig  `description:"Observability configuration." json:"observability,omitempty" toml:"observability,omitempty" yaml:"observability,omitempty" export:"true"`
}

// SetDefaults sets Traefik's entrypoint defaults.
func (ep *EntryPoint) SetDefaults() {
	ep.Transport = &EntryPointsTransport{}
	ep.Transport.SetDefaults()
	ep.ForwardedHeaders = &ForwardedHeaders{}
	ep.HTTP = HTTPConfig{}
	ep.HTTP.SetDefaults()
	ep.HTTP2 = &HTTP2Config{}
	ep.HTTP2.SetDefaults()
	ep.UDP = &UDPConfig{}
	ep.UDP.SetDefaults()
	ep.Observability = &ObservabilityConfig{}
	ep.Observability.SetDefaults()
}

// Network returns "tcp" or "udp" from the address suffix.
func (ep *EntryPoint) Network() (string, error) {
	_, proto, err := SplitAddress(ep.Address)
	return proto, err
}

// ListenAddress returns the address without the /tcp or /udp suffix.
func (ep *EntryPoint) ListenAddress() string {
	addr, _, _ := SplitAddress(ep.Address)
	return addr
}

// SplitAddress splits ":80/udp" into ":80" and "udp" (tcp by default).
func SplitAddress(address string) (string, string, error) {
	i := strings.LastIndex(address, "/")
	if i < 0 {
		return address, "tcp", nil
	}
	proto := strings.ToLower(address[i+1:])
	switch proto {
	case "tcp", "udp":
		return address[:i], proto, nil
	default:
		return "", "", fmt.Errorf("invalid protocol %q in address %q: want tcp or udp", address[i+1:], address)
	}
}

// HTTPConfig is the HTTP part of an entrypoint.
type HTTPConfig struct {
	Redirections          *Redirections      `description:"Set of redirection" json:"redirections,omitempty" toml:"redirections,omitempty" yaml:"redirections,omitempty" export:"true"`
	Middlewares           []string           `description:"Default middlewares for the routers linked to the entry point." json:"middlewares,omitempty" toml:"middlewares,omitempty" yaml:"middlewares,omitempty" export:"true"`
	TLS                   *TLSConfig         `description:"Default TLS configuration for the routers linked to the entry point." json:"tls,omitempty" toml:"tls,omitempty" yaml:"tls,omitempty" label:"allowEmpty" file:"allowEmpty" export:"true"`
	EncodeQuerySemicolons bool               `description:"Defines whether request query semicolons should be URLEncoded." json:"encodeQuerySemicolons,omitempty" toml:"encodeQuerySemicolons,omitempty" yaml:"encodeQuerySemicolons,omitempty" export:"true"`
	SanitizePath          *bool              `description:"Defines whether to enable request path sanitization (removal of /./, /../ and multiple slash sequences)." json:"sanitizePath,omitempty" toml:"sanitizePath,omitempty" yaml:"sanitizePath,omitempty" export:"true"`
	MaxHeaderBytes        int                `description:"Maximum size of request headers in bytes." json:"maxHeaderBytes,omitempty" toml:"maxHeaderBytes,omitempty" yaml:"maxHeaderBytes,omitempty" export:"true"`
	EncodedCharacters     *EncodedCharacters `description:"Defines which encoded characters are allowed in the request path." json:"encodedCharacters,omitempty" toml:"encodedCharacters,omitempty" yaml:"encodedCharacters,omitempty" export:"true"`
}

// SetDefaults sanitizes paths and allows 1 MiB of headers.
func (c *HTTPConfig) SetDefaults() {
	t := true
	c.SanitizePath = &t
	c.MaxHeaderBytes = 1 << 20
}

// EncodedCharacters lists which encoded path characters are allowed. As
// in Traefik since v3.6.7 every one is allowed unless set to false.
type EncodedCharacters struct {
	AllowEncodedSlash         bool `description:"Defines whether requests with encoded slash characters in the path are allowed." json:"allowEncodedSlash,omitempty" toml:"allowEncodedSlash,omitempty" yaml:"allowEncodedSlash,omitempty" export:"true"`
	AllowEncodedBackSlash     bool `description:"Defines whether requests with encoded back slash characters in the path are allowed." json:"allowEncodedBackSlash,omitempty" toml:"allowEncodedBackSlash,omitempty" yaml:"allowEncodedBackSlash,omitempty" export:"true"`
	AllowEncodedNullCharacter bool `description:"Defines whether requests with encoded null characters in the path are allowed." json:"allowEncodedNullCharacter,omitempty" toml:"allowEncodedNullCharacter,omitempty" yaml:"allowEncodedNullCharacter,omitempty" export:"true"`
	AllowEncodedSemicolon     bool `description:"Defines whether requests with encoded semicolon characters in the path are allowed." json:"allowEncodedSemicolon,omitempty" toml:"allowEncodedSemicolon,omitempty" yaml:"allowEncodedSemicolon,omitempty" export:"true"`
	AllowEncodedPercent       bool `description:"Defines whether requests with encoded percent characters in the path are allowed." json:"allowEncodedPercent,omitempty" toml:"allowEncodedPercent,omitempty" yaml:"allowEncodedPercent,omitempty" export:"true"`
	AllowEncodedQuestionMark  bool `description:"Defines whether requests with encoded question mark characters in the path are allowed." json:"allowEncodedQuestionMark,omitempty" toml:"allowEncodedQuestionMark,omitempty" yaml:"allowEncodedQuestionMark,omitempty" export:"true"`
	AllowEncodedHash          bool `description:"Defines whether requests with encoded hash characters in the path are allowed." json:"allowEncodedHash,omitempty" toml:"allowEncodedHash,omitempty" yaml:"allowEncodedHash,omitempty" export:"true"`
}

// SetDefaults allows every encoded character (Traefik v3.6.7 and later):
// the options are opt-in refusals.
func (e *EncodedCharacters) SetDefaults() {
	*e = EncodedCharacters{
		AllowEncodedSlash: true, AllowEncodedBackSlash: true, AllowEncodedNullCharacter: true,
		AllowEncodedSemicolon: true, AllowEncodedPercent: true, AllowEncodedQuestionMark: true,
		AllowEncodedHash: true,
	}
}

// HTTP2Config tunes the HTTP/2 server (Traefik's options).
type HTTP2Config struct {
	MaxConcurrentStreams      int32 `description:"Specifies the number of concurrent streams per connection that each client is allowed to initiate." json:"maxConcurrentStreams,omitempty" toml:"maxConcurrentStreams,omitempty" yaml:"maxConcurrentStreams,omitempty" export:"true"`
	MaxDecoderHeaderTableSize int32 `description:"Specifies the maximum size of the HTTP2 HPACK header table on the decoding (receiving from client) side." json:"maxDecoderHeaderTableSize,omitempty" toml:"maxDecoderHeaderTableSize,omitempty" yaml:"maxDecoderHeaderTableSize,omitempty" export:"true"`
	MaxEncoderHeaderTableSize int32 `description:"Specifies the maximum size of the HTTP2 HPACK header table on the encoding (sending to client) side." json:"maxEncoderHeaderTableSize,omitempty" toml:"maxEncoderHeaderTableSize,omitempty" yaml:"maxEncoderHeaderTableSize,omitempty" export:"true"`
	// ReadIdleTimeout and PingTimeout are Switchyard extensions (Traefik
	// has them only for HTTP/2 towards backends, in forwardingTimeouts).
	ReadIdleTimeout ptypes.Duration `description:"Sends a PING frame on a connection from which nothing was read for this long (0: never). Switchyard extension." json:"readIdleTimeout,omitempty" toml:"readIdleTimeout,omitempty" yaml:"readIdleTimeout,omitempty" export:"true"`
	PingTimeout     ptypes.Duration `description:"Closes the connection when the answer to such a PING does not arrive within this time (default 15s). Switchyard extension." json:"pingTimeout,omitempty" toml:"pingTimeout,omitempty" yaml:"pingTimeout,omitempty" export:"true"`
}

// SetDefaults allows 250 concurrent streams and 4 KiB HPACK tables, as
// Traefik.
func (c *HTTP2Config) SetDefaults() {
	c.MaxConcurrentStreams = 250
	c.MaxDecoderHeaderTableSize = 4096
	c.MaxEncoderHeaderTableSize = 4096
}

// MaxHPACKTableSize bounds both HPACK tables: the decoder's is memory a
// client makes every connection hold, and net/http documents values below
// 4 MiB as the valid ones.
const MaxHPACKTableSize = 4 << 20

// validate reports bad values under key ("entryPoints.<n>.http2").
func (c *HTTP2Config) validate(key string) []error {
	if c == nil {
		return nil
	}
	var errs []error
	if c.ReadIdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s.readIdleTimeout: must not be negative (0: no PING), got %s", key, time.Duration(c.ReadIdleTimeout)))
	}
	if c.PingTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s.pingTimeout: must not be negative (0: 15s), got %s", key, time.Duration(c.PingTimeout)))
	}
	if c.MaxConcurrentStreams <= 0 {
		errs = append(errs, fmt.Errorf("%s.maxConcurrentStreams: must be greater than zero, got %d", key, c.MaxConcurrentStreams))
	}
	for _, f := range []struct {
		name string
		v    int32
	}{{"maxDecoderHeaderTableSize", c.MaxDecoderHeaderTableSize}, {"maxEncoderHeaderTableSize", c.MaxEncoderHeaderTableSize}} {
		if f.v < 0 || f.v > MaxHPACKTableSize {
			errs = append(errs, fmt.Errorf("%s.%s: must be between 0 and %d bytes, got %d", key, f.name, MaxHPACKTableSize, f.v))
		}
	}
	return errs
}

// HTTP3Config enables HTTP/3 on the entrypoint.
type HTTP3Config struct {
	AdvertisedPort int `description:"UDP port to advertise, on which HTTP/3 is available." json:"advertisedPort,omitempty" toml:"advertisedPort,omitempty" yaml:"advertisedPort,omitempty" export:"true"`
	// ValidateAddress is a Switchyard extension (Traefik has no such
	// option): every new QUIC connection first proves its source address
	// with a Retry round trip (RFC 9000 §8.1.2).
	ValidateAddress bool `description:"Switchyard extension: validate the client address of every new QUIC connection with a Retry packet (one more round trip; spoofed sources never get more than a Retry)." json:"validateAddress,omitempty" toml:"validateAddress,omitempty" yaml:"validateAddress,omitempty" export:"true"`
}

// validate reports bad values under key ("entryPoints.<n>.http3").
func (c *HTTP3Config) validate(key string) []error {
	if c == nil {
		return nil
	}
	if c.AdvertisedPort < 0 || c.AdvertisedPort > 65535 {
		return []error{fmt.Errorf("%s.advertisedPort: must be a port (0-65535), got %d", key, c.AdvertisedPort)}
	}
	return nil
}

// Redirections holds entrypoint-level redirections.
type Redirections struct {
	EntryPoint *RedirectEntryPoint `description:"Set of redirection for an entry point." json:"entryPoint,omitempty" toml:"entryPoint,omitempty" yaml:"entryPoint,omitempty" export:"true"`
}

// RedirectEntryPoint redirects every request of an entrypoint to another.
type RedirectEntryPoint struct {
	To        string `description:"Targeted entry point of the redirection, or a port." json:"to,omitempty" toml:"to,omitempty" yaml:"to,omitempty" export:"true"`
	Scheme    string `description:"Scheme used for the redirection." json:"scheme,omitempty" toml:"scheme,omitempty" yaml:"scheme,omitempty" export:"true"`
	Permanent bool   `description:"Applies a permanent redirection." json:"permanent,omitempty" toml:"permanent,omitempty" yaml:"permanent,omitempty" export:"true"`
	Priority  int    `description:"Priority of the generated router." json:"priority,omitempty" toml:"priority,omitempty" yaml:"priority,omitempty" export:"true"`
}

// SetDefaults redirects permanently to https with the lowest priority.
func (r *RedirectEntryPoint) SetDefaults() {
	r.Scheme = "https"
	r.Permanent = true
	r.Priority = math.MaxInt32 - 1
}

// TLSConfig is the default TLS configuration of an entrypoint's routers.
type TLSConfig struct {
	Options      string           `description:"Default TLS options for the routers linked to the entry point." json:"options,omitempty" toml:"options,omitempty" yaml:"options,omitempty" export:"true"`
	CertResolver string           `description:"Default certificate resolver for the routers linked to the entry point." json:"certResolver,omitempty" toml:"certResolver,omitempty" yaml:"certResolver,omitempty" export:"true"`
	Domains      []dynamic.Domain `description:"Default TLS domains for the routers linked to the entry point." json:"domains,omitempty" toml:"domains,omitempty" yaml:"domains,omitempty" export:"true"`
}

// EntryPointsTransport configures client-side timeouts and life cycle.
type EntryPointsTransport struct {
	LifeCycle            *LifeCycle          `description:"Timeouts influencing the server life cycle." json:"lifeCycle,omitempty" toml:"lifeCycle,omitempty" yaml:"lifeCycle,omitempty" export:"true"`
	RespondingTimeouts   *RespondingTimeouts `description:"Timeouts for incoming requests to the Switchyard instance." json:"respondingTimeouts,omitempty" toml:"respondingTimeouts,omitempty" yaml:"respondingTimeouts,omitempty" export:"true"`
	KeepAliveMaxTime     ptypes.Duration     `description:"Maximum duration before closing a keep-alive connection." json:"keepAliveMaxTime,omitempty" toml:"keepAliveMaxTime,omitempty" yaml:"keepAliveMaxTime,omitempty" export:"true"`
	KeepAliveMaxRequests int                 `description:"Maximum number of requests before closing a keep-alive connection." json:"keepAliveMaxRequests,omitempty" toml:"keepAliveMaxRequests,omitempty" yaml:"keepAliveMaxRequests,omitempty" export:"true"`
	// MaxConnsPerIP is a Switchyard extension (Traefik has no such key).
	MaxConnsPerIP int `description:"Maximum number of connections one client IP address may hold open on the entry point (0: no limit); excess connections are closed at accept. Switchyard extension." json:"maxConnsPerIP,omitempty" toml:"maxConnsPerIP,omitempty" yaml:"maxConnsPerIP,omitempty" export:"true"`
	// TCPKeepAlive and TCPUserTimeout are Switchyard extensions: Traefik
	// leaves accepted sockets with Go's implicit 15 s keep-alive.
	TCPKeepAlive *TCPKeepAlive `description:"TCP keep-alive probes on accepted connections: a peer that vanished without FIN is dropped after idle + interval x count. Switchyard extension." json:"tcpKeepAlive,omitempty" toml:"tcpKeepAlive,omitempty" yaml:"tcpKeepAlive,omitempty" export:"true"`
	// WebSocketPing is a Switchyard extension.
	WebSocketPing  *WebSocketPing  `description:"Ping the client of a quiet WebSocket and close the tunnel when it does not answer (off by default). Switchyard extension." json:"webSocketPing,omitempty" toml:"webSocketPing,omitempty" yaml:"webSocketPing,omitempty" export:"true"`
	TCPUserTimeout ptypes.Duration `description:"TCP_USER_TIMEOUT of accepted connections: how long sent data (or a keep-alive probe) may stay unacknowledged before the connection is dropped (0: the kernel's default). Switchyard extension." json:"tcpUserTimeout,omitempty" toml:"tcpUserTimeout,omitempty" yaml:"tcpUserTimeout,omitempty" export:"true"`
}

// WebSocketPing: a WebSocket whose client sent nothing for Interval gets
// a Ping frame; nothing back within Timeout closes both sides.
type WebSocketPing struct {
	Interval ptypes.Duration `description:"Quiet time from the client before a Ping is sent (0: off)." json:"interval,omitempty" toml:"interval,omitempty" yaml:"interval,omitempty" export:"true"`
	Timeout  ptypes.Duration `description:"Time the client has to send anything (its Pong) after the Ping (default: the interval)." json:"timeout,omitempty" toml:"timeout,omitempty" yaml:"timeout,omitempty" export:"true"`
}

// Effective returns the interval (0: off) and the timeout.
func (p *WebSocketPing) Effective() (interval, timeout time.Duration) {
	if p == nil || p.Interval <= 0 {
		return 0, 0
	}
	interval, timeout = time.Duration(p.Interval), time.Duration(p.Timeout)
	if timeout <= 0 {
		timeout = interval
	}
	return interval, timeout
}

// TCPKeepAlive sets the kernel's keep-alive probes (SO_KEEPALIVE,
// TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT). A zero field takes its
// default; a negative idle turns keep-alive off.
type TCPKeepAlive struct {
	Idle     ptypes.Duration `description:"Idle time before the first keep-alive probe, in whole seconds (default 15s; negative: keep-alive off)." json:"idle,omitempty" toml:"idle,omitempty" yaml:"idle,omitempty" export:"true"`
	Interval ptypes.Duration `description:"Time between keep-alive probes, in whole seconds (default 15s)." json:"interval,omitempty" toml:"interval,omitempty" yaml:"interval,omitempty" export:"true"`
	Count    int             `description:"Unanswered probes before the connection is dropped (default 9)." json:"count,omitempty" toml:"count,omitempty" yaml:"count,omitempty" export:"true"`
}

// Go's defaults for accepted connections, made explicit.
const (
	DefaultTCPKeepAliveIdle     = 15 * time.Second
	DefaultTCPKeepAliveInterval = 15 * time.Second
	DefaultTCPKeepAliveCount    = 9
)

// SetDefaults sets Go's implicit values: 15 s idle, 15 s interval, 9 probes.
func (k *TCPKeepAlive) SetDefaults() {
	k.Idle = ptypes.Duration(DefaultTCPKeepAliveIdle)
	k.Interval = ptypes.Duration(DefaultTCPKeepAliveInterval)
	k.Count = DefaultTCPKeepAliveCount
}

// Effective returns the values the kernel gets; on is false when
// keep-alive is turned off. k may be nil (all defaults).
func (k *TCPKeepAlive) Effective() (idle, interval time.Duration, count int, on bool) {
	idle, interval, count = DefaultTCPKeepAliveIdle, DefaultTCPKeepAliveInterval, DefaultTCPKeepAliveCount
	if k == nil {
		return idle, interval, count, true
	}
	if k.Idle < 0 {
		return 0, 0, 0, false
	}
	if k.Idle > 0 {
		idle = time.Duration(k.Idle)
	}
	if k.Interval > 0 {
		interval = time.Duration(k.Interval)
	}
	if k.Count > 0 {
		count = k.Count
	}
	return idle, interval, count, true
}

// Kernel limits (Linux: TCP_KEEPIDLE and TCP_KEEPINTVL in 1..32767 s,
// TCP_KEEPCNT in 1..127, TCP_USER_TIMEOUT in milliseconds as an int).
const (
	maxTCPKeepAliveSeconds = 32767
	maxTCPKeepAliveCount   = 127
	maxTCPUserTimeout      = time.Duration(math.MaxInt32) * time.Millisecond
)

// validateSocketOptions reports bad tcpKeepAlive / tcpUserTimeout values
// under key ("entryPoints.<n>.transport").
func (t *EntryPointsTransport) validateSocketOptions(key string) []error {
	var errs []error
	if k := t.TCPKeepAlive; k != nil {
		for _, f := range []struct {
			name string
			d    ptypes.Duration
			off  bool // a negative value is allowed (keep-alive off)
		}{{"idle", k.Idle, true}, {"interval", k.Interval, false}} {
			d := time.Duration(f.d)
			switch {
			case d < 0 && f.off:
			case d < 0:
				errs = append(errs, fmt.Errorf("%s.tcpKeepAlive.%s: must not be negative, got %s", key, f.name, d))
			case d%time.Second != 0:
				errs = append(errs, fmt.Errorf("%s.tcpKeepAlive.%s: must be whole seconds (the kernel's unit), got %s", key, f.name, d))
			case d > maxTCPKeepAliveSeconds*time.Second:
				errs = append(errs, fmt.Errorf("%s.tcpKeepAlive.%s: must be at most %ds (the kernel's limit), got %s", key, f.name, maxTCPKeepAliveSeconds, d))
			}
		}
		if k.Count < 0 || k.Count > maxTCPKeepAliveCount {
			errs = append(errs, fmt.Errorf("%s.tcpKeepAlive.count: must be between 1 and %d (0: default %d), got %d", key, maxTCPKeepAliveCount, DefaultTCPKeepAliveCount, k.Count))
		}
	}
	if p := t.WebSocketPing; p != nil {
		if p.Interval < 0 {
			errs = append(errs, fmt.Errorf("%s.webSocketPing.interval: must not be negative (0: off), got %s", key, time.Duration(p.Interval)))
		}
		if p.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%s.webSocketPing.timeout: must not be negative (0: the interval), got %s", key, time.Duration(p.Timeout)))
		}
		if p.Interval > 0 && p.Interval < ptypes.Duration(100*time.Millisecond) {
			errs = append(errs, fmt.Errorf("%s.webSocketPing.interval: must be at least 100ms, got %s", key, time.Duration(p.Interval)))
		}
	}
	if d := time.Duration(t.TCPUserTimeout); d < 0 || d > maxTCPUserTimeout || d%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("%s.tcpUserTimeout: must be whole milliseconds between 0 (kernel default) and %s, got %s", key, maxTCPUserTimeout, d))
	}
	return errs
}

// SetDefaults sets Traefik's defaults.
func (t *EntryPointsTransport) SetDefaults() {
	t.LifeCycle = &LifeCycle{}
	t.LifeCycle.SetDefaults()
	t.RespondingTimeouts = &RespondingTimeouts{}
	t.RespondingTimeouts.SetDefaults()
}

// LifeCycle bounds graceful shutdown.
type LifeCycle struct {
	RequestAcceptGraceTimeout ptypes.Duration `description:"Duration to keep accepting requests before Switchyard initiates the graceful shutdown procedure." json:"requestAcceptGraceTimeout,omitempty" toml:"requestAcceptGraceTimeout,omitempty" yaml:"requestAcceptGraceTimeout,omitempty" export:"true"`
	GraceTimeOut              ptypes.Duration `description:"Duration to give active requests a chance to finish before Switchyard stops." json:"graceTimeOut,omitempty" toml:"graceTimeOut,omitempty" yaml:"graceTimeOut,omitempty" export:"true"`
}

// SetDefaults gives in-flight requests 10 s to finish.
func (l *LifeCycle) SetDefaults() { l.GraceTimeOut = ptypes.Duration(10 * time.Second) }

// RespondingTimeouts bound reads and writes on client connections.
type RespondingTimeouts struct {
	ReadTimeout  ptypes.Duration `description:"ReadTimeout is the maximum duration for reading the entire request, including the body. If zero, no timeout is set." json:"readTimeout,omitempty" toml:"readTimeout,omitempty" yaml:"readTimeout,omitempty" export:"true"`
	WriteTimeout ptypes.Duration `description:"WriteTimeout is the maximum duration before timing out writes of the response. If zero, no timeout is set." json:"writeTimeout,omitempty" toml:"writeTimeout,omitempty" yaml:"writeTimeout,omitempty" export:"true"`
	IdleTimeout  ptypes.Duration `description:"IdleTimeout is the maximum amount duration an idle (keep-alive) connection will remain idle before closing itself. If zero, no timeout is set." json:"idleTimeout,omitempty" toml:"idleTimeout,omitempty" yaml:"idleTimeout,omitempty" export:"true"`
}

// SetDefaults sets Traefik v3's defaults.
func (r *RespondingTimeouts) SetDefaults() {
	r.ReadTimeout = ptypes.Duration(60 * time.Second)
	r.IdleTimeout = ptypes.Duration(180 * time.Second)
}

// ProxyConfig configures PROXY protocol acceptance.
type ProxyConfig struct {
	Insecure   bool     `description:"Trust all." json:"insecure,omitempty" toml:"insecure,omitempty" yaml:"insecure,omitempty" export:"true"`
	TrustedIPs []string `description:"Trust only selected IPs." json:"trustedIPs,omitempty" toml:"trustedIPs,omitempty" yaml:"trustedIPs,omitempty"`
}

// ForwardedHeaders configures trust of incoming X-Forwarded-* headers.
type ForwardedHeaders struct {
	Insecure   bool     `description:"Trust all forwarded headers." json:"insecure,omitempty" toml:"insecure,omitempty" yaml:"insecure,omitempty" export:"true"`
	TrustedIPs []string `description:"Trust only forwarded headers from selected IPs." json:"trustedIPs,omitempty" toml:"trustedIPs,omitempty" yaml:"trustedIPs,omitempty"`
	Connection []string `description:"List of Connection headers that are allowed to pass through the middleware chain before being removed." json:"connection,omitempty" toml:"connection,omitempty" yaml:"connection,omitempty"`
}

// UDPConfig tunes UDP entrypoints.
type UDPConfig struct {
	Timeout ptypes.Duration `description:"Timeout defines how long to wait on an idle session before releasing the related resources." json:"timeout,omitempty" toml:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// SetDefaults releases idle UDP sessions after 3 s.
func (u *UDPConfig) SetDefaults() { u.Timeout = ptypes.Duration(3 * time.Second) }

// ObservabilityConfig switches observability per entrypoint.
type ObservabilityConfig struct {
	AccessLogs     *bool  `description:"Enables access-logs for this entryPoint." json:"accessLogs,omitempty" toml:"accessLogs,omitempty" yaml:"accessLogs,omitempty" export:"true"`
	Metrics        *bool  `description:"Enables metrics for this entryPoint." json:"metrics,omitempty" toml:"metrics,omitempty" yaml:"metrics,omitempty" export:"true"`
	Tracing        *bool  `description:"Enables tracing for this entryPoint." json:"tracing,omitempty" toml:"tracing,omitempty" yaml:"tracing,omitempty" export:"true"`
	TraceVerbosity string `description:"Defines the tracing verbosity level for this entryPoint." json:"traceVerbosity,omitempty" toml:"traceVerbosity,omitempty" yaml:"traceVerbosity,omitempty" export:"true"`
}

// SetDefaults enables everything.
func (o *ObservabilityConfig) SetDefaults() {
	t := true
	o.AccessLogs = &t
	o.Metrics = &t
	o.Tracing = &t
	o.TraceVerbosity = "minimal"
}
