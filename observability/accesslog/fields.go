package accesslog

import (
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// Field names, as Traefik writes them in JSON and accepts them in
// accessLog.fields.names.
const (
	ClientAddr            = "ClientAddr"
	ClientHost            = "ClientHost"
	ClientPort            = "ClientPort"
	ClientUsername        = "ClientUsername"
	DownstreamContentSize = "DownstreamContentSize"
	DownstreamStatus      = "DownstreamStatus"
	Duration              = "Duration"
	GzipRatio             = "GzipRatio"
	OriginContentSize     = "OriginContentSize"
	OriginDuration        = "OriginDuration"
	OriginStatus          = "OriginStatus"
	Overhead              = "Overhead"
	RequestAddr           = "RequestAddr"
	RequestContentSize    = "RequestContentSize"
	RequestCount          = "RequestCount"
	RequestHost           = "RequestHost"
	RequestMethod         = "RequestMethod"
	RequestPath           = "RequestPath"
	RequestPort           = "RequestPort"
	RequestProtocol       = "RequestProtocol"
	RequestScheme         = "RequestScheme"
	RetryAttempts         = "RetryAttempts"
	RouterName            = "RouterName"
	ServiceAddr           = "ServiceAddr"
	ServiceName           = "ServiceName"
	ServiceURL            = "ServiceURL"
	StartLocal            = "StartLocal"
	StartUTC              = "StartUTC"
	TLSCipher             = "TLSCipher"
	TLSClientSubject      = "TLSClientSubject"
	TLSVersion            = "TLSVersion"
	EntryPointName        = "entryPointName"
)

// Header field prefixes.
const (
	RequestHeaderPrefix    = "request_"
	OriginHeaderPrefix     = "origin_"
	DownstreamHeaderPrefix = "downstream_"
)

// Redacted replaces the value of a header in "redact" mode.
const Redacted = "REDACTED"

// field indexes fieldNames. The order is the byte order of the names, so
// JSON lines come out with sorted keys, as Traefik's writer sorts them.
type field uint8

const (
	fClientAddr field = iota
	fClientHost
	fClientPort
	fClientUsername
	fDownstreamContentSize
	fDownstreamStatus
	fDuration
	fGzipRatio
	fOriginContentSize
	fOriginDuration
	fOriginStatus
	fOverhead
	fRequestAddr
	fRequestContentSize
	fRequestCount
	fRequestHost
	fRequestMethod
	fRequestPath
	fRequestPort
	fRequestProtocol
	fRequestScheme
	fRetryAttempts
	fRouterName
	fServiceAddr
	fServiceName
	fServiceURL
	fStartLocal
	fStartUTC
	fTLSCipher
	fTLSClientSubject
	fTLSVersion
	fEntryPointName
	numFields
)

var fieldNames = [numFields]string{
	ClientAddr, ClientHost, ClientPort, ClientUsername,
	DownstreamContentSize, DownstreamStatus, Duration, GzipRatio,
	OriginContentSize, OriginDuration, OriginStatus, Overhead,
	RequestAddr, RequestContentSize, RequestCount, RequestHost, RequestMethod,
	RequestPath, RequestPort, RequestProtocol, RequestScheme, RetryAttempts,
	RouterName, ServiceAddr, ServiceName, ServiceURL, StartLocal, StartUTC,
	TLSCipher, TLSClientSubject, TLSVersion, EntryPointName,
}

// fieldByLower finds a field by its case-folded name.
var fieldByLower = func() map[string]field {
	m := make(map[string]field, numFields)
	for i, n := range fieldNames {
		m[strings.ToLower(n)] = field(i)
	}
	return m
}()

type mode uint8

const (
	modeKeep mode = iota
	modeDrop
	modeRedact
)

func parseMode(key, s string, allowRedact bool) (mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "keep":
		return modeKeep, nil
	case "drop":
		return modeDrop, nil
	case "redact":
		return modeRedact, nil
	}
	want := "keep, drop or redact"
	if !allowRedact {
		want = "keep or drop"
	}
	return 0, fmt.Errorf("%s: unknown mode %q (want %s)", key, s, want)
}

// fieldSet is the precomputed result of accessLog.fields.
type fieldSet struct {
	keep [numFields]bool

	hdrDefault mode
	hdrNames   map[string]mode // canonical header name → mode
	anyHeader  bool            // false: every header is dropped, skip the capture
}

func newFieldSet(cfg *static.AccessLogFields) (fieldSet, error) {
	var fs fieldSet
	for i := range fs.keep {
		fs.keep[i] = true
	}
	// Without a fields section Traefik's defaults apply: keep every field,
	// drop every header.
	fs.hdrDefault = modeDrop
	if cfg == nil {
		return fs, nil
	}

	def := true
	if cfg.DefaultMode != "" {
		m, err := parseMode("accessLog.fields.defaultMode", cfg.DefaultMode, true)
		if err != nil {
			return fs, err
		}
		// "redact" means nothing for fields; Traefik keeps them.
		def = m != modeDrop
	}
	for i := range fs.keep {
		fs.keep[i] = def
	}
	for name, v := range cfg.Names {
		m, err := parseMode("accessLog.fields.names."+name, v, true)
		if err != nil {
			return fs, err
		}
		f, ok := fieldByLower[strings.ToLower(name)]
		if !ok {
			slog.Warn("access log: unknown field in accessLog.fields.names, ignored", "field", name)
			continue
		}
		switch m {
		case modeKeep:
			fs.keep[f] = true
		case modeDrop:
			fs.keep[f] = false
		}
	}

	if h := cfg.Headers; h != nil {
		if h.DefaultMode != "" {
			m, err := parseMode("accessLog.fields.headers.defaultMode", h.DefaultMode, true)
			if err != nil {
				return fs, err
			}
			fs.hdrDefault = m
		}
		if len(h.Names) > 0 {
			fs.hdrNames = make(map[string]mode, len(h.Names))
		}
		for name, v := range h.Names {
			m, err := parseMode("accessLog.fields.headers.names."+name, v, true)
			if err != nil {
				return fs, err
			}
			fs.hdrNames[textproto.CanonicalMIMEHeaderKey(name)] = m
		}
	}
	fs.anyHeader = fs.hdrDefault != modeDrop
	for _, m := range fs.hdrNames {
		if m != modeDrop {
			fs.anyHeader = true
		}
	}
	return fs, nil
}

// headerMode is the mode of a canonical header name.
func (fs *fieldSet) headerMode(name string) mode {
	if m, ok := fs.hdrNames[name]; ok {
		return m
	}
	return fs.hdrDefault
}
