// Package api serves Switchyard's REST API with Traefik v3's paths and JSON
// shapes: the runtime status of every router, service and middleware, the
// static entrypoints, an overview and the version. The dashboard lives in
// api/dashboard and only uses this public API.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/upgrade"
)

// Version describes the running binary for /api/version.
type Version struct {
	Version   string
	Codename  string
	StartDate time.Time
	// Generation counts binary upgrades: 1 for a process started by hand.
	Generation int
}

// Upgrader starts a binary upgrade and returns once the new process is
// ready (or the upgrade failed). An error wrapping upgrade.ErrBusy is a
// refusal: an upgrade is already under way.
type Upgrader func(ctx context.Context) (upgrade.ReadyMeta, error)

// Handler serves the API under basePath + "/api/". It is safe for concurrent
// use; Update swaps the runtime status atomically, so a request sees one
// configuration from start to end.
type Handler struct {
	prefix      string // basePath without trailing slash, plus "/api/"
	version     []byte // pre-encoded /api/version body
	entryPoints []entryPointRepr
	features    features
	providers   []string
	upgrader    Upgrader // nil: POST /api/upgrade is 404

	snap        atomic.Pointer[snapshot]
	connCounter atomic.Pointer[ConnCounter]
}

// New builds the API handler from the static configuration. Until the first
// Update it serves an empty runtime configuration.
func New(conf *static.Configuration, v Version) *Handler {
	if conf == nil {
		conf = &static.Configuration{}
	}
	basePath := "/"
	if conf.API != nil && conf.API.BasePath != "" {
		basePath = conf.API.BasePath
	}
	h := &Handler{
		prefix:      strings.TrimSuffix(basePath, "/") + "/api/",
		entryPoints: newEntryPoints(conf.EntryPoints),
		features:    newFeatures(conf),
		providers:   newProviders(conf.Providers),
	}
	body, err := encode(versionRepr(v))
	if err != nil {
		// Only a broken time value can fail here; serve it without a date.
		body, _ = encode(versionRepr{Version: v.Version, Codename: v.Codename})
	}
	h.version = body
	h.snap.Store(newSnapshot(nil))
	return h
}

// SetUpgrader enables POST /api/upgrade (a Switchyard extension); call it
// before serving.
func (h *Handler) SetUpgrader(u Upgrader) { h.upgrader = u }

// Update publishes the runtime status of a new configuration. Call it after
// every reload; rt must not be modified afterwards (server statuses excepted,
// they are read under their own lock).
func (h *Handler) Update(rt *runtime.Configuration) {
	h.snap.Store(newSnapshot(rt))
}

// route is one API endpoint: its handler and whether it takes a name.
type route func(h *Handler, s *snapshot, w http.ResponseWriter, r *http.Request, name string)

// listRoutes and itemRoutes map the path below /api/ (without the name) to
// their handlers.
var (
	listRoutes = map[string]route{
		"rawdata":          (*Handler).rawData,
		"overview":         (*Handler).overview,
		"version":          (*Handler).serveVersion,
		"entrypoints":      (*Handler).listEntryPoints,
		"http/routers":     listOf(func(s *snapshot) []routerRepr { return s.routers }),
		"http/services":    listOf(func(s *snapshot) []serviceRepr { return s.services }),
		"http/middlewares": listOf(func(s *snapshot) []middlewareRepr { return s.middlewares }),
		"tcp/routers":      listOf(func(s *snapshot) []tcpRouterRepr { return s.tcpRouters }),
		"tcp/services":     listOf(func(s *snapshot) []tcpServiceRepr { return s.tcpServices }),
		"tcp/middlewares":  listOf(func(s *snapshot) []tcpMiddlewareRepr { return s.tcpMiddlewares }),
		"udp/routers":      listOf(func(s *snapshot) []udpRouterRepr { return s.udpRouters }),
		"udp/services":     listOf(func(s *snapshot) []udpServiceRepr { return s.udpServices }),
		"tls/certificates": (*Handler).listTLSCertificates,
	}
	itemRoutes = map[string]route{
		"entrypoints":      (*Handler).getEntryPoint,
		"http/routers":     itemOf("router", func(s *snapshot) map[string]*runtime.RouterInfo { return s.raw.Routers }, newRouterRepr),
		"http/services":    itemOf("service", func(s *snapshot) map[string]*runtime.ServiceInfo { return s.raw.Services }, newServiceRepr),
		"http/middlewares": itemOf("middleware", func(s *snapshot) map[string]*runtime.MiddlewareInfo { return s.raw.Middlewares }, newMiddlewareRepr),
		"tcp/routers":      itemOf("router", func(s *snapshot) map[string]*runtime.TCPRouterInfo { return s.raw.TCPRouters }, newTCPRouterRepr),
		"tcp/services":     itemOf("service", func(s *snapshot) map[string]*runtime.TCPServiceInfo { return s.raw.TCPServices }, newTCPServiceRepr),
		"tcp/middlewares":  itemOf("middleware", func(s *snapshot) map[string]*runtime.TCPMiddlewareInfo { return s.raw.TCPMiddlewares }, newTCPMiddlewareRepr),
		"udp/routers":      itemOf("router", func(s *snapshot) map[string]*runtime.UDPRouterInfo { return s.raw.UDPRouters }, newUDPRouterRepr),
		"udp/services":     itemOf("service", func(s *snapshot) map[string]*runtime.UDPServiceInfo { return s.raw.UDPServices }, newUDPServiceRepr),
	}
)

// ServeHTTP dispatches on the escaped path so that a name may carry an
// encoded slash ("foo%2Fbar@file"): the name is the last segment, decoded.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, h.prefix) {
		http.NotFound(w, r)
		return
	}
	rest := p[len(h.prefix):]
	if rest == "upgrade" && h.upgrader != nil {
		h.serveUpgrade(w, r)
		return
	}

	var (
		rt      route
		rawName string
	)
	if fn, ok := listRoutes[rest]; ok {
		rt = fn
	} else if i := strings.LastIndexByte(rest, '/'); i > 0 && i < len(rest)-1 {
		if fn, ok := itemRoutes[rest[:i]]; ok {
			rt, rawName = fn, rest[i+1:]
		}
	}
	if rt == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	name := ""
	if rawName != "" {
		var err error
		name, err = url.PathUnescape(rawName)
		if err != nil {
			writeError(w, fmt.Sprintf("unable to decode name %q: %s", rawName, err), http.StatusBadRequest)
			return
		}
	}
	rt(h, h.snap.Load(), w, r, name)
}

// listTLSCertificates serves the certificates of the default store
// (tls.certificates and ACME resolvers): names, notAfter, issuer,
// resolver; an empty list is [].
func (h *Handler) listTLSCertificates(s *snapshot, w http.ResponseWriter, _ *http.Request, _ string) {
	certs := []runtime.TLSCertificateInfo{}
	if s != nil && s.raw != nil {
		certs = append(certs, s.raw.TLSCertificates...)
	}
	writeJSON(w, certs)
}

// serveUpgrade runs a binary upgrade (POST only) and answers with the new
// process's pid and generation: 409 when one is under way, 500 with the
// reason when the new binary failed (this process keeps serving).
func (h *Handler) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	// Not the request's context: a client going away must not abort an
	// upgrade half-way (it is bounded by upgrade.ReadyTimeout).
	ready, err := h.upgrader(context.WithoutCancel(r.Context()))
	switch {
	case errors.Is(err, upgrade.ErrBusy):
		writeError(w, err.Error(), http.StatusConflict)
	case err != nil:
		writeError(w, err.Error(), http.StatusInternalServerError)
	default:
		writeJSON(w, ready)
	}
}

func (h *Handler) serveVersion(_ *snapshot, w http.ResponseWriter, _ *http.Request, _ string) {
	writeBody(w, h.version)
}

func (h *Handler) listEntryPoints(_ *snapshot, w http.ResponseWriter, r *http.Request, _ string) {
	pg, err := paginate(r.URL.Query(), len(h.entryPoints))
	if err != nil {
		writeError(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set(nextPageHeader, strconv.Itoa(pg.next))
	page := make([]entryPointRepr, 0, pg.end-pg.start)
	for _, ep := range h.entryPoints[pg.start:pg.end] {
		page = append(page, h.withConnections(ep))
	}
	writeJSON(w, page)
}

func (h *Handler) getEntryPoint(_ *snapshot, w http.ResponseWriter, _ *http.Request, name string) {
	for _, ep := range h.entryPoints {
		if ep.Name == name {
			writeJSON(w, h.withConnections(ep))
			return
		}
	}
	writeError(w, "entry point not found: "+name, http.StatusNotFound)
}

// listOf serves a list endpoint from the snapshot's name-sorted slice.
func listOf[T listed[T]](all func(*snapshot) []T) route {
	return func(_ *Handler, s *snapshot, w http.ResponseWriter, r *http.Request, _ string) {
		query := r.URL.Query()
		items := filterAndSort(all(s), newCriterion(query), query)
		pg, err := paginate(query, len(items))
		if err != nil {
			writeError(w, err.Error(), http.StatusBadRequest)
			return
		}
		page := items[pg.start:pg.end]
		for i := range page {
			page[i] = page[i].live()
		}
		w.Header().Set(nextPageHeader, strconv.Itoa(pg.next))
		writeJSON(w, page)
	}
}

// itemOf serves one object by qualified name; kind names it in the 404.
func itemOf[I any, T listed[T]](kind string, objects func(*snapshot) map[string]*I, repr func(string, *I) T) route {
	return func(_ *Handler, s *snapshot, w http.ResponseWriter, _ *http.Request, name string) {
		info, ok := objects(s)[name]
		if !ok || info == nil {
			writeError(w, kind+" not found: "+name, http.StatusNotFound)
			return
		}
		writeJSON(w, repr(name, info).live())
	}
}

// apiError is Traefik's error body.
type apiError struct {
	Message string `json:"message"`
}

// writeError answers like Traefik: a {"message": ...} body sent as plain
// text by http.Error.
func writeError(w http.ResponseWriter, msg string, code int) {
	body, err := json.Marshal(apiError{Message: msg})
	if err != nil {
		http.Error(w, msg, code)
		return
	}
	http.Error(w, string(body), code)
}

// writeJSON encodes v fully before writing, so that an encoding failure can
// still become a clean 500.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := encode(v)
	if err != nil {
		slog.Error("api: encoding response", "error", err)
		writeError(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, body)
}

func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// encode marshals like json.Encoder (trailing newline, no HTML escaping of
// rules such as "Host(`a`) && Path(`/b`)").
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
