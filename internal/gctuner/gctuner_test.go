package gctuner

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	cfg := Config{MinGoal: 64 << 20, MaxPercent: 800}
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 800},
		{4 << 20, 800},   // 64/4 → 1500 %, capped
		{16 << 20, 300},  // goal 64 MiB
		{32 << 20, 100},  // already there
		{200 << 20, 100}, // never below the default
	} {
		if got := Percent(tc.live, cfg); got != tc.want {
			t.Errorf("live %d MiB: %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

func TestStartRaisesGOGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(100)
	if !Start(Config{MinGoal: 256 << 20, MaxPercent: 500}) {
		t.Fatal("not started")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		if metrics.Read(s); s[0].Value.Uint64() == 500 {
			return
		}
	}
	t.Fatal("GOGC was not raised after a collection")
}

// The operator's GOMEMLIMIT or GOGC wins: the tuner does not start, so it
// never raises GOGC past what a memory limit expects (issue 13, must-hold 7).
func TestStartStepsAsideForOperator(t *testing.T) {
	for _, env := range [][2]string{{"GOMEMLIMIT", "64MiB"}, {"GOGC", "50"}} {
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "")
		t.Setenv(env[0], env[1])
		if Start(Config{MinGoal: 64 << 20, MaxPercent: 800}) {
			t.Errorf("%s=%s: the tuner started", env[0], env[1])
		}
	}
}
