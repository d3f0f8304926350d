package k8s

import (
	"context"
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
}

// NewLeader returns a Leader that is not leading until Run elects it.
func NewLeader() *Leader { return &Leader{changed: make(chan struct{}, 1)} }

// IsLeader reports whether this replica may write status now.
func (l *Leader) IsLeader() bool { return l.leading.Load() }

// Changed fires when leadership is gained (write all status now).
func (l *Leader) Changed() <-chan struct{} { return l.changed }

// Run campaigns until ctx is done, re-campaigning after a lost lease.
func (l *Leader) Run(ctx context.Context, cs kubernetes.Interface, o LeaderOptions, log *slog.Logger) {
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
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
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
						log.Info("leading: this replica writes status", "lease", o.Namespace+"/"+o.Name)
					}
				},
				OnStoppedLeading: func() { l.leading.Store(false) },
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
