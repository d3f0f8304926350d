package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	pfile "github.com/traefik/paerser/file"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// TestCertificateRefreshNeverRevertsUpdate reproduces issue 13's defect 5
// deterministically on the real server wiring: a certificate change (the
// ACME manager's OnChange) lands while a provider update is being applied.
// The old side path read the last configuration, unlocked, and rebuilt
// it, so the update that landed in between was overwritten and (the file
// provider does not resend an unchanged file) stayed lost. Now the refresh
// goes through the watcher, which rebuilds from its newest state: after
// the dust settles the API shows the newest configuration.
func TestCertificateRefreshNeverRevertsUpdate(t *testing.T) {
	cfg := newCmdConfig()
	static := `
entryPoints:
  web:
    address: "127.0.0.1:0"
api: {}
certificatesResolvers:
  le:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      storage: "` + filepath.Join(t.TempDir(), "acme.json") + `"
      tlsChallenge: {}
`
	if err := pfile.DecodeContent(static, ".yml", cfg); err != nil {
		t.Fatal(err)
	}
	sc := &cfg.Configuration
	sc.SetEffectiveConfiguration()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.acme.Close()

	// Hold the application of the older configuration while the race is
	// set up: a certificate change and a newer provider configuration.
	hold, holding := make(chan struct{}), make(chan struct{}, 1)
	apply := s.watcher.Apply
	s.watcher.Apply = func(c *dynamic.Configuration) {
		if _, ok := c.HTTP.Routers["old@file"]; ok {
			select {
			case holding <- struct{}{}:
				<-hold
			default:
			}
		}
		apply(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.watcher.Run(ctx)

	conf := func(names ...string) *dynamic.Configuration {
		c := dynamic.New()
		c.HTTP.Services["s"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: "http://127.0.0.1:9"}}}}
		for _, n := range names {
			c.HTTP.Routers[n] = &dynamic.Router{Rule: "Path(`/" + n + "`)", Service: "s"}
		}
		return c
	}
	s.watcher.Messages() <- dynamic.Message{ProviderName: "file", Configuration: conf("old")}
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		t.Fatal("older configuration never applied")
	}
	s.certificatesChanged() // what the ACME worker calls after an issue
	s.watcher.Messages() <- dynamic.Message{ProviderName: "file", Configuration: conf("new")}
	s.certificatesChanged()
	close(hold)

	routers := func() map[string]json.RawMessage {
		rec := httptest.NewRecorder()
		s.api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/rawdata", nil))
		var rd struct {
			Routers map[string]json.RawMessage `json:"routers"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &rd)
		return rd.Routers
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := routers()
		if _, ok := r["new@file"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newer configuration never applied: %v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let any pending refresh run, then check it did not bring "old" back.
	time.Sleep(300 * time.Millisecond)
	if r := routers(); r["old@file"] != nil || r["new@file"] == nil {
		t.Fatalf("a certificate refresh brought back the older configuration: %v", r)
	}
}
