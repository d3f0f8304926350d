package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
)

// echoServer is a grpc-go test service: unary and bidirectional echo, with a
// trailer on every call.
type echoServer struct {
	testpb.UnimplementedTestServiceServer
	name string
}

func (s *echoServer) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-served-by", s.name))
	return &testpb.SimpleResponse{Payload: in.GetPayload(), Username: s.name}, nil
}

func (s *echoServer) FullDuplexCall(stream grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	n := 0
	for {
		in, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			stream.SetTrailer(metadata.Pairs("x-count", itoa(n)))
			return nil
		}
		if err != nil {
			return err
		}
		n++
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: in.GetPayload()}); err != nil {
			return err
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestServicesGRPC proxies gRPC unary and bidirectional streaming calls with
// trailers to a grpc-go server over h2c, with a gRPC health check whose
// transitions show in the API.
func TestServicesGRPC(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, &echoServer{name: "grpc-a"})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	backend := "h2c://" + ln.Addr().String()

	e := newEnv(t)
	e.SetURL("grpc", backend)
	e.WriteDynamic("yml", `
http:
  routers:
    grpc: {rule: "PathPrefix(`+"`/`"+`)", service: grpc}
  services:
    grpc:
      loadBalancer:
        healthCheck: {mode: grpc, interval: 50ms, timeout: 1s}
        servers: [{url: "<% url "grpc" %>"}]
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("grpc@file")
	e.WaitListening(e.Addr("web"))
	waitServerStatus(t, e, "grpc@file", backend, "UP")

	conn, err := grpc.NewClient(e.Addr("web"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := testpb.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var trailer metadata.MD
	resp, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping")}}, grpc.Trailer(&trailer))
	if err != nil {
		t.Fatalf("unary: %v", err)
	}
	if string(resp.GetPayload().GetBody()) != "ping" || resp.GetUsername() != "grpc-a" || trailer.Get("x-served-by")[0] != "grpc-a" {
		t.Errorf("unary: %v trailer %v", resp, trailer)
	}

	stream, err := c.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		body := make([]byte, 1024+i)
		if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		got, err := stream.Recv()
		if err != nil || len(got.GetPayload().GetBody()) != len(body) {
			t.Fatalf("recv %d: %v", i, err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("end of stream: %v", err)
	}
	if got := stream.Trailer().Get("x-count"); len(got) != 1 || got[0] != itoa(n) {
		t.Errorf("stream trailer %v", stream.Trailer())
	}

	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	waitServerStatus(t, e, "grpc@file", backend, "DOWN")
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err == nil {
		t.Error("call succeeded with the only server down")
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	waitServerStatus(t, e, "grpc@file", backend, "UP")
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}
