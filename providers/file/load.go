package file

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// loadResult is one read of every configuration file.
type loadResult struct {
	conf  *dynamic.Configuration // nil when errs is not empty
	errs  []error                // one per broken file, in file order
	dirs  []string               // directories to watch for this layout
	files int                    // configuration files read
	// sawEmpty: one of the files was empty, as it is for a moment while
	// an editor or a script rewrites it in place (truncate, then write).
	sawEmpty bool
}

// loader reads and merges the configuration files once.
type loader struct {
	filename, directory string
	debugTemplate       bool
	// strict turns what Traefik only logs (an unreadable certificate
	// file) into errors, for `switchyard check`.
	strict bool
	log    *slog.Logger
	// sawEmpty: a file of this load was empty (zero bytes).
	sawEmpty bool
}

func (l *loader) load() loadResult {
	l.sawEmpty = false
	var res loadResult
	if l.filename != "" {
		res = l.loadFile()
	} else {
		res = l.loadDirectory()
	}
	res.sawEmpty = l.sawEmpty
	return res
}

func (l *loader) loadFile() loadResult {
	res := loadResult{dirs: watchDirs(l.filename), files: 1}
	conf, err := l.decodeFile(l.filename)
	if err != nil {
		res.errs = []error{err}
		return res
	}
	// One file: its maps are the result as they are (a merge into an
	// empty configuration would copy them: 10,000 routers cost a sort and
	// a map of origins); only duplicate certificates are dropped.
	certs := conf.TLS.Certificates
	conf.TLS.Certificates = nil
	newMerger(l.log).mergeCertificates(conf, certs, l.filename)
	res.conf = conf
	return res
}

func (l *loader) loadDirectory() loadResult {
	var res loadResult
	files, dirs, err := listConfigFiles(l.directory)
	// The root is always watched, even when it cannot be read now, so that
	// the watch is retried until it is back.
	res.dirs = append([]string{filepath.Clean(l.directory)}, slices.DeleteFunc(dirs, func(d string) bool {
		return d == filepath.Clean(l.directory)
	})...)
	if err != nil {
		res.errs = []error{err}
		return res
	}
	res.files = len(files)
	// The directory as a whole gets the budget of one file: decoding
	// costs memory in proportion to the bytes read.
	var total int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	if total > MaxFileSize {
		res.errs = []error{&Error{File: l.directory, Reason: fmt.Sprintf("the configuration files hold %d bytes in all, more than the %d (%d MiB) a configuration may have", total, MaxFileSize, MaxFileSize>>20)}}
		return res
	}
	conf := dynamic.New()
	m := newMerger(l.log)
	for _, f := range files {
		for _, d := range watchDirs(f) {
			if !slices.Contains(res.dirs, d) {
				res.dirs = append(res.dirs, d)
			}
		}
		c, err := l.decodeFile(f)
		if err != nil {
			res.errs = append(res.errs, err)
			continue
		}
		m.merge(conf, c, f)
	}
	if len(res.errs) == 0 {
		res.conf = conf
	}
	return res
}

// decodeFile reads, renders and decodes one file.
func (l *loader) decodeFile(path string) (*dynamic.Configuration, error) {
	src, err := readLimited(path)
	if err != nil {
		return nil, &Error{File: path, Reason: "read: " + osReason(err).Error(), Err: err}
	}
	if len(src) == 0 {
		l.sawEmpty = true
	}
	rendered, err := render(path, string(src))
	if err != nil {
		return nil, err
	}
	if l.debugTemplate {
		l.log.Debug("file provider: rendered template", "file", path, "content", rendered)
	}
	ext := strings.ToLower(filepath.Ext(path))
	conf, ignored, err := decodeContent(path, ext, rendered)
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) && rendered != string(src) {
			e.Rendered = true
		}
		return nil, err
	}
	for _, k := range ignored {
		l.log.Warn("file provider: unknown top-level key ignored (want http, tcp, udp or tls)",
			"file", path, "line", k.Line, "key", k.Name)
	}
	if err := l.inlineCertificates(path, conf.TLS); err != nil {
		return nil, err
	}
	return conf, nil
}

// inlineCertificates replaces certificate and key paths by the files'
// content, as Traefik's file provider does, so that a renewed certificate
// changes the configuration (and its hash) and is picked up on reload. A
// value that is not an existing file is left as is (inline PEM).
func (l *loader) inlineCertificates(path string, tls *dynamic.TLSConfiguration) error {
	kept := tls.Certificates[:0]
	for _, c := range tls.Certificates {
		if c == nil {
			continue
		}
		cert, errC := readIfFile(c.CertFile)
		key, errK := readIfFile(c.KeyFile)
		if err := cmp.Or(errC, errK); err != nil {
			if l.strict {
				return &Error{File: path, Key: "tls.certificates", Reason: err.Error(), Err: err}
			}
			l.log.Error("file provider: skipping TLS certificate", "file", path, "reason", err.Error())
			continue
		}
		c.CertFile, c.KeyFile = cert, key
		kept = append(kept, c)
	}
	tls.Certificates = kept
	return nil
}

func readIfFile(v dynamic.FileOrContent) (dynamic.FileOrContent, error) {
	p := string(v)
	if p == "" || strings.Contains(p, "\n") {
		return v, nil
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return v, nil
	}
	b, err := readLimited(p)
	if err != nil {
		return v, fmt.Errorf("read %s: %w", p, osReason(err))
	}
	return dynamic.FileOrContent(b), nil
}

// readLimited reads a regular file of at most MaxFileSize bytes; anything
// else (a device such as /dev/zero, a FIFO, a larger file) is an error, so
// a path in a configuration can never make a read unbounded or hang.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d (%d MiB) a configuration file may have", fi.Size(), MaxFileSize, MaxFileSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("file grew past %d bytes while read", MaxFileSize)
	}
	return b, nil
}

// watchDirs are the directories whose events can change what path reads:
// its parent (editors replace files) and, for a symlink, the directory of
// its target (a ConfigMap-style swap replaces the link in the parent, an
// edit of the target shows in the target's directory).
func watchDirs(path string) []string {
	dirs := []string{filepath.Clean(filepath.Dir(path))}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if d := filepath.Dir(real); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// isConfigFile reports whether a directory entry is read: .yml, .yaml or
// .toml in any case, and not hidden.
func isConfigFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yml", ".yaml", ".toml":
		return true
	}
	return false
}

// listConfigFiles walks root depth first in name order (so "first" is well
// defined for duplicate names), following symlinked directories once.
// Hidden files and directories are skipped. dirs lists every directory
// walked.
func listConfigFiles(root string) (files, dirs []string, err error) {
	root = filepath.Clean(root)
	seen := map[string]bool{}
	var walk func(dir string, top bool) error
	walk = func(dir string, top bool) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			real = dir
		}
		if seen[real] {
			return nil
		}
		seen[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			if top {
				return &Error{File: dir, Reason: "read directory: " + osReason(err).Error(), Err: err}
			}
			// A sub-directory removed while we walk: the next event reloads.
			return nil
		}
		dirs = append(dirs, dir)
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(dir, name)
			isDir := e.IsDir()
			if e.Type()&os.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					continue // dangling link
				}
				isDir = fi.IsDir()
			}
			if isDir {
				if err := walk(p, false); err != nil {
					return err
				}
				continue
			}
			if isConfigFile(name) {
				files = append(files, p)
			}
		}
		return nil
	}
	err = walk(root, true)
	return files, dirs, err
}

// merger merges per-file configurations: the first definition of a name
// wins and a later one is reported with both files, as Traefik does.
type merger struct {
	log    *slog.Logger
	origin map[string]string // kind \x00 name -> file
	certs  map[string]string
}

func newMerger(log *slog.Logger) *merger {
	return &merger{log: log, origin: map[string]string{}, certs: map[string]string{}}
}

func (m *merger) merge(dst, src *dynamic.Configuration, file string) {
	mergeMap(m, dst.HTTP.Routers, src.HTTP.Routers, "HTTP router", "router", file)
	mergeMap(m, dst.HTTP.Services, src.HTTP.Services, "HTTP service", "service", file)
	mergeMap(m, dst.HTTP.Middlewares, src.HTTP.Middlewares, "HTTP middleware", "middleware", file)
	mergeMap(m, dst.HTTP.ServersTransports, src.HTTP.ServersTransports, "HTTP servers transport", "serversTransport", file)
	mergeMap(m, dst.TCP.Routers, src.TCP.Routers, "TCP router", "router", file)
	mergeMap(m, dst.TCP.Services, src.TCP.Services, "TCP service", "service", file)
	mergeMap(m, dst.TCP.Middlewares, src.TCP.Middlewares, "TCP middleware", "middleware", file)
	mergeMap(m, dst.TCP.ServersTransports, src.TCP.ServersTransports, "TCP servers transport", "serversTransport", file)
	mergeMap(m, dst.UDP.Routers, src.UDP.Routers, "UDP router", "router", file)
	mergeMap(m, dst.UDP.Services, src.UDP.Services, "UDP service", "service", file)
	mergeMap(m, dst.TLS.Options, src.TLS.Options, "TLS options", "tlsOptions", file)
	mergeMap(m, dst.TLS.Stores, src.TLS.Stores, "TLS store", "tlsStore", file)
	m.mergeCertificates(dst, src.TLS.Certificates, file)
}

// mergeCertificates appends certs to dst's, but those already there.
func (m *merger) mergeCertificates(dst *dynamic.Configuration, certs []*dynamic.CertAndStores, file string) {
	for _, c := range certs {
		if first, dup := m.certs[certKey(c)]; dup {
			m.log.Warn("file provider: TLS certificate already defined, skipping",
				"file", file, "first", first)
			continue
		}
		m.certs[certKey(c)] = file
		dst.TLS.Certificates = append(dst.TLS.Certificates, c)
	}
}

// certKey identifies a certificate entry by content (stores included).
func certKey(c *dynamic.CertAndStores) string {
	return strings.Join(append([]string{string(c.CertFile), string(c.KeyFile)}, c.Stores...), "\x00")
}

func mergeMap[V any](m *merger, dst, src map[string]V, kind, attr, file string) {
	names := make([]string, 0, len(src))
	for name := range src {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		id := kind + "\x00" + name
		if first, dup := m.origin[id]; dup {
			m.log.Warn("file provider: "+kind+" already defined, keeping the first",
				attr, name, "file", file, "first", first)
			continue
		}
		m.origin[id] = file
		dst[name] = src[name]
	}
}
