package runtime

import (
	"errors"
	"reflect"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestProblems(t *testing.T) {
	conf := dynamic.New()
	conf.HTTP.Routers["b@file"] = &dynamic.Router{}
	conf.HTTP.Routers["a@file"] = &dynamic.Router{}
	conf.HTTP.Routers["ok@file"] = &dynamic.Router{}
	conf.HTTP.Services["s@file"] = &dynamic.Service{}
	conf.UDP.Services["u@file"] = &dynamic.UDPService{}
	rt := New(conf)
	rt.Routers["b@file"].AddError(errors.New("bad rule"), true)
	rt.Routers["a@file"].AddError(errors.New("unknown entrypoint"), false)
	rt.Services["s@file"].AddError(errors.New("no type"), true)
	rt.UDPServices["u@file"].AddError(errors.New("no servers"), true)

	want := []Problem{
		{Kind: "router", Name: "a@file", Status: StatusWarning, Errors: []string{"unknown entrypoint"}},
		{Kind: "router", Name: "b@file", Status: StatusDisabled, Errors: []string{"bad rule"}},
		{Kind: "service", Name: "s@file", Status: StatusDisabled, Errors: []string{"no type"}},
		{Kind: "udp service", Name: "u@file", Status: StatusDisabled, Errors: []string{"no servers"}},
	}
	if got := rt.Problems(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Problems() =\n%+v\nwant\n%+v", got, want)
	}
}
