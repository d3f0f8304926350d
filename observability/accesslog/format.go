package accesslog

import (
	"crypto/tls"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// clfTime is the CLF timestamp layout.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// appendLine formats ld as one line (CLF or JSON) ending in '\n'.
func (h *Handler) appendLine(b []byte, ld *LogData, now time.Time) []byte {
	if h.json {
		return h.appendJSON(b, ld, now)
	}
	return h.appendCLF(b, ld)
}

// lineValues are the derived values both formats share.
type lineValues struct {
	clientHost, clientPort string
	reqHost, reqPort       string
	path, pathSep, query   string
	username               string
	scheme                 string
	overhead               time.Duration
}

func derive(ld *LogData) lineValues {
	var v lineValues
	v.clientHost, v.clientPort = splitHostPort(ld.remoteAddr)
	if ld.xff != "" {
		v.clientHost = ld.xff
	}
	if ld.host != "" {
		v.reqHost, v.reqPort = splitHostPort(ld.host)
	}
	v.path, v.pathSep, v.query = pathParts(ld)
	v.username = ld.username
	if v.username == "" {
		v.username = "-"
	}
	v.scheme = "http"
	if ld.tls != nil {
		v.scheme = "https"
	}
	v.overhead = ld.duration
	if ld.originSet {
		v.overhead -= ld.originDuration
	}
	return v
}

// splitHostPort never fails: without a port, the whole value is the host
// and the port is "-" (Traefik's behaviour).
func splitHostPort(s string) (host, port string) {
	if strings.IndexByte(s, ':') < 0 {
		return s, "-" // spare net.SplitHostPort's error allocation
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, "-"
	}
	return h, p
}

// pathParts returns RequestPath (the request URI without scheme and
// host, as url.URL.String writes it) in three pieces, so the common case
// is written without building a string.
func pathParts(ld *LogData) (path, sep, query string) {
	if ld.rawQuery != "" || ld.forceQuery {
		sep, query = "?", ld.rawQuery
	}
	if ld.rawPath == "" && simplePath(ld.path) {
		return ld.path, sep, query
	}
	u := url.URL{Path: ld.path, RawPath: ld.rawPath, RawQuery: ld.rawQuery, ForceQuery: ld.forceQuery}
	return u.String(), "", ""
}

// simplePath reports whether p starts with a single '/' and has only
// bytes that url path escaping leaves alone.
func simplePath(p string) bool {
	if len(p) == 0 || p[0] != '/' || (len(p) > 1 && p[1] == '/') {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.~$&+,/:;=@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// urlParts splits a server URL for writing without allocation when it is
// a plain scheme://host[/path]; otherwise whole is u.String().
func urlParts(u *url.URL) (scheme, host, path, whole string) {
	if u.Opaque == "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery &&
		u.Scheme != "" && simpleHost(u.Host) && (u.Path == "" || (u.RawPath == "" && simplePath(u.Path))) {
		return u.Scheme, u.Host, u.Path, ""
	}
	// A server URL with credentials (http://user:pass@host) never shows
	// its password.
	return "", "", "", u.Redacted()
}

func simpleHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// appendCLF writes Traefik's common log format:
//
//	<ClientHost> - <ClientUsername> [<StartUTC|StartLocal>] "<RequestMethod> <RequestPath> <RequestProtocol>"
//	<OriginStatus> <OriginContentSize> "<Referer>" "<User-Agent>" <RequestCount> "<RouterName>" "<ServiceURL>" <Duration>ms
//
// Dropped or empty values print as "-". Referer and User-Agent only show
// when the request headers are kept (headers are dropped by default).
func (h *Handler) appendCLF(b []byte, ld *LogData) []byte {
	keep := &h.fields.keep
	v := derive(ld)
	str := func(b []byte, f field, s string, quoted bool) []byte {
		if !keep[f] {
			s = ""
		}
		return appendCLFString(b, s, quoted)
	}

	b = str(b, fClientHost, v.clientHost, false)
	b = append(b, " - "...)
	b = str(b, fClientUsername, v.username, false)
	b = append(b, " ["...)
	switch {
	case keep[fStartUTC]:
		b = ld.start.UTC().AppendFormat(b, clfTime)
	case keep[fStartLocal]:
		b = ld.start.Local().AppendFormat(b, clfTime)
	default:
		b = append(b, '-')
	}
	b = append(b, "] \""...)
	b = str(b, fRequestMethod, ld.method, false)
	b = append(b, ' ')
	if keep[fRequestPath] && len(v.path)+len(v.pathSep)+len(v.query) > 0 {
		b = appendCLFContent(b, v.path, false)
		b = append(b, v.pathSep...)
		b = appendCLFContent(b, v.query, false)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = str(b, fRequestProtocol, ld.proto, false)
	b = append(b, "\" "...)
	if ld.originSet && keep[fOriginStatus] {
		b = strconv.AppendInt(b, int64(ld.originStatus), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	if ld.originSet && keep[fOriginContentSize] {
		b = strconv.AppendInt(b, ld.originSize, 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = appendCLFString(b, ld.requestHeader("Referer"), true)
	b = append(b, ' ')
	b = appendCLFString(b, ld.requestHeader("User-Agent"), true)
	b = append(b, ' ')
	if keep[fRequestCount] {
		b = strconv.AppendUint(b, ld.count, 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = str(b, fRouterName, ld.router, true)
	b = append(b, ' ')
	if ld.serviceURL != nil && keep[fServiceURL] {
		b = append(b, '"')
		b = appendURL(b, ld.serviceURL, appendCLFQuoted)
		b = append(b, '"')
	} else {
		b = append(b, `"-"`...)
	}
	b = append(b, ' ')
	var ms int64
	if keep[fDuration] {
		ms = ld.duration.Milliseconds()
	}
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, "ms\n"...)
	return b
}

func (ld *LogData) requestHeader(name string) string {
	for _, hv := range ld.headers {
		if hv.prefix == RequestHeaderPrefix && hv.name == name {
			return hv.value
		}
	}
	return ""
}

// appendCLFString writes s, or "-" when empty; quoted values get double
// quotes. Control bytes are escaped as \xHH, and in quoted values '"' and
// '\' are backslash-escaped, so a value can never break the line.
func appendCLFString(b []byte, s string, quoted bool) []byte {
	if s == "" {
		if quoted {
			return append(b, `"-"`...)
		}
		return append(b, '-')
	}
	if !quoted {
		return appendCLFContent(b, s, false)
	}
	b = append(b, '"')
	b = appendCLFContent(b, s, true)
	return append(b, '"')
}

func appendCLFContent(b []byte, s string, quoted bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case quoted && (c == '"' || c == '\\'):
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendCLFQuoted(b []byte, s string) []byte { return appendCLFContent(b, s, true) }

// appendURL writes u's string form through esc, without building the
// string for plain server URLs.
func appendURL(b []byte, u *url.URL, esc func([]byte, string) []byte) []byte {
	scheme, host, path, whole := urlParts(u)
	if whole != "" {
		return esc(b, whole)
	}
	b = append(b, scheme...)
	b = append(b, "://"...)
	b = append(b, host...)
	return append(b, path...)
}

const hexDigits = "0123456789abcdef"

// jsonKeys are the field keys pre-quoted, with their colon.
var jsonKeys = func() (k [numFields]string) {
	for i, n := range fieldNames {
		k[i] = string(appendJSONString(nil, n)) + ":"
	}
	return k
}()

// jsonWriter appends "key":value pairs with commas.
type jsonWriter struct {
	b     []byte
	first bool
}

// comma separates a pair from the previous one.
func (w *jsonWriter) comma() {
	if w.first {
		w.first = false
		return
	}
	w.b = append(w.b, ',')
}

// fkey writes a field's pre-quoted key.
func (w *jsonWriter) fkey(f field) {
	w.comma()
	w.b = append(w.b, jsonKeys[f]...)
}

func (w *jsonWriter) str(f field, v string) {
	w.fkey(f)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) int(f field, v int64) {
	w.fkey(f)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// appendJSON writes the fields in sorted key order, as Traefik does:
// capitalised core fields, then downstream_*, entryPointName, level, msg,
// origin_*, request_*, time.
func (h *Handler) appendJSON(b []byte, ld *LogData, now time.Time) []byte {
	keep := &h.fields.keep
	v := derive(ld)
	w := jsonWriter{b: append(b, '{'), first: true}

	var gzip float64
	hasGzip := ld.originSet && ld.size != ld.originSize && ld.size != 0
	if hasGzip {
		gzip = float64(ld.originSize) / float64(ld.size)
	}

	for f := field(0); f < fEntryPointName; f++ {
		if !keep[f] {
			continue
		}
		k := f
		switch f {
		case fClientAddr:
			w.str(k, ld.remoteAddr)
		case fClientHost:
			w.str(k, v.clientHost)
		case fClientPort:
			w.str(k, v.clientPort)
		case fClientUsername:
			w.str(k, v.username)
		case fDownstreamContentSize:
			w.int(k, ld.size)
		case fDownstreamStatus:
			w.int(k, int64(ld.status))
		case fDuration:
			w.int(k, int64(ld.duration))
		case fGzipRatio:
			if hasGzip {
				w.fkey(k)
				w.b = strconv.AppendFloat(w.b, gzip, 'g', -1, 64)
			}
		case fOriginContentSize:
			if ld.originSet {
				w.int(k, ld.originSize)
			}
		case fOriginDuration:
			if ld.originSet {
				w.int(k, int64(ld.originDuration))
			}
		case fOriginStatus:
			if ld.originSet {
				w.int(k, int64(ld.originStatus))
			}
		case fOverhead:
			w.int(k, int64(v.overhead))
		case fRequestAddr:
			if ld.host != "" {
				w.str(k, ld.host)
			}
		case fRequestContentSize:
			w.int(k, ld.reqSize)
		case fRequestCount:
			w.fkey(k)
			w.b = strconv.AppendUint(w.b, ld.count, 10)
		case fRequestHost:
			if ld.host != "" {
				w.str(k, v.reqHost)
			}
		case fRequestMethod:
			w.str(k, ld.method)
		case fRequestPath:
			w.fkey(k)
			w.b = append(w.b, '"')
			w.b = appendJSONContent(w.b, v.path)
			w.b = append(w.b, v.pathSep...)
			w.b = appendJSONContent(w.b, v.query)
			w.b = append(w.b, '"')
		case fRequestPort:
			if ld.host != "" {
				w.str(k, v.reqPort)
			}
		case fRequestProtocol:
			w.str(k, ld.proto)
		case fRequestScheme:
			w.str(k, v.scheme)
		case fRetryAttempts:
			w.int(k, int64(ld.retries.Load()))
		case fRouterName:
			if ld.router != "" {
				w.str(k, ld.router)
			}
		case fServiceAddr:
			if ld.serviceURL != nil {
				w.str(k, ld.serviceURL.Host)
			}
		case fServiceName:
			if ld.service != "" {
				w.str(k, ld.service)
			}
		case fServiceURL:
			if ld.serviceURL != nil {
				w.fkey(k)
				w.b = append(w.b, '"')
				w.b = appendURL(w.b, ld.serviceURL, appendJSONContent)
				w.b = append(w.b, '"')
			}
		case fStartLocal:
			w.fkey(k)
			w.b = append(w.b, '"')
			w.b = ld.start.Local().AppendFormat(w.b, time.RFC3339Nano)
			w.b = append(w.b, '"')
		case fStartUTC:
			w.fkey(k)
			w.b = append(w.b, '"')
			w.b = ld.start.UTC().AppendFormat(w.b, time.RFC3339Nano)
			w.b = append(w.b, '"')
		case fTLSCipher:
			if ld.tls != nil {
				w.str(k, tls.CipherSuiteName(ld.tls.CipherSuite))
			}
		case fTLSClientSubject:
			if ld.tls != nil && len(ld.tls.PeerCertificates) > 0 && ld.tls.PeerCertificates[0] != nil {
				w.str(k, ld.tls.PeerCertificates[0].Subject.String())
			}
		case fTLSVersion:
			if ld.tls != nil {
				w.str(k, tlsVersion(ld.tls.Version))
			}
		}
	}

	hdrs := ld.headers
	slices.SortFunc(hdrs, func(a, b headerValue) int {
		if c := strings.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	i := 0
	emitHeaders := func(prefix string) {
		for ; i < len(hdrs) && hdrs[i].prefix == prefix; i++ {
			w.comma()
			w.b = append(w.b, '"')
			w.b = append(w.b, prefix...)
			w.b = appendJSONContent(w.b, hdrs[i].name)
			w.b = append(w.b, '"', ':')
			w.b = appendJSONString(w.b, hdrs[i].value)
		}
	}
	emitHeaders(DownstreamHeaderPrefix)
	if keep[fEntryPointName] {
		w.str(fEntryPointName, ld.entryPoint)
	}
	w.comma()
	w.b = append(w.b, `"level":"info","msg":""`...)
	emitHeaders(OriginHeaderPrefix)
	emitHeaders(RequestHeaderPrefix)
	w.b = append(w.b, `,"time":"`...)
	w.b = now.AppendFormat(w.b, time.RFC3339)
	w.b = append(w.b, '"', '}', '\n')
	return w.b
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return "unknown"
}

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, like encoding/json.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONContent(b, s)
	return append(b, '"')
}

// appendJSONContent writes s escaped for a JSON string, without quotes.
func appendJSONContent(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
