package compat

// Dynamic is the table of the dynamic configuration (config/dynamic), as
// Static. Refused options are checked where each object is built: the
// object is disabled with an error naming the option.
var Dynamic = []Entry{
	{Key: "http.serversTransports.<name>.forwardingTimeouts.readTimeout", Status: Extension},
	{Key: "http.serversTransports.<name>.forwardingTimeouts.writeTimeout", Status: Extension},
	{Key: "http.middlewares.<name>.rateLimit.redis.minIdleConns", Status: Refused, Note: "not implemented yet"},
	{Key: "http.middlewares.<name>.rateLimit.redis.maxActiveConns", Status: Refused, Note: "not implemented yet"},
	{Key: "http.middlewares.<name>.rateLimit.redis.writeTimeout", Status: Refused, Note: "not implemented yet"},
	{Key: "tcp.services.<name>.weighted.healthCheck", Status: Refused, Note: "propagating the children's TCP health to a weighted parent is not implemented (loadBalancer.healthCheck is)"},
	{Key: "http.middlewares.<name>.forwardAuth.tls.caOptional", Status: NoOp, Note: caOptionalNote},
	{Key: "http.middlewares.<name>.rateLimit.redis.tls.caOptional", Status: NoOp, Note: caOptionalNote},
	{Key: "http.middlewares.<name>.stripPrefix.forceSlash", Status: NoOp, Note: "deprecated in Traefik v3, which ignores it: the stripped path always starts with /"},
	{Key: "tls.options.<name>.preferServerCipherSuites", Status: NoOp, Note: "ignored by Go's TLS stack, as in Traefik"},
	{Key: "tls.stores.<name>.defaultGeneratedCert", Status: Refused, Note: "a default certificate from a resolver is not supported; set tls.stores.<name>.defaultCertificate"},
}
