package accesslog

import (
	"context"
	"net/http"
)

// contextWith adds ld to the request context. The context itself is a
// small allocation rather than pooled: code that keeps a request
// context after the request (transports, goroutines) must never see it
// change under its feet.
func contextWith(r *http.Request, ld *LogData) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, ld)
}
