package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/providers/aggregator"
	"github.com/switchyard-proxy/switchyard/providers/builtin"
	"github.com/switchyard-proxy/switchyard/providers/file"
	"github.com/switchyard-proxy/switchyard/routers/builder"
)

// runCheck validates the static configuration, decodes the file
// provider's dynamic files and compiles them as the server would, then
// reports every object error. It serves nothing.
func runCheck(cfg *cmdConfig, src *source) error {
	sc, _, err := prepare(cfg, src)
	if err != nil {
		return err
	}
	confs := dynamic.Configurations{}
	ic, err := builtin.Configuration(sc)
	if err != nil {
		return err
	}
	confs[builtin.ProviderName] = ic
	// Every configured provider's static options are validated (Init
	// contacts nothing); the file provider's files are also compiled.
	provs, err := configuredProviders(sc)
	if err != nil {
		return err
	}
	for _, p := range provs {
		if fp, ok := p.(*file.Provider); ok {
			dc, err := fp.LoadOnce()
			if err != nil {
				return err
			}
			confs["file"] = dc
		}
	}
	stub := http.NotFoundHandler()
	services := builder.NewServiceManager(sc.ServersTransport)
	services.NoHealthChecks = true // check contacts no backend
	deps := builder.Deps{
		EntryPoints: sc.EntryPoints,
		Internal:    map[string]http.Handler{builtin.ServiceNoop: stub},
		Services:    services,
	}
	for name := range sc.CertificatesResolvers {
		if deps.CertResolvers == nil {
			deps.CertResolvers = map[string]bool{}
		}
		deps.CertResolvers[name] = true
	}
	if sc.API != nil {
		deps.Internal[builtin.ServiceAPI] = stub
		deps.Internal[builtin.ServiceDashboard] = stub
	}
	if sc.Ping != nil {
		deps.Internal[builtin.ServicePing] = stub
	}
	if sc.Metrics != nil && sc.Metrics.Prometheus != nil {
		deps.Internal[builtin.ServicePrometheus] = stub
	}
	_, rt := builder.Build(aggregator.Merge(confs), deps)
	defer deps.Services.Close()

	var problems []string
	for _, p := range rt.Problems() {
		for _, e := range p.Errors {
			problems = append(problems, fmt.Sprintf("%s %q: %s", p.Kind, p.Name, e))
		}
	}
	problems = append(problems, rt.TLSErrors...)
	if len(problems) > 0 {
		return errors.New("configuration has errors:\n  " + strings.Join(problems, "\n  "))
	}
	where := "configuration"
	if src.file != "" {
		where = src.file
	}
	fmt.Printf("%s: OK (%d routers, %d services, %d middlewares)\n", where, len(rt.Routers), len(rt.Services), len(rt.Middlewares))
	return nil
}
