// Package file is the file provider: dynamic configuration from one YAML or
// TOML file, or from every such file of a directory tree, rendered as Go
// templates, decoded with Traefik's semantics, and watched for changes.
package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
)

// Name is the provider name carried by every Message.
const Name = "file"

// Debounce: a burst of events (an editor's save is several) is read once
// after quietPeriod without events, or at the latest maxDelay after its
// first event when events never stop.
const (
	quietPeriod = 75 * time.Millisecond
	maxDelay    = time.Second
	// settlePeriod replaces quietPeriod after a file was renamed over a
	// configuration file (an atomic replace: its content is complete).
	settlePeriod = 5 * time.Millisecond

	// maxEmptyWaits bounds how many quiet periods an empty file is given to
	// be written before it is applied as it is (about a second).
	maxEmptyWaits = 12
	// retryDelay re-arms watches on a directory that disappeared.
	retryDelay = time.Second
)

var _ providers.Provider = (*Provider)(nil)

// Provider reads dynamic configuration from files.
type Provider struct {
	cfg    static.FileProvider
	log    *slog.Logger
	reload chan struct{}
}

// New returns a provider for cfg; nothing is read or started.
func New(cfg static.FileProvider) *Provider {
	return &Provider{
		cfg:    cfg,
		log:    slog.Default().With("provider", Name),
		reload: make(chan struct{}, 1),
	}
}

// Init checks that exactly one of filename and directory is set and that it
// can be read.
func (p *Provider) Init() error {
	if err := p.validate(); err != nil {
		return err
	}
	if f := p.cfg.Filename; f != "" {
		fi, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("file provider: filename %q: %w", f, osReason(err))
		}
		if fi.IsDir() {
			return fmt.Errorf("file provider: filename %q: is a directory (use directory)", f)
		}
		fh, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("file provider: filename %q: %w", f, osReason(err))
		}
		return fh.Close()
	}
	d := p.cfg.Directory
	fi, err := os.Stat(d)
	if err != nil {
		return fmt.Errorf("file provider: directory %q: %w", d, osReason(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("file provider: directory %q: not a directory (use filename)", d)
	}
	if _, err := os.ReadDir(d); err != nil {
		return fmt.Errorf("file provider: directory %q: %w", d, osReason(err))
	}
	return nil
}

// validate checks the provider's options alone, without the file system.
func (p *Provider) validate() error {
	f, d := p.cfg.Filename, p.cfg.Directory
	switch {
	case f == "" && d == "":
		return errors.New("file provider: set one of filename or directory")
	case f != "" && d != "":
		return errors.New("file provider: filename and directory are mutually exclusive")
	case f != "":
		switch ext := strings.ToLower(filepath.Ext(f)); ext {
		case ".yml", ".yaml", ".toml", ".json":
		default:
			return fmt.Errorf("file provider: filename %q: unsupported extension %q (want .yml, .yaml or .toml)", f, ext)
		}
	}
	return nil
}

// LoadOnce reads, renders and decodes every file once and returns the
// merged configuration, or the first error (an *Error naming file, line
// and key where known). It is what `switchyard check` runs.
func (p *Provider) LoadOnce() (*dynamic.Configuration, error) {
	if err := p.Init(); err != nil {
		return nil, err
	}
	res := p.loader(true).load()
	if len(res.errs) > 0 {
		return nil, res.errs[0]
	}
	return res.conf, nil
}

// Reload asks a running Provide to read the files again (e.g. on SIGHUP),
// whether or not watch is on. It never blocks.
func (p *Provider) Reload() {
	select {
	case p.reload <- struct{}{}:
	default:
	}
}

func (p *Provider) loader(strict bool) *loader {
	return &loader{
		filename:      p.cfg.Filename,
		directory:     p.cfg.Directory,
		debugTemplate: p.cfg.DebugLogGeneratedTemplate,
		strict:        strict,
		log:           p.log,
	}
}

// Provide sends the configuration, then (with watch) a new one each time
// the files change, until ctx is done. A broken file is logged with its
// file, line and reason and nothing is sent: the last good configuration
// keeps serving. Identical configurations are not sent twice. Files missing
// at start are waited for like broken ones (Init reports them); Provide only
// returns an error when its options are invalid or it cannot watch.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	if err := p.validate(); err != nil {
		return err
	}
	r := &run{p: p, ctx: ctx, out: out, ld: p.loader(false)}
	if p.cfg.Watch {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("file provider: create watcher: %w", err)
		}
		defer func() { _ = w.Close() }() // nothing left to report to once the loop ended
		r.w = w
	}
	return r.loop()
}

// run is the state of one Provide call.
type run struct {
	p   *Provider
	ctx context.Context
	out chan<- dynamic.Message
	ld  *loader
	w   *fsnotify.Watcher // nil without watch

	lastHash   string
	sent       bool
	lastErrors string // error text of the last failed read, to not repeat it on retries
	emptyWaits int    // reads deferred in a row because a file was empty
}

func (r *run) loop() error {
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if r.w != nil {
		events, watchErrs = r.w.Events, r.w.Errors
	}

	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer debounce.Stop()
	defer retry.Stop()
	var (
		pending bool
		first   time.Time
		// loud: the pending read follows a real change (an event or a
		// Reload), so its errors are logged even if they were just logged.
		loud bool
	)
	schedule := func(quiet time.Duration) {
		now := time.Now()
		if !pending {
			pending, first = true, now
			debounce.Reset(quiet)
			return
		}
		if now.Sub(first) < maxDelay {
			debounce.Reset(quiet)
		}
	}
	var quiet quietClock

	again, rearm := r.read(true)
	for {
		if again {
			schedule(quietPeriod)
		}
		if rearm {
			retry.Reset(retryDelay)
		}
		again, rearm = false, false
		select {
		case <-r.ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			loud = true
			schedule(quiet.next(ev, r.isConfigPath))
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			// Typically a queue overflow: events were lost, read again.
			r.p.log.Warn("file provider: watcher error", "error", err)
			loud = true
			quiet = quietClock{}
			schedule(quietPeriod)
		case <-r.p.reload:
			pending = false
			debounce.Stop()
			again, rearm = r.read(true)
			loud = false
		case <-debounce.C:
			pending = false
			again, rearm = r.read(loud)
			loud = false
		case <-retry.C:
			again, rearm = r.read(false)
		}
	}
}

// quietClock picks the quiet period after each event.
type quietClock struct {
	// movedFrom is the name of the previous event when it was the first
	// half of a rename: inotify reports a rename within a directory as two
	// consecutive events, the old name (Rename), then the new (Create).
	movedFrom string
}

// next is the quiet period to wait after ev: settlePeriod when ev completes
// a rename over a configuration file (a complete file, atomically in
// place), quietPeriod otherwise (a writer may not be done).
func (c *quietClock) next(ev fsnotify.Event, isConfig func(string) bool) time.Duration {
	prev := c.movedFrom
	c.movedFrom = ""
	if ev.Op == fsnotify.Rename {
		c.movedFrom = ev.Name
	}
	if ev.Op == fsnotify.Create && prev != "" && prev != ev.Name && isConfig(ev.Name) {
		return settlePeriod
	}
	return quietPeriod
}

// isConfigPath reports whether an event's path is a configuration file
// read: the file itself with filename, a configuration file with directory.
func (r *run) isConfigPath(name string) bool {
	if f := r.ld.filename; f != "" {
		return filepath.Clean(name) == filepath.Clean(f)
	}
	return isConfigFile(filepath.Base(name))
}

// read loads every file, re-arms watches and sends the configuration when
// it is valid and new. again asks for another read soon (new directories
// were watched after the files were read); rearm asks for a retry later
// (a directory could not be watched).
func (r *run) read(loud bool) (again, rearm bool) {
	res := r.ld.load()
	if r.w != nil {
		again, rearm = r.syncWatches(res.dirs)
	}

	if len(res.errs) > 0 {
		var b strings.Builder
		for _, err := range res.errs {
			b.WriteString(err.Error())
			b.WriteByte('\n')
		}
		if text := b.String(); loud || text != r.lastErrors {
			for _, err := range res.errs {
				r.logError(err)
			}
			r.lastErrors = text
		}
		return again, rearm
	}
	r.lastErrors = ""

	// A file rewritten in place is empty between the truncate and the
	// write; on a busy machine that moment can outlast the quiet period.
	// Read again a little later rather than serve an empty configuration
	// for it; a file that stays empty is applied after emptyWaits reads.
	if res.sawEmpty && r.emptyWaits < maxEmptyWaits {
		r.emptyWaits++
		return true, rearm
	}
	r.emptyWaits = 0

	hash := dynamic.Hash(res.conf)
	if r.sent && hash != "" && hash == r.lastHash {
		r.p.log.Debug("file provider: configuration unchanged")
		return again, rearm
	}
	select {
	case r.out <- dynamic.Message{ProviderName: Name, Configuration: res.conf, Hash: hash}:
		r.sent, r.lastHash = true, hash
		r.p.log.Info("file provider: configuration loaded", "files", res.files)
	case <-r.ctx.Done():
	}
	return again, rearm
}

func (r *run) logError(err error) {
	var fe *Error
	if errors.As(err, &fe) {
		r.p.log.Error("file provider: invalid configuration, keeping the last good one", fe.logAttrs()...)
		return
	}
	r.p.log.Error("file provider: invalid configuration, keeping the last good one", "reason", err.Error())
}

// syncWatches makes the watch list equal to dirs. fsnotify drops the watch
// of a directory that is removed or renamed, so its own list is the truth.
func (r *run) syncWatches(dirs []string) (added, failed bool) {
	have := r.w.WatchList()
	for _, d := range dirs {
		if slices.Contains(have, d) {
			continue
		}
		if err := r.w.Add(d); err != nil {
			failed = true
			r.p.log.Debug("file provider: cannot watch directory, will retry", "dir", d, "reason", osReason(err).Error())
			continue
		}
		added = true
	}
	for _, h := range have {
		if !slices.Contains(dirs, h) {
			_ = r.w.Remove(h)
		}
	}
	return added, failed
}
