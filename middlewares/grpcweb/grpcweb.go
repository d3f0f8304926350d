// Package grpcweb lets browsers call gRPC services: it turns gRPC-Web
// requests (binary or base64 "text" mode) into gRPC ones and the gRPC
// response trailers into the trailer frame gRPC-Web clients read. It
// answers CORS preflights for the allowed origins. Other requests pass
// untouched. (Own code: oxy has no gRPC-Web support.)
package grpcweb

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

const (
	ctGRPC    = "application/grpc"
	ctWeb     = "application/grpc-web"
	ctWebText = "application/grpc-web-text"
)

type grpcWeb struct {
	next      http.Handler
	anyOrigin bool
	origins   []string
}

// Setup returns the wrapper; allowOrigins lists the origins CORS allows
// ("*" for any).
func Setup(cfg *dynamic.GrpcWeb) (func(http.Handler) http.Handler, error) {
	g := grpcWeb{}
	if cfg != nil {
		for _, o := range cfg.AllowOrigins {
			if o == "*" {
				g.anyOrigin = true
			}
			g.origins = append(g.origins, strings.ToLower(o))
		}
	}
	return func(next http.Handler) http.Handler {
		h := g
		h.next = next
		return &h
	}, nil
}

func (g *grpcWeb) originAllowed(o string) bool {
	return o != "" && (g.anyOrigin || slices.Contains(g.origins, strings.ToLower(o)))
}

func (g *grpcWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !g.originAllowed(origin) || !strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Request-Headers")), "x-grpc-web") &&
			!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Request-Headers")), "content-type") {
			g.next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
		w.WriteHeader(http.StatusOK)
		return
	}
	ct := r.Header.Get("Content-Type")
	if r.Method != http.MethodPost || !strings.HasPrefix(ct, ctWeb) {
		g.next.ServeHTTP(w, r)
		return
	}
	text := strings.HasPrefix(ct, ctWebText)
	suffix := strings.TrimPrefix(strings.TrimPrefix(ct, ctWebText), ctWeb) // "", "+proto", ...
	r.Header.Set("Content-Type", ctGRPC+suffix)
	r.Header.Set("Te", "trailers")
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	r.ProtoMajor, r.ProtoMinor, r.Proto = 2, 0, "HTTP/2.0"
	if text && r.Body != nil {
		r.Body = struct {
			io.Reader
			io.Closer
		}{base64.NewDecoder(base64.StdEncoding, &skipNewlines{r: r.Body}), r.Body}
	}
	if g.originAllowed(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "grpc-status, grpc-message, grpc-status-details-bin")
		w.Header().Add("Vary", "Origin")
	}
	respCT := ctWeb + suffix
	if text {
		respCT = ctWebText + suffix
	}
	rw := &writer{rw: w, header: http.Header{}, ct: respCT, text: text}
	g.next.ServeHTTP(rw, r)
	rw.finish()
}

type skipNewlines struct{ r io.Reader }

func (s *skipNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// writer turns the gRPC response into a gRPC-Web one.
type writer struct {
	rw       http.ResponseWriter
	header   http.Header
	ct       string
	text     bool
	wrote    bool
	trailers []string
	enc      io.WriteCloser // base64 encoder in text mode
}

func (w *writer) Header() http.Header { return w.header }

func (w *writer) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	dst := w.rw.Header()
	for k, v := range w.header {
		if k == "Trailer" {
			for _, t := range v {
				for _, f := range strings.Split(t, ",") {
					if f = strings.TrimSpace(f); f != "" {
						w.trailers = append(w.trailers, http.CanonicalHeaderKey(f))
					}
				}
			}
			continue
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		dst[k] = v
	}
	dst.Set("Content-Type", w.ct)
	dst.Del("Content-Length")
	w.rw.WriteHeader(code)
}

func (w *writer) out() io.Writer {
	if !w.text {
		return w.rw
	}
	if w.enc == nil {
		w.enc = base64.NewEncoder(base64.StdEncoding, w.rw)
	}
	return w.enc
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.out().Write(b)
}

func (w *writer) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.rw).Flush()
}

func (w *writer) finish() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	var buf strings.Builder
	add := func(k string, vals []string) {
		for _, v := range vals {
			buf.WriteString(strings.ToLower(k))
			buf.WriteString(": ")
			buf.WriteString(v)
			buf.WriteString("\r\n")
		}
	}
	for _, k := range w.trailers {
		add(k, w.header[k])
	}
	for k, v := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			add(strings.TrimPrefix(k, http.TrailerPrefix), v)
		}
	}
	if buf.Len() > 0 {
		frame := make([]byte, 5, 5+buf.Len())
		frame[0] = 0x80
		binary.BigEndian.PutUint32(frame[1:], uint32(buf.Len()))
		frame = append(frame, buf.String()...)
		_, _ = w.out().Write(frame)
	}
	if w.enc != nil {
		_ = w.enc.Close()
	}
}
