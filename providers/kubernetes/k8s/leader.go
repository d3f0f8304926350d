package k8s

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Leader elects one replica to write status (Ingress load-balancer
// addresses, Gateway API conditions): every replica routes, only the
// leader writes, so replicas never fight over a status field.
type Leader struct {
	leading atomic.Bool
	changed chan struct{}
}

// LeaderOptions name the Lease and this replica.
type LeaderOptions struct {
	// Namespace of the Lease; default $POD_NAMESPACE, else "default".
	Namespace string
	// Name of the Lease, one per provider kind ("switchyard-ingress").
	Name string
	// Identity of this replica; default $POD_NAME, else the host name.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod time the election;
	// zero takes $LEADER_ELECTION_LEASE_DURATION,
	// $LEADER_ELECTION_RENEW_DEADLINE and $LEADER_ELECTION_RETRY_PERIOD
	// (Go durations, set by the Helm chart), else 15 s, 10 s and 2 s. A
	// dead leader is replaced within LeaseDuration + RetryPeriod.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// Default leader election timings (client-go's usual values).
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Environment variables that time the election when LeaderOptions do not.
const (
	EnvLeaseDuration = "LEADER_ELECTION_LEASE_DURATION"
	EnvRenewDeadline = "LEADER_ELECTION_RENEW_DEADLINE"
	EnvRetryPeriod   = "LEADER_ELECTION_RETRY_PERIOD"
)

// timings fills the zero durations of o from the environment (getenv),
// then from the defaults, and checks client-go's constraints
// (leaseDuration > renewDeadline > 1.2 x retryPeriod > 0). A bad value
// is an error naming its variable; the defaults are then used whole.
func (o LeaderOptions) timings(getenv func(string) string) (lease, renew, retry time.Duration, err error) {
	pick := func(v time.Duration, env string, def time.Duration) (time.Duration, error) {
		if v != 0 {
			return v, nil
		}
		s := getenv(env)
		if s == "" {
			return def, nil
		}
		d, perr := time.ParseDuration(s)
		if perr != nil {
			return 0, fmt.Errorf("%s=%q: %w", env, s, perr)
		}
		if d <= 0 {
			return 0, fmt.Errorf("%s=%q: must be positive", env, s)
		}
		return d, nil
	}
	var errs [3]error
	lease, errs[0] = pick(o.LeaseDuration, EnvLeaseDuration, DefaultLeaseDuration)
	renew, errs[1] = pick(o.RenewDeadline, EnvRenewDeadline, DefaultRenewDeadline)
	retry, errs[2] = pick(o.RetryPeriod, EnvRetryPeriod, DefaultRetryPeriod)
	for _, e := range errs {
		if e != nil {
			return DefaultLeaseDuration, DefaultRenewDeadline, DefaultRetryPeriod, e
		}
	}
	switch {
	case lease <= renew:
		err = fmt.Errorf("leader election: lease duration %v must be longer than the renew deadline %v", lease, renew)
	case float64(renew) <= leaderelection.JitterFactor*float64(retry):
		err = fmt.Errorf("leader election: renew deadline %v must be longer than %v x the retry period %v", renew, leaderelection.JitterFactor, retry)
	}
	if err != nil {
		return DefaultLeaseDuration, DefaultRenewDeadline, DefaultRetryPeriod, err
	}
	return lease, renew, retry, nil
}

// NewLeader returns a Leader that is not leading until Run elects it.
func NewLeader() *Leader { return &Leader{changed: make(chan struct{}, 1)} }

// IsLeader reports whether this replica may write status now.
func (l *Leader) IsLeader() bool { return l.leading.Load() }

// Changed fires when leadership is gained (write all status now).
func (l *Leader) Changed() <-chan struct{} { return l.changed }

// campaigns counts the Run calls still going, so that the process can let
// them release their Leases before it exits (WaitReleased). A counter, not
// a WaitGroup: a provider may start campaigning while the process waits.
var campaigns atomic.Int64

// WaitReleased waits up to timeout for every Run whose context was
// cancelled to return: a leader releases its Lease on the way out, so a
// replica stopping cleanly (a rollout) hands over at once instead of after
// the lease duration. It reports whether all returned in time.
func WaitReleased(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for campaigns.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Run campaigns until ctx is done, re-campaigning after a lost lease. On
// the way out a leader releases its Lease (see WaitReleased).
func (l *Leader) Run(ctx context.Context, cs kubernetes.Interface, o LeaderOptions, log *slog.Logger) {
	campaigns.Add(1)
	defer campaigns.Add(-1)
	if o.Namespace == "" {
		o.Namespace = os.Getenv("POD_NAMESPACE")
	}
	if o.Namespace == "" {
		o.Namespace = metav1.NamespaceDefault
	}
	if o.Identity == "" {
		o.Identity = os.Getenv("POD_NAME")
	}
	if o.Identity == "" {
		o.Identity, _ = os.Hostname()
	}
	lease, renew, retry, err := o.timings(os.Getenv)
	if err != nil && log != nil {
		log.Error("leader election timings ignored, using the defaults", "error", err,
			"leaseDuration", lease, "renewDeadline", renew, "retryPeriod", retry)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   lease,
			RenewDeadline:   renew,
			RetryPeriod:     retry,
			ReleaseOnCancel: true,
			Name:            o.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) {
					l.leading.Store(true)
					select {
					case l.changed <- struct{}{}:
					default:
					}
					if log != nil {
						log.Info("leading: this replica writes status", "lease", o.Namespace+"/"+o.Name, "identity", o.Identity)
					}
				},
				OnStoppedLeading: func() {
					if l.leading.Swap(false) && log != nil {
						log.Info("stopped leading: another replica writes status", "lease", o.Namespace+"/"+o.Name, "identity", o.Identity)
					}
				},
			},
		})
		if err != nil {
			if log != nil {
				log.Error("leader election", "error", err)
			}
			return
		}
		le.Run(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
