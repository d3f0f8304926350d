package integration

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestKubeGatewayGRPCAndReferenceGrant: a GRPCRoute matching a gRPC
// service/method to a real grpc-go server over h2c; and an HTTPRoute whose
// backend is in another namespace: refused (ResolvedRefs False,
// RefNotPermitted) until a ReferenceGrant in that namespace allows it, then
// served; deleting the grant refuses it again.
func TestKubeGatewayGRPCAndReferenceGrant(t *testing.T) {
	s := newGatewaySetup(t)
	kn := requireKubeNet(t)
	e := newEnv(t)
	ctx := context.Background()
	other := s.k.Namespace(t)

	// gRPC backend.
	gip := kn.NewIP(t)
	gln := kn.Listen(t, gip, 0)
	gs := grpc.NewServer()
	testpb.RegisterTestServiceServer(gs, &echoServer{name: "grpc-gw"})
	go gs.Serve(gln)
	t.Cleanup(gs.Stop)
	s.k.ServiceWithEndpoints(t, s.ns, "grpc", "grpc", 9000, int32(gln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: gip, Ready: true})

	// A backend in the other namespace.
	ip, port := gwEcho(t, kn, "far")
	s.k.ServiceWithEndpoints(t, other, "far", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})

	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "127.0.0.1:<% port "web" %>"
  traefik:
    address: "127.0.0.1:<% port "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 200ms
  kubernetesGateway:
`+s.k.ProviderYAML("    ")+`    namespaces: ["`+s.ns+`", "`+other+`"]
    labelSelector: "switchyard-test=`+s.ns+`"
`)
	s.gateway(t, "gw", gatev1.Listener{Name: "http", Port: int32(e.Port("web")), Protocol: gatev1.HTTPProtocolType})
	if _, err := s.gw.GatewayV1().GRPCRoutes(s.ns).Create(ctx, &gatev1.GRPCRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "grpc"},
		Spec: gatev1.GRPCRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "")}},
			Hostnames:       []gatev1.Hostname{"grpc.example"},
			Rules: []gatev1.GRPCRouteRule{{
				Matches: []gatev1.GRPCRouteMatch{{Method: &gatev1.GRPCMethodMatch{
					Service: gwPtr("grpc.testing.TestService"), Method: gwPtr("UnaryCall"),
				}}},
				BackendRefs: []gatev1.GRPCBackendRef{{BackendRef: gatev1.BackendRef{
					BackendObjectReference: gatev1.BackendObjectReference{Name: "grpc", Port: gwPtr(int32(9000))},
				}}},
			}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	farRef := gwBackendRef("far", 80, 1)
	farRef.Namespace = gwPtr(gatev1.Namespace(other))
	s.httpRoute(t, gwRoute("cross", []string{"cross.example"}, gatev1.HTTPRouteRule{BackendRefs: backends(farRef)}))
	e.Start()

	t.Run("grpc", func(t *testing.T) {
		conn, err := grpc.NewClient(e.Addr("web"), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("grpc.example"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := testpb.NewTestServiceClient(conn)
		deadline := time.Now().Add(30 * time.Second)
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := c.UnaryCall(cctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping")}})
			cancel()
			if err == nil {
				if resp.GetUsername() != "grpc-gw" || string(resp.GetPayload().GetBody()) != "ping" {
					t.Fatalf("unary: %v", resp)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("gRPC through the gateway: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Another method of the service is not routed.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := c.EmptyCall(cctx, &testpb.Empty{}); err == nil {
			t.Error("EmptyCall was routed; only UnaryCall matches")
		}
		gwWaitCond(t, "GRPCRoute", s.routeParentConds("GRPCRoute", "grpc"), "Accepted", metav1.ConditionTrue, "Accepted")
	})
	t.Run("referenceGrant", func(t *testing.T) {
		web := e.URL("web")
		c := gwWaitCond(t, "cross route", s.routeParentConds("HTTPRoute", "cross"), "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
		t.Logf("without a grant: %s", c.Message)
		// A refused backendRef answers 500, as the Gateway API requires.
		gwWaitHTTP(t, request{url: web + "/", host: "cross.example"}, "refused backend", func(r Reply) bool { return r.Status == 500 })
		grant := &gatev1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-routes", Namespace: other},
			Spec: gatev1.ReferenceGrantSpec{
				From: []gatev1.ReferenceGrantFrom{{Group: gatev1.GroupName, Kind: "HTTPRoute", Namespace: gatev1.Namespace(s.ns)}},
				To:   []gatev1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
			},
		}
		if _, err := s.gw.GatewayV1().ReferenceGrants(other).Create(ctx, grant, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		rep := gwWaitHTTP(t, request{url: web + "/", host: "cross.example"}, "granted backend", func(r Reply) bool { return r.Status == 200 })
		if gwParseEcho(t, rep.Body).Name != "far" {
			t.Fatalf("granted route answered %q", rep.Body)
		}
		gwWaitCond(t, "cross route", s.routeParentConds("HTTPRoute", "cross"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
		if err := s.gw.GatewayV1().ReferenceGrants(other).Delete(ctx, "allow-routes", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		gwWaitHTTP(t, request{url: web + "/", host: "cross.example"}, "grant removed", func(r Reply) bool { return r.Status == 500 })
		gwWaitCond(t, "cross route", s.routeParentConds("HTTPRoute", "cross"), "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
	})
}
