package builder

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/services/udpsvc"
)

// UDPHandler is what a UDP entrypoint asks for each new client session:
// the address of the backend that session sticks to.
type UDPHandler interface {
	NextAddr() string
}

type udpSvcResult struct {
	h   UDPHandler
	err error
}

// udpRouters compiles the UDP routers: one service per UDP entrypoint.
// UDP routers have no rule, so a second router on an entrypoint is an
// error on that router.
func (b *build) udpRouters() map[string]UDPHandler {
	out := map[string]UDPHandler{}
	owner := map[string]string{}
	var all []string
	for name, ep := range b.deps.EntryPoints {
		if proto, _ := ep.Network(); proto == "udp" {
			all = append(all, name)
		}
	}
	slices.Sort(all)
	for _, name := range slices.Sorted(maps.Keys(b.rt.UDPRouters)) {
		info := b.rt.UDPRouters[name]
		r := info.UDPRouter
		if r.Service == "" {
			info.AddError(errors.New("router has no service"), true)
			continue
		}
		eps := r.EntryPoints
		if len(eps) == 0 {
			eps = all
		}
		var valid []string
		for _, ep := range eps {
			if !slices.Contains(all, ep) {
				info.AddError(fmt.Errorf("entryPoint %q doesn't exist or is not a UDP entrypoint", ep), false)
				continue
			}
			if o, taken := owner[ep]; taken {
				info.AddError(fmt.Errorf("entryPoint %q is already served by UDP router %q", ep, o), false)
				continue
			}
			valid = append(valid, ep)
		}
		if len(valid) == 0 {
			info.AddError(errors.New("no valid entryPoint for this router"), true)
			continue
		}
		h, err := b.udpService(r.Service, nil)
		if err != nil {
			info.AddError(err, true)
			continue
		}
		for _, ep := range valid {
			out[ep] = h
			owner[ep] = name
		}
		info.Using = valid
		b.markUDPServiceUsed(r.Service, name)
	}
	return out
}

func (b *build) markUDPServiceUsed(name, by string) {
	info, ok := b.rt.UDPServices[name]
	if !ok || !b.firstUse("udp service", name, by) {
		return
	}
	info.UsedBy = append(info.UsedBy, by)
	if w := info.Weighted; w != nil {
		for _, c := range w.Services {
			b.markUDPServiceUsed(c.Name, name)
		}
	}
}

func (b *build) udpService(name string, stack []string) (UDPHandler, error) {
	if res, ok := b.edge.udpSvcs[name]; ok {
		return res.h, res.err
	}
	if len(stack) >= MaxNesting {
		return nil, nestingError("service", name, stack)
	}
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("service %q: recursion detected: %s", name, strings.Join(append(stack, name), " -> "))
	}
	info, ok := b.rt.UDPServices[name]
	if !ok {
		return nil, fmt.Errorf("service %q does not exist", name)
	}
	h, err := b.buildUDPService(info.UDPService, append(stack, name))
	if err != nil {
		info.AddError(err, true)
		err = fmt.Errorf("service %q: %w", name, err)
	}
	b.edge.udpSvcs[name] = udpSvcResult{h: h, err: err}
	return h, err
}

func (b *build) buildUDPService(s *dynamic.UDPService, stack []string) (UDPHandler, error) {
	var ps []udpsvc.Picker
	var ws []int
	switch {
	case s == nil || (s.LoadBalancer == nil && s.Weighted == nil):
		return nil, errors.New("service has no loadBalancer or weighted section")
	case s.LoadBalancer != nil && s.Weighted != nil:
		return nil, errors.New("service has both loadBalancer and weighted sections")
	case s.Weighted != nil:
		for _, c := range s.Weighted.Services {
			h, err := b.udpService(c.Name, stack)
			if err != nil {
				return nil, err
			}
			ps = append(ps, h)
			ws = append(ws, weight(c.Weight))
		}
	default:
		for i, srv := range s.LoadBalancer.Servers {
			if _, port, err := net.SplitHostPort(srv.Address); err != nil || port == "" {
				return nil, fmt.Errorf("servers[%d]: invalid address %q: want host:port", i, srv.Address)
			}
			ps = append(ps, udpsvc.Addr(srv.Address))
			ws = append(ws, weight(srv.Weight))
		}
	}
	if len(ps) == 0 {
		return nil, errors.New("service has no servers")
	}
	if len(ps) == 1 {
		return ps[0], nil
	}
	return udpsvc.NewWRR(ps, ws), nil
}
