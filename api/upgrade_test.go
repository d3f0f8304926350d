package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/internal/upgrade"
)

func TestUpgradeEndpoint(t *testing.T) {
	h := newTestHandler(t)
	if rec := do(h, http.MethodPost, "/api/upgrade"); rec.Code != http.StatusNotFound {
		t.Fatalf("without an upgrader: %d, want 404", rec.Code)
	}
	var result upgrade.ReadyMeta
	var err error
	calls := 0
	h.SetUpgrader(func(context.Context) (upgrade.ReadyMeta, error) { calls++; return result, err })

	rec := do(h, http.MethodGet, "/api/upgrade")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost || calls != 0 {
		t.Fatalf("GET: %d Allow=%q calls=%d", rec.Code, rec.Header().Get("Allow"), calls)
	}

	result = upgrade.ReadyMeta{PID: 42, Generation: 3}
	rec = do(h, http.MethodPost, "/api/upgrade")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"pid":42`) || !strings.Contains(rec.Body.String(), `"generation":3`) {
		t.Fatalf("success: %d %s", rec.Code, rec.Body)
	}

	err = fmt.Errorf("%w: an upgrade is already under way", upgrade.ErrBusy)
	rec = do(h, http.MethodPost, "/api/upgrade")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already under way") {
		t.Fatalf("busy: %d %s", rec.Code, rec.Body)
	}

	err = errors.New("new process exited before ready: exit status 1")
	rec = do(h, http.MethodPost, "/api/upgrade")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "exit status 1") {
		t.Fatalf("failure: %d %s", rec.Code, rec.Body)
	}
}
