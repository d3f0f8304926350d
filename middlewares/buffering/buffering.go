// Package buffering reads the whole request (and response) body before
// passing it on: oxy's buffer, which spills to disk past the memory limits,
// refuses bodies over the maximums and can replay a request on a
// retryExpression.
package buffering

import (
	"fmt"
	"net/http"

	"github.com/vulcand/oxy/v2/buffer"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Setup validates cfg and returns the wrapper. Zero maximums mean no limit;
// zero memory limits use oxy's defaults (1 MiB).
func Setup(cfg *dynamic.Buffering) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		cfg = &dynamic.Buffering{}
	}
	for name, v := range map[string]int64{
		"maxRequestBodyBytes": cfg.MaxRequestBodyBytes, "memRequestBodyBytes": cfg.MemRequestBodyBytes,
		"maxResponseBodyBytes": cfg.MaxResponseBodyBytes, "memResponseBodyBytes": cfg.MemResponseBodyBytes,
	} {
		if v < 0 {
			return nil, fmt.Errorf("%s must not be negative, got %d", name, v)
		}
	}
	var opts []buffer.Option
	if cfg.MaxRequestBodyBytes > 0 {
		opts = append(opts, buffer.MaxRequestBodyBytes(cfg.MaxRequestBodyBytes))
	}
	if cfg.MemRequestBodyBytes > 0 {
		opts = append(opts, buffer.MemRequestBodyBytes(cfg.MemRequestBodyBytes))
	}
	if cfg.MaxResponseBodyBytes > 0 {
		opts = append(opts, buffer.MaxResponseBodyBytes(cfg.MaxResponseBodyBytes))
	}
	if cfg.MemResponseBodyBytes > 0 {
		opts = append(opts, buffer.MemResponseBodyBytes(cfg.MemResponseBodyBytes))
	}
	if cfg.RetryExpression != "" {
		opts = append(opts, buffer.Retry(cfg.RetryExpression))
	}
	// Validate now: the per-router buffers below cannot fail then.
	if _, err := buffer.New(http.NotFoundHandler(), opts...); err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		b, err := buffer.New(explicitStatus(next), opts...)
		if err != nil {
			// Unreachable: the same options were accepted above.
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "buffering misconfigured", http.StatusInternalServerError)
			})
		}
		return b
	}, nil
}

// explicitStatus makes every response call WriteHeader: oxy's buffer keeps
// the status it was given and would send 0 for an implicit 200.
func explicitStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if !sw.wrote {
			sw.WriteHeader(http.StatusOK)
		}
		// oxy fails on an empty body it was not told about; its header
		// map is only copied out after this returns.
		if sw.n == 0 && w.Header().Get("Content-Length") == "" {
			w.Header().Set("Content-Length", "0")
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	wrote bool
	n     int
}

func (s *statusWriter) WriteHeader(code int) {
	if code >= 200 {
		s.wrote = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.n += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
