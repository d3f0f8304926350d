package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/traefik/paerser/cli"
	"github.com/traefik/paerser/env"
	"github.com/traefik/paerser/flag"

	"github.com/switchyard-proxy/switchyard/config/filedecode"
	"github.com/switchyard-proxy/switchyard/config/static"
)

// cmdConfig is what the command line decodes into: the static
// configuration plus the path of the file it came from.
type cmdConfig struct {
	static.Configuration `export:"true"`
	ConfigFile           string `description:"Configuration file to use. If specified all other flags are ignored." json:"configFile,omitempty" toml:"configFile,omitempty" yaml:"configFile,omitempty" export:"true"`
}

func newCmdConfig() *cmdConfig {
	c := &cmdConfig{}
	c.Global = &static.Global{}
	c.ServersTransport = &static.ServersTransport{}
	c.ServersTransport.SetDefaults()
	c.TCPServersTransport = &static.TCPServersTransport{}
	c.TCPServersTransport.SetDefaults()
	c.EntryPoints = map[string]*static.EntryPoint{}
	c.Providers = &static.Providers{}
	c.Providers.SetDefaults()
	c.Log = &static.Log{}
	c.Log.SetDefaults()
	c.Core = &static.Core{}
	c.Core.SetDefaults()
	return c
}

// source records where the static configuration came from.
type source struct {
	kind string // "file", "flags", "env" or "" (nothing: embedded quick start)
	file string
}

// Base paths searched for switchyard.{yml,yaml,toml} when --configFile is
// absent, then for traefik.{yml,yaml,toml} in Traefik's places so that a
// Traefik installation is found unchanged.
var configBasePaths = []string{"./switchyard", "$HOME/.config/switchyard", "/etc/switchyard/switchyard"}

// traefikBasePaths are Traefik's, in Traefik's order; $XDG_CONFIG_HOME only
// when set (unset, it would name /traefik.yml).
func traefikBasePaths() []string {
	paths := []string{"/etc/traefik/traefik"}
	if os.Getenv("XDG_CONFIG_HOME") != "" {
		paths = append(paths, "$XDG_CONFIG_HOME/traefik")
	}
	return append(paths, "$HOME/.config/traefik", "./traefik")
}

// fileLoader finds and decodes the configuration file; errors name it.
type fileLoader struct{ src *source }

func (l fileLoader) Load(args []string, cmd *cli.Command) (bool, error) {
	ref, err := flag.Parse(args, cmd.Configuration)
	if err != nil {
		return false, fmt.Errorf("command line: %w", err)
	}
	var explicit string
	for k, v := range ref {
		if strings.EqualFold(k, "traefik.configfile") {
			explicit = v
		}
	}
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return false, fmt.Errorf("configFile %q: %w", explicit, errors.Unwrap(err))
		}
	}
	bases := append(slices.Clone(configBasePaths), traefikBasePaths()...)
	path, err := cli.Finder{BasePaths: bases, Extensions: []string{"yml", "yaml", "toml"}}.Find(explicit)
	if err != nil {
		return false, fmt.Errorf("finding the configuration file: %w", err)
	}
	if path == "" {
		return false, nil
	}
	if err := decodeStaticFile(path, cmd.Configuration); err != nil {
		return false, err
	}
	l.src.kind, l.src.file = "file", path
	return true, nil
}

// decodeStaticFile decodes the file into element (the command's *cmdConfig,
// holding the defaults); probes that locate an error decode into fresh ones.
// Errors name the file, line, key and reason. paerser drops unknown
// top-level keys silently: here they are errors, most likely typos.
func decodeStaticFile(path string, element any) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err // *fs.PathError: names the path
	}
	content, ext := string(src), strings.ToLower(filepath.Ext(path))
	if err := filedecode.DecodeInto(path, ext, content, element, func() any { return newCmdConfig() }); err != nil {
		return err
	}
	keys, err := filedecode.RootKeys(ext, content)
	if err != nil {
		return err
	}
	if len(keys) == 0 { // as paerser's file.Decode
		return fmt.Errorf("%s: no configuration found in file", path)
	}
	unknown, err := filedecode.UnknownRootKeys(ext, content, element)
	if err != nil {
		return err
	}
	errs := make([]error, len(unknown))
	for i, k := range unknown {
		errs[i] = &filedecode.Error{File: path, Line: k.Line, Key: k.Name, Reason: "unknown key"}
	}
	return errors.Join(errs...)
}

// flagLoader decodes --flags.
type flagLoader struct{ src *source }

func (l flagLoader) Load(args []string, cmd *cli.Command) (bool, error) {
	done, err := (&cli.FlagLoader{}).Load(args, cmd)
	if err != nil {
		// paerser does not say which flag failed: find it by decoding
		// each flag alone.
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			if ferr := flag.Decode([]string{a}, newCmdConfig()); ferr != nil {
				return false, fmt.Errorf("command line: %s: %s", a, explainDecodeError(ferr))
			}
		}
		return false, fmt.Errorf("command line: %s", explainDecodeError(err))
	}
	if done {
		l.src.kind = "flags"
	}
	return done, nil
}

// envLoader decodes SWITCHYARD_* (or, for Traefik users, TRAEFIK_*) variables.
type envLoader struct {
	src    *source
	prefix string
}

func (l envLoader) Load(args []string, cmd *cli.Command) (bool, error) {
	done, err := (&cli.EnvLoader{Prefix: l.prefix}).Load(args, cmd)
	if err != nil {
		for _, kv := range env.FindPrefixedEnvVars(os.Environ(), l.prefix, newCmdConfig()) {
			if verr := env.Decode([]string{kv}, l.prefix, newCmdConfig()); verr != nil {
				name, _, _ := strings.Cut(kv, "=")
				return false, fmt.Errorf("environment: %s: %s", name, explainDecodeError(verr))
			}
		}
		return false, fmt.Errorf("environment (%s*): %s", l.prefix, explainDecodeError(err))
	}
	if done {
		l.src.kind = "env"
	}
	return done, nil
}

func loaders(src *source) []cli.ResourceLoader {
	return []cli.ResourceLoader{
		fileLoader{src: src},
		flagLoader{src: src},
		envLoader{src: src, prefix: "SWITCHYARD_"},
		envLoader{src: src, prefix: "TRAEFIK_"},
	}
}

// explainDecodeError rewrites paerser's node paths ("traefik.entrypoints.web")
// into the option names users write.
func explainDecodeError(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "traefik.", "")
	msg = strings.ReplaceAll(msg, "field not found, node: ", "unknown key: ")
	return msg
}
