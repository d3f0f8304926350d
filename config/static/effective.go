package static

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/compat"
)

// SetEffectiveConfiguration fills what Traefik fills when the user is
// silent: a default entrypoint, the "traefik" entrypoint for the insecure
// API and ping, providers' defaults.
func (c *Configuration) SetEffectiveConfiguration() {
	if len(c.EntryPoints) == 0 {
		ep := &EntryPoint{Address: DefaultEntryPointAddr}
		ep.SetDefaults()
		c.EntryPoints = map[string]*EntryPoint{DefaultEntryPointName: ep}
	}
	needInternal := (c.API != nil && c.API.Insecure) ||
		(c.Ping != nil && !c.Ping.ManualRouting && c.Ping.EntryPoint == DefaultInternalEntryPointName) ||
		(c.Metrics != nil && c.Metrics.Prometheus != nil && !c.Metrics.Prometheus.ManualRouting && c.Metrics.Prometheus.EntryPoint == DefaultInternalEntryPointName)
	if needInternal {
		if _, ok := c.EntryPoints[DefaultInternalEntryPointName]; !ok {
			ep := &EntryPoint{Address: DefaultInternalEntryPointAddr}
			ep.SetDefaults()
			c.EntryPoints[DefaultInternalEntryPointName] = ep
		}
	}
	for _, ep := range c.EntryPoints {
		if ep.Transport == nil {
			ep.Transport = &EntryPointsTransport{}
			ep.Transport.SetDefaults()
		}
		if ep.Transport.LifeCycle == nil {
			ep.Transport.LifeCycle = &LifeCycle{}
			ep.Transport.LifeCycle.SetDefaults()
		}
		if ep.Transport.RespondingTimeouts == nil {
			ep.Transport.RespondingTimeouts = &RespondingTimeouts{}
			ep.Transport.RespondingTimeouts.SetDefaults()
		}
		if ep.ForwardedHeaders == nil {
			ep.ForwardedHeaders = &ForwardedHeaders{}
		}
		if ep.HTTP.MaxHeaderBytes == 0 {
			ep.HTTP.MaxHeaderBytes = 1 << 20
		}
		if ep.UDP == nil {
			ep.UDP = &UDPConfig{}
			ep.UDP.SetDefaults()
		}
		if ep.HTTP2 == nil {
			ep.HTTP2 = &HTTP2Config{}
			ep.HTTP2.SetDefaults()
		}
	}
	if c.Providers == nil {
		c.Providers = &Providers{}
		c.Providers.SetDefaults()
	}
	if c.ServersTransport == nil {
		c.ServersTransport = &ServersTransport{}
		c.ServersTransport.SetDefaults()
	}
	if c.ServersTransport.ForwardingTimeouts == nil {
		c.ServersTransport.ForwardingTimeouts = nil
		st := &ServersTransport{}
		st.SetDefaults()
		c.ServersTransport.ForwardingTimeouts = st.ForwardingTimeouts
	}
	if c.Log == nil {
		c.Log = &Log{}
		c.Log.SetDefaults()
	}
	if c.API != nil && c.API.BasePath == "" {
		c.API.BasePath = "/"
	}
	if c.Core == nil {
		c.Core = &Core{}
		c.Core.SetDefaults()
	}
	if c.AccessLog != nil && c.AccessLog.Fields == nil {
		c.AccessLog.Fields = &AccessLogFields{}
		c.AccessLog.Fields.SetDefaults()
	}
}

// Validate checks the configuration as a whole; every error names the key.
func (c *Configuration) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for _, name := range slices.Sorted(maps.Keys(c.EntryPoints)) {
		ep := c.EntryPoints[name]
		key := "entryPoints." + name
		if ep == nil {
			add(key, "empty entrypoint")
			continue
		}
		addr, proto, err := SplitAddress(ep.Address)
		if err != nil {
			add(key+".address", "%v", err)
			continue
		}
		if _, err := ParsePort(addr); err != nil {
			add(key+".address", "%v", err)
		}
		if ep.HTTP3 != nil && proto == "udp" {
			add(key+".http3", "HTTP/3 needs a TCP entrypoint (its UDP socket uses the same port)")
		}
		errs = append(errs, ep.HTTP2.validate(key+".http2")...)
		errs = append(errs, ep.HTTP3.validate(key+".http3")...)
		for _, ip := range append(slices.Clone(ep.ForwardedHeaders.TrustedIPs), proxyTrusted(ep)...) {
			if !validIPOrCIDR(ip) {
				add(key+".forwardedHeaders.trustedIPs", "invalid IP or CIDR %q", ip)
			}
		}
		if r := ep.HTTP.Redirections; r != nil && r.EntryPoint != nil {
			to := r.EntryPoint.To
			if to == "" {
				add(key+".http.redirections.entryPoint.to", "missing target entrypoint or port")
			} else if _, ok := c.EntryPoints[to]; !ok {
				if _, err := ParsePort(":" + strings.TrimPrefix(to, ":")); err != nil {
					add(key+".http.redirections.entryPoint.to", "%q is neither an entrypoint nor a port", to)
				}
			}
			if to == name {
				add(key+".http.redirections.entryPoint.to", "an entrypoint cannot redirect to itself")
			}
		}
		lc := ep.Transport.LifeCycle
		if lc.GraceTimeOut < 0 || lc.RequestAcceptGraceTimeout < 0 {
			add(key+".transport.lifeCycle", "durations must not be negative")
		}
		if tr := ep.Transport; tr.KeepAliveMaxRequests < 0 || tr.KeepAliveMaxTime < 0 || tr.MaxConnsPerIP < 0 {
			add(key+".transport", "keepAliveMaxRequests, keepAliveMaxTime and maxConnsPerIP must not be negative")
		}
		errs = append(errs, ep.Transport.validateSocketOptions(key+".transport")...)
	}
	if c.Ping != nil && !c.Ping.ManualRouting {
		if _, ok := c.EntryPoints[c.Ping.EntryPoint]; !ok {
			add("ping.entryPoint", "unknown entrypoint %q", c.Ping.EntryPoint)
		}
	}
	if c.Log != nil {
		switch strings.ToLower(c.Log.Format) {
		case "", "common", "json":
		default:
			add("log.format", "unknown format %q (want common or json)", c.Log.Format)
		}
		switch strings.ToUpper(c.Log.Level) {
		case "", "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "PANIC":
		default:
			add("log.level", "unknown level %q (want TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC)", c.Log.Level)
		}
	}
	if c.AccessLog != nil {
		switch strings.ToLower(c.AccessLog.Format) {
		case "", "common", "json":
		default:
			add("accessLog.format", "unknown format %q (want common or json)", c.AccessLog.Format)
		}
	}
	if c.Providers != nil {
		if c.Providers.ProvidersThrottleDuration < 0 {
			add("providers.providersThrottleDuration", "must not be negative")
		}
		if f := c.Providers.File; f != nil {
			switch {
			case f.Filename == "" && f.Directory == "":
				add("providers.file", "set filename or directory")
			case f.Filename != "" && f.Directory != "":
				add("providers.file", "set filename or directory, not both")
			}
		}
	}
	if c.Core != nil {
		switch c.Core.DefaultRuleSyntax {
		case "", "v3", "v2": // v2: refused below while compat.Static says so
		default:
			add("core.defaultRuleSyntax", "unknown syntax %q (want v3)", c.Core.DefaultRuleSyntax)
		}
	}
	// Options Traefik has that Switchyard does not act on: refused by
	// name rather than accepted and ignored.
	errs = append(errs, compat.CheckRefused(c, "", compat.Static)...)
	return errors.Join(errs...)
}

func proxyTrusted(ep *EntryPoint) []string {
	if ep.ProxyProtocol == nil {
		return nil
	}
	return ep.ProxyProtocol.TrustedIPs
}

func validIPOrCIDR(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	_, _, err := net.ParseCIDR(s)
	return err == nil
}

// ParsePort returns the port of a listen address like ":80" or "[::]:443".
func ParsePort(addr string) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("invalid address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q in address %q", port, addr)
	}
	return p, nil
}

// Duration is a shorthand for tests and defaults.
func Duration(d time.Duration) ptypes.Duration { return ptypes.Duration(d) }
