package compat

// Static is the table of the static configuration (config/static). Every
// option not listed here must be read by the code acting on it (the test
// in this package checks it); an option the code does not act on gets a
// Refused entry, so that a configuration setting it fails to load.
//
// Helpers adding options: add the field, read it where it acts, and add a
// row here only for a note, an extension or a refusal. Keep rows sorted by
// key within their group.
var Static = []Entry{
	// Global switches.
	{Key: "global.checkNewVersion", Status: Supported, Note: "Switchyard never contacts anyone: when true, the log says so at start"},
	{Key: "global.sendAnonymousUsage", Status: Supported, Note: "Switchyard never sends usage data: when true, the log says so at start"},

	// Entrypoints.
	{Key: "entryPoints.<name>.allowACMEByPass", Status: Refused, Note: "ACME challenges are always answered by Switchyard before routers"},
	{Key: "entryPoints.<name>.observability.traceVerbosity", Status: Refused, Allow: "minimal", Note: "only the minimal span set is produced"},
	{Key: "entryPoints.<name>.transport.tcpKeepAlive", Status: Extension},
	{Key: "entryPoints.<name>.transport.webSocketPing", Status: Extension},
	{Key: "entryPoints.<name>.http2.readIdleTimeout", Status: Extension},
	{Key: "entryPoints.<name>.http2.pingTimeout", Status: Extension},
	{Key: "pidFile", Status: Extension},

	// Transports.
	{Key: "serversTransport.spiffe", Status: Refused, Note: "SPIFFE needs a SPIRE agent, not available"},
	{Key: "serversTransport.forwardingTimeouts.readIdleTimeout", Status: Extension, Note: "Traefik has it on dynamic serversTransports only"},
	{Key: "serversTransport.forwardingTimeouts.pingTimeout", Status: Extension, Note: "Traefik has it on dynamic serversTransports only"},
	{Key: "serversTransport.forwardingTimeouts.readTimeout", Status: Extension},
	{Key: "serversTransport.forwardingTimeouts.writeTimeout", Status: Extension},
	{Key: "tcpServersTransport.tls.spiffe", Status: Refused, Note: "SPIFFE needs a SPIRE agent, not available"},
	{Key: "tcpServersTransport.tls.serverName", Status: Extension},
	{Key: "tcpServersTransport.tls.certificates", Status: Extension},
	{Key: "tcpServersTransport.tls.peerCertURI", Status: Extension},

	// Providers.
	{Key: "providers.swarm", Status: Refused, Note: "Docker Swarm mode is not supported; run providers.docker against each node's Engine (docs/providers/docker.md)"},
	{Key: "providers.consul.tls.caOptional", Status: NoOp, Note: caOptionalNote},
	{Key: "providers.consulCatalog.endpoint.tls.caOptional", Status: NoOp, Note: caOptionalNote},
	{Key: "providers.consulCatalog.serviceName", Status: NoOp, Note: "only used by Consul Connect (connectAware), which is refused"},
	{Key: "providers.kubernetesCRD.disableClusterScopeResources", Status: NoOp, Note: "the CRD provider reads no cluster-scoped resource"},

	// API.
	{Key: "api.disableDashboardAd", Status: NoOp, Note: "the dashboard shows no advertisement"},

	// Observability.
	{Key: "metrics.otlp", Status: Refused, Note: "no OTLP metrics exporter yet; use metrics.prometheus"},

	// Others.
	{Key: "hostResolver", Status: Refused, Note: "CNAME flattening is not implemented"},
	{Key: "experimental.plugins", Status: Refused, Note: "plugins are not supported"},
	{Key: "experimental.localPlugins", Status: Refused, Note: "plugins are not supported"},
	{Key: "experimental.otlpLogs", Status: Refused, Note: "logs over OTLP are not supported"},
	{Key: "core.defaultRuleSyntax", Status: Refused, Allow: "v3", Note: "only the v3 rule syntax is supported"},
}

// caOptionalNote: Traefik v3 keeps tls.caOptional on TLS clients only for
// compatibility and ignores it.
const caOptionalNote = "deprecated in Traefik v3, which ignores it: client authentication is a server-side option"
