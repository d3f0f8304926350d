// Command switchyard is the edge router: it reads the static configuration
// (file, flags or environment), starts the entrypoints and providers, and
// serves the routing table compiled from the providers' dynamic
// configuration, swapping it live on every change.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/traefik/paerser/cli"

	"github.com/switchyard-proxy/switchyard/internal/version"
)

func main() {
	src := &source{}
	cfg := newCmdConfig()
	root := &cli.Command{
		Name:          "switchyard",
		Description:   "Switchyard, an edge router and ingress gateway (Traefik v3 compatible configuration).",
		Configuration: cfg,
		Resources:     loaders(src),
		Run: func(_ []string) error {
			return runServer(cfg, src)
		},
	}

	checkSrc := &source{}
	checkCfg := newCmdConfig()
	must(root.AddCommand(&cli.Command{
		Name:          "check",
		Description:   "Validate the static configuration and the file provider's dynamic files, then exit (non-zero on any error).",
		Configuration: checkCfg,
		Resources:     loaders(checkSrc),
		Run: func(_ []string) error {
			return runCheck(checkCfg, checkSrc)
		},
	}))

	hcSrc := &source{}
	hcCfg := newCmdConfig()
	must(root.AddCommand(&cli.Command{
		Name:          "healthcheck",
		Description:   "Call the ping endpoint of a running instance; exit 0 when healthy (for container health probes).",
		Configuration: hcCfg,
		Resources:     loaders(hcSrc),
		Run: func(_ []string) error {
			return runHealthcheck(hcCfg)
		},
	}))

	upCfg := newUpgradeCmdConfig()
	must(root.AddCommand(&cli.Command{
		Name: "upgrade",
		Description: "Upgrade the binary of a running instance without dropping a connection: re-executes the file at its path " +
			"and hands it the listening sockets (SIGUSR2 to the pid in --pidFile, or POST --url/api/upgrade). " +
			"Exits 0 once the new process serves; non-zero when refused (an upgrade under way) or failed (the old process keeps serving).",
		Configuration: upCfg,
		Resources:     []cli.ResourceLoader{&cli.FlagLoader{}},
		Run: func(_ []string) error {
			return runUpgradeCmd(upCfg)
		},
	}))

	smCfg := newSMCertConfig()
	must(root.AddCommand(&cli.Command{
		Name: "sm-cert",
		Description: "Write a test SM2 PKI for TLCP (GB/T 38636): a CA, the server's signing and encryption pairs and a client pair, " +
			"as PEM files in --dir, and print the tls configuration that serves them.",
		Configuration: smCfg,
		Resources:     []cli.ResourceLoader{&cli.FlagLoader{}},
		Run: func(_ []string) error {
			return runSMCert(smCfg)
		},
	}))

	must(root.AddCommand(&cli.Command{
		Name:        "version",
		Description: "Print the version.",
		Run: func(_ []string) error {
			fmt.Printf("Version:      %s\nCodename:     %s\nGo version:   %s\nBuilt:        %s\nOS/Arch:      %s/%s\n",
				version.Version, version.Codename, runtime.Version(), version.BuildDate, runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}))

	if err := cli.Execute(root); err != nil {
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(1)
	}
}

func must(err error) {
	if err != nil {
		panic(err) // programming error in command wiring
	}
}
