package ipallowlist

import (
	"net"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestAllow(t *testing.T) {
	allow, err := New(&dynamic.TCPIPAllowList{SourceRange: []string{"127.0.0.1/32", "::1"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	deny, _ := New(&dynamic.TCPIPAllowList{SourceRange: []string{"127.0.0.1"}}, true)
	for _, tc := range []struct {
		addr        net.Addr
		allow, deny bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5}, true, false},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 5}, true, true},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 5}, false, true},
		{nil, false, false},
	} {
		if got := allow.AllowAddr(tc.addr); got != tc.allow {
			t.Errorf("allow %v: %v", tc.addr, got)
		}
		if got := deny.AllowAddr(tc.addr); got != tc.deny {
			t.Errorf("deny %v: %v", tc.addr, got)
		}
	}
	for _, cfg := range []*dynamic.TCPIPAllowList{nil, {}, {SourceRange: []string{"x"}}} {
		if _, err := New(cfg, false); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
