package k8s

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/leaderelection"
)

func TestLeaderTimings(t *testing.T) {
	def := [3]time.Duration{DefaultLeaseDuration, DefaultRenewDeadline, DefaultRetryPeriod}
	tests := []struct {
		name    string
		opts    LeaderOptions
		env     map[string]string
		want    [3]time.Duration
		wantErr string
	}{
		{name: "defaults", want: def},
		{name: "from the environment", env: map[string]string{EnvLeaseDuration: "3s", EnvRenewDeadline: "2s", EnvRetryPeriod: "500ms"},
			want: [3]time.Duration{3 * time.Second, 2 * time.Second, 500 * time.Millisecond}},
		{name: "options win over the environment", opts: LeaderOptions{LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: time.Second},
			env:  map[string]string{EnvLeaseDuration: "3s", EnvRenewDeadline: "2s", EnvRetryPeriod: "500ms"},
			want: [3]time.Duration{4 * time.Second, 3 * time.Second, time.Second}},
		{name: "one from the environment, the others default", env: map[string]string{EnvLeaseDuration: "20s"},
			want: [3]time.Duration{20 * time.Second, DefaultRenewDeadline, DefaultRetryPeriod}},
		{name: "not a duration", env: map[string]string{EnvRetryPeriod: "2"}, want: def, wantErr: EnvRetryPeriod},
		{name: "negative", env: map[string]string{EnvLeaseDuration: "-1s"}, want: def, wantErr: "must be positive"},
		{name: "lease not longer than renew", env: map[string]string{EnvLeaseDuration: "10s"}, want: def, wantErr: "longer than the renew deadline"},
		{name: "renew too close to retry", env: map[string]string{EnvLeaseDuration: "3s", EnvRenewDeadline: "2s", EnvRetryPeriod: "2s"}, want: def, wantErr: "retry period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lease, renew, retry, err := tt.opts.timings(func(k string) string { return tt.env[k] })
			if got := [3]time.Duration{lease, renew, retry}; got != tt.want {
				t.Errorf("timings = %v, want %v", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWaitReleased(t *testing.T) {
	if !WaitReleased(time.Second) {
		t.Fatal("no campaign running, yet WaitReleased timed out")
	}
	campaigns.Add(1)
	start := time.Now()
	if WaitReleased(50 * time.Millisecond) {
		t.Fatal("a campaign is running, yet WaitReleased returned true")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("returned after %v, before its timeout", d)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		campaigns.Add(-1)
	}()
	if !WaitReleased(5 * time.Second) {
		t.Fatal("the campaign ended, yet WaitReleased timed out")
	}
}

// FuzzLeaderTimings: whatever the three variables hold, timings never
// panics and returns durations client-go accepts (its own checks).
func FuzzLeaderTimings(f *testing.F) {
	f.Add("15s", "10s", "2s")
	f.Add("3s", "2s", "500ms")
	f.Add("", "", "")
	f.Add("1h", "-1s", "x")
	f.Add("10s", "10s", "9s")
	f.Add("9223372036854775807ns", "1ns", "0s")
	f.Fuzz(func(t *testing.T, lease, renew, retry string) {
		env := map[string]string{EnvLeaseDuration: lease, EnvRenewDeadline: renew, EnvRetryPeriod: retry}
		l, r, p, err := LeaderOptions{}.timings(func(k string) string { return env[k] })
		if l <= r || float64(r) <= leaderelection.JitterFactor*float64(p) || p <= 0 {
			t.Fatalf("timings(%q, %q, %q) = %v, %v, %v (err %v): not valid for client-go", lease, renew, retry, l, r, p, err)
		}
		if err != nil && (l != DefaultLeaseDuration || r != DefaultRenewDeadline || p != DefaultRetryPeriod) {
			t.Fatalf("error %v but not the defaults: %v, %v, %v", err, l, r, p)
		}
	})
}
