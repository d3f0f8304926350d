package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// smCertConfig is the command line of `switchyard sm-cert`.
type smCertConfig struct {
	Dir      string          `description:"Directory to write the PEM files into (created if missing)." json:"dir,omitempty" toml:"dir,omitempty" yaml:"dir,omitempty" export:"true"`
	Hosts    string          `description:"Comma-separated DNS names and IP addresses of the server certificates." json:"hosts,omitempty" toml:"hosts,omitempty" yaml:"hosts,omitempty" export:"true"`
	Client   string          `description:"Common name of the client certificate." json:"client,omitempty" toml:"client,omitempty" yaml:"client,omitempty" export:"true"`
	CA       string          `description:"Common name of the test CA." json:"ca,omitempty" toml:"ca,omitempty" yaml:"ca,omitempty" export:"true"`
	Validity ptypes.Duration `description:"How long the certificates are valid." json:"validity,omitempty" toml:"validity,omitempty" yaml:"validity,omitempty" export:"true"`
	Force    bool            `description:"Overwrite existing files." json:"force,omitempty" toml:"force,omitempty" yaml:"force,omitempty" export:"true"`
}

func newSMCertConfig() *smCertConfig {
	return &smCertConfig{Dir: "sm-certs", Hosts: "localhost,127.0.0.1", Client: "tlcp client", CA: "Switchyard SM2 test CA", Validity: ptypes.Duration(365 * 24 * time.Hour)}
}

// smCertFiles names the files sm-cert writes.
var smCertFiles = []string{"ca.crt", "ca.key", "sign.crt", "sign.key", "enc.crt", "enc.key", "client.crt", "client.key"}

// runSMCert makes a test SM2 PKI for TLCP: a CA, the server's signing and
// encryption pairs and a client pair.
func runSMCert(cfg *smCertConfig) error {
	var hosts []string
	for _, h := range strings.Split(cfg.Hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return errors.New("sm-cert: --hosts names no host")
	}
	if cfg.Validity <= 0 {
		return errors.New("sm-cert: --validity must be positive")
	}
	if !cfg.Force {
		for _, f := range smCertFiles {
			if _, err := os.Stat(filepath.Join(cfg.Dir, f)); err == nil {
				return fmt.Errorf("sm-cert: %s exists (use --force to overwrite)", filepath.Join(cfg.Dir, f))
			}
		}
	}
	p, err := tlcp.GeneratePKI(cfg.CA, hosts, cfg.Client, time.Duration(cfg.Validity))
	if err != nil {
		return fmt.Errorf("sm-cert: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("sm-cert: %w", err)
	}
	data := [][]byte{p.CACert, p.CAKey, p.SignCert, p.SignKey, p.EncCert, p.EncKey, p.ClientCert, p.ClientKey}
	for i, f := range smCertFiles {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f, ".key") {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(cfg.Dir, f), data[i], mode); err != nil {
			return fmt.Errorf("sm-cert: %w", err)
		}
	}
	abs, _ := filepath.Abs(cfg.Dir)
	fmt.Printf(`SM2 test PKI written to %s (hosts %s):
  ca.crt ca.key          test CA (trust it in TLCP clients; caFiles for client auth)
  sign.crt sign.key      server signing pair
  enc.crt enc.key        server encryption pair
  client.crt client.key  client pair (CN %q)

Dynamic configuration:
tls:
  certificates:
    - certFile: %s
      keyFile: %s
      encCertFile: %s
      encKeyFile: %s
  options:
    default:
      tlcp:
        enabled: true
`, abs, strings.Join(hosts, ","), cfg.Client,
		filepath.Join(abs, "sign.crt"), filepath.Join(abs, "sign.key"), filepath.Join(abs, "enc.crt"), filepath.Join(abs, "enc.key"))
	return nil
}
