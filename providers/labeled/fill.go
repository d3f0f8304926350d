package labeled

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/redact"
	"github.com/switchyard-proxy/switchyard/providers/labels"
)

// Instance is one labelled instance (a Consul service instance, a
// container) as the shared code sees it.
type Instance struct {
	// Service is the default service and router name (normalized).
	Service string
	// Where names the instance in errors: `Consul service "a", instance "b"`.
	Where string
	// Noun is what the labels are called in errors: "tag" or "label".
	Noun string
	// Labels are the instance's labels (tags as key=value for Consul).
	Labels map[string]string
	// Address returns the instance's host:port for the port a label asked
	// for ("" = the instance's own port); an error leaves the service out.
	// Nil: the instance has no server (allowEmptyServices with an unhealthy
	// container): its services are kept with no servers.
	Address func(port string) (string, error)
	// Rule renders the defaultRule for a router without a rule.
	Rule func() (string, error)
}

// Enabled reads root.enable (first root that has it); a value that is not
// a boolean is an error. def applies when no root has the label.
func Enabled(lbls map[string]string, roots []string, def bool) (bool, error) {
	for _, root := range roots {
		for k, v := range lbls {
			if strings.EqualFold(k, root+".enable") {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return false, fmt.Errorf("%s: not a boolean", redact.Text(k, v))
				}
				return b, nil
			}
		}
	}
	return def, nil
}

// Own splits a label into its root and the rest ("traefik.docker.network"
// → "docker.network"); ok is false for labels under none of roots.
func Own(key string, roots []string) (rest string, ok bool) {
	for _, root := range roots {
		if len(key) > len(root) && strings.EqualFold(key[:len(root)+1], root+".") {
			return key[len(root)+1:], true
		}
	}
	return "", false
}

// Build decodes the instance's labels under roots, except `enable` and
// the provider's own labels (skip: "consulcatalog.", "docker." …), and
// fills in Traefik's defaults: a service named after the instance with the
// instance as its server, a router with the default rule, routers without
// a service pointed at the only one. Every decode error is a problem on the
// object it concerns (an object that does not decode is left out; an error
// outside any object is a warning on the instance's service).
func Build(in Instance, roots []string, skip ...string) (*dynamic.Configuration, []dynamic.ObjectProblem) {
	lbls := make(map[string]string, len(in.Labels))
	for k, v := range in.Labels {
		if rest, ok := Own(k, roots); ok {
			lr := strings.ToLower(rest)
			if lr == "enable" || hasAnyPrefix(lr, skip) {
				continue
			}
			lbls[k] = v
		}
	}
	var problems []dynamic.ObjectProblem
	conf, errs := labels.Decode(labels.ParseLabels(lbls, roots...), labels.LabelMode)
	for _, err := range errs {
		if pr, ok := labels.Problem(err, in.Where, func(oe *labels.ObjectError) string {
			return in.Noun + " " + redact.Text(oe.Key, lbls[oe.Key])
		}); ok {
			problems = append(problems, pr)
			continue
		}
		problems = append(problems, dynamic.ObjectProblem{Kind: "service", Name: in.Service, Warning: true,
			Error: fmt.Sprintf("%s: %ss: %v", in.Where, in.Noun, err)})
	}
	hasTCP := conf.TCP != nil && (len(conf.TCP.Routers) > 0 || len(conf.TCP.Services) > 0)
	hasUDP := conf.UDP != nil && (len(conf.UDP.Routers) > 0 || len(conf.UDP.Services) > 0)
	addr := func(kind, name, port string) (string, bool) {
		a, err := in.Address(port)
		if err != nil {
			problems = append(problems, dynamic.ObjectProblem{Kind: kind, Name: name,
				Error: fmt.Sprintf("%s: %v", in.Where, err)})
			return "", false
		}
		return a, true
	}

	if hasTCP {
		if len(conf.TCP.Services) == 0 {
			conf.TCP.Services = map[string]*dynamic.TCPService{in.Service: {LoadBalancer: &dynamic.TCPServersLoadBalancer{}}}
		}
		for sn, s := range conf.TCP.Services {
			if s.LoadBalancer == nil {
				continue
			}
			port := ""
			if len(s.LoadBalancer.Servers) > 0 {
				port = s.LoadBalancer.Servers[0].Port
			}
			s.LoadBalancer.Servers = nil
			if in.Address == nil {
				continue
			}
			a, ok := addr("tcp service", sn, port)
			if !ok {
				delete(conf.TCP.Services, sn)
				continue
			}
			s.LoadBalancer.Servers = []dynamic.TCPServer{{Address: a}}
		}
		for rn, r := range conf.TCP.Routers {
			if r.Service == "" {
				if len(conf.TCP.Services) != 1 {
					problems = append(problems, dynamic.ObjectProblem{Kind: "tcp router", Name: rn,
						Error: in.Where + ": no service and several to choose from"})
					delete(conf.TCP.Routers, rn)
					continue
				}
				for sn := range conf.TCP.Services {
					r.Service = sn
				}
			}
		}
	}
	if hasUDP {
		if len(conf.UDP.Services) == 0 {
			conf.UDP.Services = map[string]*dynamic.UDPService{in.Service: {LoadBalancer: &dynamic.UDPServersLoadBalancer{}}}
		}
		for sn, s := range conf.UDP.Services {
			if s.LoadBalancer == nil {
				continue
			}
			port := ""
			if len(s.LoadBalancer.Servers) > 0 {
				port = s.LoadBalancer.Servers[0].Port
			}
			s.LoadBalancer.Servers = nil
			if in.Address == nil {
				continue
			}
			a, ok := addr("udp service", sn, port)
			if !ok {
				delete(conf.UDP.Services, sn)
				continue
			}
			s.LoadBalancer.Servers = []dynamic.UDPServer{{Address: a}}
		}
		for _, r := range conf.UDP.Routers {
			if r.Service == "" && len(conf.UDP.Services) == 1 {
				for sn := range conf.UDP.Services {
					r.Service = sn
				}
			}
		}
	}
	// HTTP unless the labels ask only for TCP/UDP.
	if (hasTCP || hasUDP) && (conf.HTTP == nil || len(conf.HTTP.Routers)+len(conf.HTTP.Services)+len(conf.HTTP.Middlewares) == 0) {
		return conf, problems
	}
	if conf.HTTP == nil {
		conf.HTTP = &dynamic.HTTPConfiguration{}
	}
	h := conf.HTTP
	var gone []string // services left out for want of an address
	if len(h.Services) == 0 {
		h.Services = map[string]*dynamic.Service{in.Service: {LoadBalancer: &dynamic.ServersLoadBalancer{}}}
	}
	for sn, s := range h.Services {
		if s.LoadBalancer == nil {
			continue
		}
		srv := dynamic.Server{Scheme: "http"}
		if len(s.LoadBalancer.Servers) > 0 {
			srv = s.LoadBalancer.Servers[0]
		}
		if srv.Scheme == "" {
			srv.Scheme = "http"
		}
		s.LoadBalancer.Servers = nil
		if in.Address == nil {
			continue
		}
		a, ok := addr("service", sn, srv.Port)
		if !ok {
			delete(h.Services, sn)
			gone = append(gone, sn)
			continue
		}
		srv.URL = srv.Scheme + "://" + a
		s.LoadBalancer.Servers = []dynamic.Server{srv}
	}
	if len(h.Routers) == 0 {
		h.Routers = map[string]*dynamic.Router{in.Service: {}}
	}
	for rn, r := range h.Routers {
		if r.Rule == "" {
			rule, err := in.Rule()
			if err != nil {
				problems = append(problems, dynamic.ObjectProblem{Kind: "router", Name: rn,
					Error: fmt.Sprintf("%s: defaultRule: %v", in.Where, err)})
				delete(h.Routers, rn)
				continue
			}
			r.Rule = rule
		}
		if r.Service == "" && len(h.Services) == 0 && len(gone) == 1 {
			r.Service = gone[0] // shown with its service's problem
		}
		if r.Service == "" {
			if len(h.Services) != 1 {
				problems = append(problems, dynamic.ObjectProblem{Kind: "router", Name: rn,
					Error: in.Where + ": no service and several to choose from"})
				delete(h.Routers, rn)
				continue
			}
			for sn := range h.Services {
				r.Service = sn
			}
		}
	}
	return conf, problems
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
