package api

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/api/dashboard"
)

// NewDashboard serves the embedded dashboard at basePath + "/dashboard/" and
// redirects basePath + "/" and basePath + "/dashboard" there (302).
func NewDashboard(basePath string) http.Handler { return dashboard.New(basePath) }

// WithDashboard returns the handler behind the api@internal service: the API
// for paths under basePath + "/api/", dashboard (when non-nil) for the rest.
func (h *Handler) WithDashboard(d http.Handler) http.Handler {
	if d == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.EscapedPath(), h.prefix) {
			h.ServeHTTP(w, r)
			return
		}
		d.ServeHTTP(w, r)
	})
}
