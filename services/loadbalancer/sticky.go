package loadbalancer

import (
	"crypto/sha1"
	"encoding/hex"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Cookie is the sticky cookie of a balancer, resolved from its configuration.
type Cookie struct {
	Name     string
	Secure   bool
	HTTPOnly bool
	SameSite string // "", "none", "lax" or "strict"
	MaxAge   int
	Path     string
	Domain   string
}

// NewCookie resolves a sticky cookie configuration; an empty name becomes
// "_" and 6 hex digits of the SHA-1 of the service name, as Traefik derives
// it, so nested sticky services use distinct cookies.
func NewCookie(c *dynamic.Cookie, service string) *Cookie {
	out := &Cookie{Path: "/"}
	if c != nil {
		out.Name, out.Secure, out.HTTPOnly, out.MaxAge, out.Domain = c.Name, c.Secure, c.HTTPOnly, c.MaxAge, c.Domain
		out.SameSite = strings.ToLower(c.SameSite)
		if c.Path != nil {
			out.Path = *c.Path
		}
	}
	if out.Name == "" {
		sum := sha1.Sum([]byte(service)) // Traefik's derivation: same default name after a migration
		out.Name = "_" + hex.EncodeToString(sum[:])[:6]
	}
	return out
}

// cookieValue is a server's sticky value: a hash of its name, so the value
// is the same in every process and across reloads, and hides backend URLs.
func cookieValue(name string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return strconv.FormatUint(h.Sum64(), 16)
}

// header is the whole Set-Cookie value pinning a client to value, built once.
func (c *Cookie) header(value string) string {
	hc := &http.Cookie{Name: c.Name, Value: value, Path: c.Path, Domain: c.Domain, Secure: c.Secure, HttpOnly: c.HTTPOnly}
	if c.MaxAge > 0 {
		hc.MaxAge = c.MaxAge
	} else if c.MaxAge < 0 {
		hc.MaxAge = -1
	}
	switch c.SameSite {
	case "none":
		hc.SameSite = http.SameSiteNoneMode
	case "lax":
		hc.SameSite = http.SameSiteLaxMode
	case "strict":
		hc.SameSite = http.SameSiteStrictMode
	}
	return hc.String()
}

// stickyServer returns the up server the request's cookie names, or nil.
func (b *Balancer) stickyServer(r *http.Request) *Server {
	m := b.byCookie.Load()
	if m == nil {
		return nil
	}
	v, ok := cookieFrom(r, b.opts.Sticky.Name)
	if !ok {
		return nil
	}
	return (*m)[v]
}

// cookieFrom finds one cookie without parsing (and allocating) all of them.
func cookieFrom(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if ok && strings.TrimSpace(k) == name {
				return strings.Trim(strings.TrimSpace(v), `"`), true
			}
		}
	}
	return "", false
}
