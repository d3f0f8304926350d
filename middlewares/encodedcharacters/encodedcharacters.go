// Package encodedcharacters is the encodedCharacters middleware: a request
// whose path holds a percent-encoded character that is not allowed is
// answered 400. Unlike the entrypoint option of the same name, every
// character is refused unless allowed.
package encodedcharacters

import (
	"log/slog"
	"net/http"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/encodedpath"
)

// Setup returns the filtering wrapper (a pass-through when every character
// is allowed).
func Setup(cfg *dynamic.EncodedCharacters) (func(http.Handler) http.Handler, error) {
	if cfg == nil {
		cfg = &dynamic.EncodedCharacters{}
	}
	f := encodedpath.New(encodedpath.Allow{
		Slash: cfg.AllowEncodedSlash, BackSlash: cfg.AllowEncodedBackSlash, Null: cfg.AllowEncodedNullCharacter,
		Semicolon: cfg.AllowEncodedSemicolon, Percent: cfg.AllowEncodedPercent,
		QuestionMark: cfg.AllowEncodedQuestionMark, Hash: cfg.AllowEncodedHash,
	})
	return func(next http.Handler) http.Handler {
		if f == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refused(f, r) {
				slog.Debug("request refused: encoded character in the path", "path", r.URL.EscapedPath())
				http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// refused checks the path as the middleware sees it (after the rewrites of
// earlier middlewares), without building its escaped form.
func refused(f *encodedpath.Filter, r *http.Request) bool {
	if r.URL.RawPath != "" {
		return f.Refuses(r.URL.RawPath)
	}
	return f.RefusesDecoded(r.URL.Path)
}
