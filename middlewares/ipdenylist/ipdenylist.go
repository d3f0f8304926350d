// Package ipdenylist rejects requests from listed source ranges: the
// reverse of ipallowlist, with the same options.
package ipdenylist

import (
	"net/http"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/ipallowlist"
)

// Setup validates cfg and returns the deny-list wrapper.
func Setup(cfg *dynamic.IPDenyList) (func(http.Handler) http.Handler, error) {
	f, err := ipallowlist.NewFilter((*dynamic.IPAllowList)(cfg), true)
	if err != nil {
		return nil, err
	}
	return f.Wrap, nil
}
