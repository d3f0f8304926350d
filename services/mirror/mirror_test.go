package mirror

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type counter struct {
	n      atomic.Int64
	mu     sync.Mutex
	bodies []string
	wg     *sync.WaitGroup
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(b))
	c.mu.Unlock()
	c.n.Add(1)
	if c.wg != nil {
		c.wg.Done()
	}
}

func TestHitExact(t *testing.T) {
	for _, p := range []int{0, 1, 10, 33, 50, 99, 100} {
		n := 0
		for i := uint64(1); i <= 10000; i++ {
			if hit(i, p) {
				n++
			}
		}
		if n != p*100 {
			t.Errorf("percent %d: %d of 10000", p, n)
		}
	}
}

func TestMirroring(t *testing.T) {
	var wg sync.WaitGroup
	main := &counter{}
	m10 := &counter{wg: &wg}
	m50 := &counter{wg: &wg}
	m, err := New(main, []Mirror{{Name: "a", Handler: m10, Percent: 10}, {Name: "b", Handler: m50, Percent: 50}}, Options{MirrorBody: true, MaxBodySize: -1})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(60)
	for i := 0; i < 100; i++ {
		m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("hello")))
	}
	wg.Wait()
	if main.n.Load() != 100 || m10.n.Load() != 10 || m50.n.Load() != 50 {
		t.Errorf("main %d, 10%% %d, 50%% %d", main.n.Load(), m10.n.Load(), m50.n.Load())
	}
	for _, b := range append(main.bodies, m50.bodies...) {
		if b != "hello" {
			t.Fatalf("body %q", b)
		}
	}
}

func TestMaxBodySizeAndNoBody(t *testing.T) {
	var wg sync.WaitGroup
	main := &counter{}
	mir := &counter{wg: &wg}
	m, _ := New(main, []Mirror{{Name: "a", Handler: mir, Percent: 100}}, Options{MirrorBody: true, MaxBodySize: 4})
	m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("too long body")))
	wg.Add(1)
	m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("ok")))
	wg.Wait()
	if main.bodies[0] != "too long body" || main.bodies[1] != "ok" || len(mir.bodies) != 1 || mir.bodies[0] != "ok" {
		t.Errorf("main %q mirror %q", main.bodies, mir.bodies)
	}

	main2, mir2 := &counter{}, &counter{wg: &wg}
	m, _ = New(main2, []Mirror{{Name: "a", Handler: mir2, Percent: 100}}, Options{MirrorBody: false})
	wg.Add(1)
	m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("secret")))
	wg.Wait()
	if main2.bodies[0] != "secret" || mir2.bodies[0] != "" {
		t.Errorf("mirrorBody false: main %q mirror %q", main2.bodies, mir2.bodies)
	}
}

func TestSlowMirrorNeverDelays(t *testing.T) {
	block := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block })
	m, _ := New(&counter{}, []Mirror{{Name: "slow", Handler: slow, Percent: 100}}, Options{MaxInFlight: 2})
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("client blocked by a slow mirror")
	}
	if m.Dropped() != 8 {
		t.Errorf("dropped %d, want 8", m.Dropped())
	}
	close(block)
	if _, err := New(&counter{}, []Mirror{{Name: "x", Handler: slow, Percent: 101}}, Options{}); err == nil {
		t.Error("percent 101 accepted")
	}
}
