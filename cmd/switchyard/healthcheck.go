package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// runHealthcheck calls /ping on the configured ping entrypoint.
func runHealthcheck(cfg *cmdConfig) error {
	sc := &cfg.Configuration
	sc.SetEffectiveConfiguration()
	if sc.Ping == nil {
		return errors.New("ping is not enabled in the static configuration (set ping: {})")
	}
	ep, ok := sc.EntryPoints[sc.Ping.EntryPoint]
	if !ok {
		return fmt.Errorf("ping.entryPoint: unknown entrypoint %q", sc.Ping.EntryPoint)
	}
	host, port, err := net.SplitHostPort(ep.ListenAddress())
	if err != nil {
		return fmt.Errorf("entryPoints.%s.address: %w", sc.Ping.EntryPoint, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/ping")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: ping answered %s", resp.Status)
	}
	fmt.Println("OK")
	return nil
}
