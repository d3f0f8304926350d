// Package entrypointredirect is the handler behind the static option
// entryPoints.<name>.http.redirections.entryPoint: every request on the
// entrypoint is redirected to the target scheme and port.
package entrypointredirect

import (
	"net"
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/middlewares/redirectscheme"
)

// New returns the redirecting handler. port is already resolved by the
// caller (the target entrypoint's port, or a literal "443", ":443" or
// "host:443"); scheme defaults to "https". permanent gives 301 (308 for
// methods other than GET), else 302 (307).
//
// Like Traefik's generated redirect router, a request already on the
// target scheme and port is not redirected: it gets an empty 200. An invalid
// scheme or port yields a handler answering 500, so a mistake shows at once.
func New(scheme, port string, permanent bool) http.Handler {
	if scheme == "" {
		scheme = "https"
	}
	h, err := redirectscheme.Wrap(scheme, normalizePort(port), permanent, noop)
	if err != nil {
		msg := "entrypoint redirection: " + err.Error()
		return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			http.Error(rw, msg, http.StatusInternalServerError)
		})
	}
	return h
}

// Validate reports whether New would build a working redirection, for
// callers that want the error at configuration time.
func Validate(scheme, port string) error {
	if scheme == "" {
		scheme = "https"
	}
	_, err := redirectscheme.Wrap(scheme, normalizePort(port), false, noop)
	return err
}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// normalizePort keeps the port of "host:port" or ":port".
func normalizePort(port string) string {
	port = strings.TrimSpace(port)
	if _, p, err := net.SplitHostPort(port); err == nil {
		return p
	}
	return port
}
