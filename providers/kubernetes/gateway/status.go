package gateway

import (
	"context"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
	gateclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// statusLoop writes the last computed status while this replica leads:
// after every rebuild and when leadership is gained. Only objects whose
// status differs are written (a write causes an informer event, a rebuild
// and the same status: the loop settles).
func (p *Provider) statusLoop(ctx context.Context, gcs gateclient.Interface, st *informerStore, leader *k8s.Leader, trig k8s.Trigger) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trig:
		case <-leader.Changed():
		case <-retry.C:
		}
		if !leader.IsLeader() {
			continue
		}
		p.mu.Lock()
		s := p.pending
		p.mu.Unlock()
		if s == nil {
			continue
		}
		if failed := p.writeStatus(ctx, gcs, st, *s); failed > 0 {
			// Conflicts (someone wrote meanwhile) or a flaky API server:
			// try again soon from the newest state.
			retry.Reset(time.Second)
		}
	}
}

// mergeConditions keeps the transition time of conditions whose status did
// not change, so an unchanged status compares equal to the stored one.
func mergeConditions(old, desired []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(desired))
	for _, d := range desired {
		d.LastTransitionTime = now
		for _, o := range old {
			if o.Type == d.Type && o.Status == d.Status {
				d.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, d)
	}
	return out
}

func (p *Provider) writeStatus(ctx context.Context, gcs gateclient.Interface, st *informerStore, s Status) (failed int) {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	api := gcs.GatewayV1()
	report := func(kind string, key types.NamespacedName, err error) {
		if err != nil {
			failed++
			p.log.Debug("status write", "kind", kind, "object", key.String(), "error", err)
		}
	}
	// A problem is logged once, when the status saying it is written.
	warn := func(kind string, key types.NamespacedName, conds []metav1.Condition) {
		for _, c := range conds {
			bad := c.Status == metav1.ConditionFalse
			if c.Type == "Conflicted" {
				bad = c.Status == metav1.ConditionTrue
			}
			if bad {
				p.log.Warn("object not (fully) accepted", "kind", kind, "object", key.String(), "condition", c.Type, "reason", c.Reason, "message", c.Message)
			}
		}
	}
	for name, want := range s.GatewayClasses {
		gc, err := st.classes.Get(name)
		if err != nil {
			continue
		}
		want.Conditions = mergeConditions(gc.Status.Conditions, want.Conditions, now)
		// Conditions of other types (another writer's) are kept.
		for _, c := range gc.Status.Conditions {
			if !slices.ContainsFunc(want.Conditions, func(w metav1.Condition) bool { return w.Type == c.Type }) {
				want.Conditions = append(want.Conditions, c)
			}
		}
		if equality.Semantic.DeepEqual(gc.Status, want) {
			continue
		}
		c := gc.DeepCopy()
		c.Status = want
		_, err = api.GatewayClasses().UpdateStatus(ctx, c, metav1.UpdateOptions{})
		report("GatewayClass", types.NamespacedName{Name: name}, err)
	}
	for key, want := range s.Gateways {
		l := st.in(key.Namespace)
		if l == nil {
			continue
		}
		gw, err := l.gateways.Gateways(key.Namespace).Get(key.Name)
		if err != nil {
			continue
		}
		want.Conditions = mergeConditions(gw.Status.Conditions, want.Conditions, now)
		for i := range want.Listeners {
			var old []metav1.Condition
			for _, ol := range gw.Status.Listeners {
				if ol.Name == want.Listeners[i].Name {
					old = ol.Conditions
				}
			}
			want.Listeners[i].Conditions = mergeConditions(old, want.Listeners[i].Conditions, now)
		}
		want.AttachedListenerSets = gw.Status.AttachedListenerSets
		if equality.Semantic.DeepEqual(gw.Status, want) {
			continue
		}
		c := gw.DeepCopy()
		c.Status = want
		_, err = api.Gateways(key.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
		report("Gateway", key, err)
		if err == nil {
			warn("Gateway", key, want.Conditions)
			for _, l := range want.Listeners {
				warn("Gateway listener "+string(l.Name), key, l.Conditions)
			}
		}
	}
	// Routes that no longer attach to any of our Gateways (the Gateway was
	// deleted, or the parentRef changed) lose this controller's entries.
	routes := maps.Clone(s.Routes)
	for _, k := range staleRoutes(st, s.Routes) {
		routes[k] = nil
	}
	for key, want := range routes {
		l := st.in(key.Namespace)
		if l == nil {
			continue
		}
		var err error
		switch key.Kind {
		case kindHTTP:
			var r *gatev1.HTTPRoute
			if r, err = l.http.HTTPRoutes(key.Namespace).Get(key.Name); err == nil {
				if parents, changed := mergeParents(r.Status.Parents, want, now); changed {
					c := r.DeepCopy()
					c.Status.Parents = parents
					_, err = api.HTTPRoutes(key.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
					report(key.Kind, key.NamespacedName, err)
					if err == nil {
						for _, w := range want {
							warn(key.Kind, key.NamespacedName, w.Conditions)
						}
					}
				}
			}
		case kindGRPC:
			var r *gatev1.GRPCRoute
			if r, err = l.grpc.GRPCRoutes(key.Namespace).Get(key.Name); err == nil {
				if parents, changed := mergeParents(r.Status.Parents, want, now); changed {
					c := r.DeepCopy()
					c.Status.Parents = parents
					_, err = api.GRPCRoutes(key.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
					report(key.Kind, key.NamespacedName, err)
					if err == nil {
						for _, w := range want {
							warn(key.Kind, key.NamespacedName, w.Conditions)
						}
					}
				}
			}
		case kindTLS:
			var r *gatev1.TLSRoute
			if r, err = l.tls.TLSRoutes(key.Namespace).Get(key.Name); err == nil {
				if parents, changed := mergeParents(r.Status.Parents, want, now); changed {
					c := r.DeepCopy()
					c.Status.Parents = parents
					_, err = api.TLSRoutes(key.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
					report(key.Kind, key.NamespacedName, err)
					if err == nil {
						for _, w := range want {
							warn(key.Kind, key.NamespacedName, w.Conditions)
						}
					}
				}
			}
		case kindTCP:
			var r *gatev1.TCPRoute
			if r, err = l.tcp.TCPRoutes(key.Namespace).Get(key.Name); err == nil {
				if parents, changed := mergeParents(r.Status.Parents, want, now); changed {
					c := r.DeepCopy()
					c.Status.Parents = parents
					_, err = api.TCPRoutes(key.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
					report(key.Kind, key.NamespacedName, err)
					if err == nil {
						for _, w := range want {
							warn(key.Kind, key.NamespacedName, w.Conditions)
						}
					}
				}
			}
		}
	}
	return failed
}

// mergeParents replaces this controller's parent entries by want, keeps
// other controllers' entries, and reports whether anything changed.
func mergeParents(old, want []gatev1.RouteParentStatus, now metav1.Time) ([]gatev1.RouteParentStatus, bool) {
	var out []gatev1.RouteParentStatus
	for _, o := range old {
		if o.ControllerName != ControllerName {
			out = append(out, o)
		}
	}
	for _, w := range want {
		var prev []metav1.Condition
		for _, o := range old {
			if o.ControllerName == ControllerName && equality.Semantic.DeepEqual(o.ParentRef, w.ParentRef) {
				prev = o.Conditions
			}
		}
		w.Conditions = mergeConditions(prev, w.Conditions, now)
		out = append(out, w)
	}
	return out, !equality.Semantic.DeepEqual(old, out)
}

// staleRoutes are the routes of st that carry a parent status entry of
// this controller but got no status in this build: no parentRef of theirs
// names one of our Gateways any more. Their entries are removed.
func staleRoutes(st Store, computed map[RouteKey][]gatev1.RouteParentStatus) []RouteKey {
	var out []RouteKey
	check := func(kind string, m metav1.Object, parents []gatev1.RouteParentStatus) {
		k := RouteKey{Kind: kind, NamespacedName: types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()}}
		if _, ok := computed[k]; ok {
			return
		}
		if slices.ContainsFunc(parents, func(p gatev1.RouteParentStatus) bool { return p.ControllerName == ControllerName }) {
			out = append(out, k)
		}
	}
	for _, r := range st.HTTPRoutes() {
		check(kindHTTP, r, r.Status.Parents)
	}
	for _, r := range st.GRPCRoutes() {
		check(kindGRPC, r, r.Status.Parents)
	}
	for _, r := range st.TLSRoutes() {
		check(kindTLS, r, r.Status.Parents)
	}
	for _, r := range st.TCPRoutes() {
		check(kindTCP, r, r.Status.Parents)
	}
	return out
}
