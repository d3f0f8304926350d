package proxy

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/retryhook"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
)

// newStdProxy forwards through net/http/httputil.ReverseProxy: for https and h2c
// backends (and http ones behind an environment proxy), correctness first.
// readTimeout > 0 bounds how long the response body may make no progress.
func newStdProxy(target *url.URL, rt http.RoundTripper, readTimeout time.Duration, opts Options) http.Handler {
	prefix := target.EscapedPath()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if readTimeout > 0 {
				// The body watchdog cancels the outgoing request: that is
				// what ends a blocked body read in net/http (h1 and h2).
				ctx, cancel := context.WithCancel(pr.Out.Context())
				pr.Out = pr.Out.WithContext(context.WithValue(ctx, stallCancelKey{}, cancel))
			}
			in, out := pr.In, pr.Out
			// Rewrite strips these; Traefik passes them through.
			for _, k := range [...]string{"X-Forwarded-For", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto"} {
				if v, ok := in.Header[k]; ok {
					out.Header[k] = v
				}
			}
			if prior, ok := out.Header["X-Forwarded-For"]; !ok || prior != nil {
				if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
					if len(prior) > 0 {
						ip = strings.Join(prior, ", ") + ", " + ip
					}
					out.Header["X-Forwarded-For"] = []string{ip}
				}
			}
			out.URL.Scheme = target.Scheme
			out.URL.Host = target.Host
			if opts.PreservePath {
				p := joinPaths(prefix, in.URL.EscapedPath())
				if up, err := url.PathUnescape(p); err == nil {
					out.URL.Path, out.URL.RawPath = up, p
				}
			}
			out.URL.RawQuery = strings.ReplaceAll(in.URL.RawQuery, ";", "&")
			if !opts.PassHostHeader || out.Host == "" {
				out.Host = target.Host
			}
			if upgradeType(out.Header) != "" {
				for k, v := range out.Header {
					if wk := webSocketKey(k); wk != k {
						delete(out.Header, k)
						out.Header[wk] = v
					}
				}
			}
		},
		Transport:     rt,
		FlushInterval: opts.FlushInterval,
		BufferPool:    copyBufPool{},
		ErrorLog:      slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
		ErrorHandler: func(rw http.ResponseWriter, r *http.Request, err error) {
			code := statusFor(r.Context(), err)
			logError(r, code, err)
			if opts.AccessLog {
				accesslog.SetOriginStatus(r, code, 0)
			}
			if retryable(code, err) && retryhook.Failed(r) {
				return // the retry middleware runs the request again
			}
			writeErrorStatus(rw, code)
		},
	}
	if readTimeout > 0 {
		rp.ModifyResponse = func(resp *http.Response) error {
			if cancel, ok := resp.Request.Context().Value(stallCancelKey{}).(context.CancelFunc); ok &&
				resp.StatusCode != http.StatusSwitchingProtocols {
				resp.Body = &stallBody{rc: resp.Body, timeout: readTimeout, timer: time.AfterFunc(readTimeout, cancel)}
			}
			if opts.AccessLog {
				accesslog.SetOriginStatus(resp.Request, resp.StatusCode, resp.ContentLength)
			}
			return nil
		}
	}
	if !opts.AccessLog {
		return rp
	}
	if rp.ModifyResponse == nil {
		rp.ModifyResponse = func(resp *http.Response) error {
			accesslog.SetOriginStatus(resp.Request, resp.StatusCode, resp.ContentLength)
			return nil
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		accesslog.SetService(r, "", target)
		rp.ServeHTTP(w, r)
		accesslog.SetOriginDuration(r, time.Since(start))
	})
}

type stallCancelKey struct{}

// stallBody cancels its request when no byte came for timeout
// (forwardingTimeouts.readTimeout on https:// and h2c:// backends): the
// client response is then aborted, never completed.
type stallBody struct {
	rc      io.ReadCloser
	timeout time.Duration
	timer   *time.Timer
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.timeout)
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	return b.rc.Close()
}

// copyBufPool lends ReverseProxy the same 32 KiB buffers the fast path uses.
type copyBufPool struct{}

func (copyBufPool) Get() []byte { return *copyBufs.Get().(*[]byte) }

func (copyBufPool) Put(b []byte) {
	if cap(b) >= copyBufSize {
		b = b[:copyBufSize]
		copyBufs.Put(&b)
	}
}

var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, copyBufSize)
	return &b
}}

// logError records a forwarding failure at debug level (the access log has the status).
func logError(r *http.Request, code int, err error) {
	ctx := r.Context()
	if !slog.Default().Enabled(ctx, slog.LevelDebug) {
		return
	}
	slog.Default().LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "proxy error",
		slog.Int("status", code), slog.String("method", r.Method), slog.String("host", r.Host),
		slog.String("error", err.Error()))
}
