package retryhook

import (
	"net/http/httptest"
	"testing"
)

func TestFailed(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if Failed(r) {
		t.Fatal("no attempt record: must not claim a retry")
	}
	more := true
	a := &Attempt{Retrier: retrierFunc(func() bool { return more })}
	r = With(r, a)
	if !Failed(r) || !a.TakeFailed() || a.TakeFailed() {
		t.Fatal("retryable failure not recorded once")
	}
	more = false
	if Failed(r) || a.TakeFailed() {
		t.Fatal("last attempt must be answered by the proxy")
	}
}

type retrierFunc func() bool

func (f retrierFunc) Retryable() bool { return f() }
