// Package contenttype sets Content-Type, when the backend sent none, to the
// type sniffed from the first bytes of the body (Switchyard, like Traefik
// v3, never sniffs otherwise).
package contenttype

import (
	"net/http"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup returns the wrapper. autoDetect: false (a Traefik v2 leftover)
// makes the middleware a no-op.
func Setup(cfg *dynamic.ContentType) (func(http.Handler) http.Handler, error) {
	if cfg != nil && cfg.AutoDetect != nil && !*cfg.AutoDetect {
		return func(next http.Handler) http.Handler { return next }, nil
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &sniffer{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if !sw.wrote && sw.code != 0 {
				w.WriteHeader(sw.code)
			}
		})
	}, nil
}

// sniffer holds the status until the first body bytes are known.
type sniffer struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *sniffer) WriteHeader(code int) {
	if s.wrote {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		s.ResponseWriter.WriteHeader(code)
		return
	}
	if s.code == 0 {
		s.code = code
	}
}

func (s *sniffer) Write(b []byte) (int, error) {
	if !s.wrote {
		s.wrote = true
		// A nil entry (how the proxy stops net/http from sniffing) counts
		// as absent: sniffing is what this middleware is for.
		if len(s.Header()["Content-Type"]) == 0 && len(b) > 0 && s.Header().Get("Content-Encoding") == "" {
			s.Header().Set("Content-Type", http.DetectContentType(b))
		}
		if s.code == 0 {
			s.code = http.StatusOK
		}
		s.ResponseWriter.WriteHeader(s.code)
	}
	return s.ResponseWriter.Write(b)
}

func (s *sniffer) Flush() {
	if !s.wrote {
		s.wrote = true
		if s.code == 0 {
			s.code = http.StatusOK
		}
		s.ResponseWriter.WriteHeader(s.code)
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *sniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }
