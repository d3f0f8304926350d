// Package dashboard serves the embedded web dashboard: one static page and
// a small script that read the public REST API through relative URLs, so it
// works under any API basePath and behind a path-stripping proxy.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var content embed.FS

// Assets returns the dashboard files (index.html, app.js, style.css).
func Assets() fs.FS {
	sub, err := fs.Sub(content, "static")
	if err != nil {
		// Unreachable: "static" is embedded at build time.
		panic("dashboard: embedded assets missing: " + err.Error())
	}
	return sub
}

// Security headers for every dashboard response: the page loads only its own
// files and talks only to its own origin.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

type handler struct {
	base      string // basePath without trailing slash ("" for "/")
	dashboard string // base + "/dashboard/"
	files     http.Handler
}

// New serves the dashboard at basePath + "/dashboard/" and redirects
// basePath, basePath + "/" and basePath + "/dashboard" there with a 302.
// An X-Forwarded-Prefix request header is prepended to the redirect, as in
// Traefik, when it is a plain absolute path.
func New(basePath string) http.Handler {
	base := strings.TrimSuffix(basePath, "/")
	if base != "" && !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	return &handler{
		base:      base,
		dashboard: base + "/dashboard/",
		files:     http.StripPrefix(base+"/dashboard", http.FileServerFS(Assets())),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	redirect := p == h.base || p == h.base+"/" || p == h.base+"/dashboard"
	if !redirect && !strings.HasPrefix(p, h.dashboard) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if redirect {
		http.Redirect(w, r, forwardedPrefix(r)+h.dashboard, http.StatusFound)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	// Revalidate so an upgraded binary's dashboard shows at once.
	hdr.Set("Cache-Control", "no-cache")
	h.files.ServeHTTP(w, r)
}

// forwardedPrefix returns X-Forwarded-Prefix without its trailing slash, or
// "" unless it is a path that cannot turn the redirect into another host
// ("//evil.example", "/\evil.example") or split the header.
func forwardedPrefix(r *http.Request) string {
	p := strings.TrimSuffix(r.Header.Get("X-Forwarded-Prefix"), "/")
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t ") {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return ""
		}
	}
	return p
}
