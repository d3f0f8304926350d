package integration

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
)

// TestMiddlewareGrpcWeb calls a grpc-go server (h2c) the way a browser
// does: gRPC-Web over HTTP/1.1, the trailers coming back in the last frame.
func TestMiddlewareGrpcWeb(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, &echoServer{name: "grpc-web"})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	e := startMW(t, "", mwRouter("gw", `
    gw:
      grpcWeb:
        allowOrigins: ["*"]
`, `<% url "grpc" %>`), func(e *Env) { e.SetURL("grpc", "h2c://"+ln.Addr().String()) })

	msg, err := proto.Marshal(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping")}})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	frame = append(frame, msg...)
	req, _ := http.NewRequest("POST", e.URL("web")+"/grpc.testing.TestService/UnaryCall", bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")
	req.Header.Set("Origin", "https://app.example")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/grpc-web+proto" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	var out testpb.SimpleResponse
	var trailers string
	for len(body) >= 5 {
		flag, n := body[0], binary.BigEndian.Uint32(body[1:5])
		if int(n) > len(body)-5 {
			t.Fatalf("truncated frame: %q", body)
		}
		payload := body[5 : 5+n]
		body = body[5+n:]
		if flag&0x80 != 0 {
			trailers = string(payload)
			continue
		}
		if err := proto.Unmarshal(payload, &out); err != nil {
			t.Fatal(err)
		}
	}
	if string(out.GetPayload().GetBody()) != "ping" || out.GetUsername() != "grpc-web" {
		t.Errorf("response %v", &out)
	}
	if !strings.Contains(trailers, "grpc-status: 0\r\n") || !strings.Contains(trailers, "x-served-by: grpc-web\r\n") {
		t.Errorf("trailer frame %q", trailers)
	}
}
