package dynamic

// The Gateway API filters (HTTPRoute and GRPCRoute) as middlewares. Only the
// Kubernetes Gateway provider sets them, as Traefik does: they are never read
// from files, labels or KV (their tags say so), but the API shows them.

// HeaderModifier is a RequestHeaderModifier or ResponseHeaderModifier
// filter: headers set (replaced), added (appended to what is there) and
// removed, in that order of precedence: remove, then set, then add.
type HeaderModifier struct {
	Set    map[string]string `json:"set,omitempty" toml:"-" yaml:"-" export:"true"`
	Add    map[string]string `json:"add,omitempty" toml:"-" yaml:"-" export:"true"`
	Remove []string          `json:"remove,omitempty" toml:"-" yaml:"-" export:"true"`
}

// RequestRedirect is a RequestRedirect filter: the parts given replace the
// request's own in the Location; StatusCode is 301 or 302 (default 302).
type RequestRedirect struct {
	Scheme   *string `json:"scheme,omitempty" toml:"-" yaml:"-" export:"true"`
	Hostname *string `json:"hostname,omitempty" toml:"-" yaml:"-" export:"true"`
	// Port replaces the port; nil: the scheme's default when the scheme
	// changes, else the request's port (omitted when it is the scheme's
	// default, as the Gateway API requires).
	Port *int32 `json:"port,omitempty" toml:"-" yaml:"-" export:"true"`
	PathModifier
	StatusCode int `json:"statusCode,omitempty" toml:"-" yaml:"-" export:"true"`
}

// URLRewrite is a URLRewrite filter: the request's Host and path are
// rewritten before it is forwarded.
type URLRewrite struct {
	Hostname *string `json:"hostname,omitempty" toml:"-" yaml:"-" export:"true"`
	PathModifier
}

// PathModifier is the path part of a redirect or rewrite: a full path
// replacement, or the replacement of the matched prefix (MatchedPrefix) by
// ReplacePrefixMatch.
type PathModifier struct {
	ReplaceFullPath    *string `json:"replaceFullPath,omitempty" toml:"-" yaml:"-" export:"true"`
	ReplacePrefixMatch *string `json:"replacePrefixMatch,omitempty" toml:"-" yaml:"-" export:"true"`
	MatchedPrefix      string  `json:"matchedPrefix,omitempty" toml:"-" yaml:"-" export:"true"`
}
