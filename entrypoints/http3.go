package entrypoints

import (
	"context"
	ctls "crypto/tls"
	"net/http"
	"sync"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

type http3Server struct{}

func (ep *HTTPEntryPoint) startHTTP3(context.Context, http.Handler) error { return nil }
func (s *http3Server) shutdown(context.Context)                           {}
func (ep *HTTPEntryPoint) altSvc(h http.Handler) http.Handler             { return h }

var (
	fallbackOnce sync.Once
	fallbackCfg  *ctls.Config
)

// fallbackTLS serves the generated default certificate before the first
// configuration arrives.
func fallbackTLS() *ctls.Config {
	fallbackOnce.Do(func() {
		fallbackCfg, _ = sytls.BuildOptions(dynamic.TLSOptions{}, sytls.NewStore())
	})
	return fallbackCfg
}
