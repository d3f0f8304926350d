package healthcheck

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzGRPCServing feeds arbitrary response bodies to the gRPC health parser:
// it must never panic, and only a SERVING message is healthy.
func FuzzGRPCServing(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 2, 0x08, 0x01})
	f.Add([]byte{0, 0, 0, 0, 2, 0x08, 0x02})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 5, 0x12, 0x01, 'x', 0x08, 0x01})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}, Trailer: http.Header{"Grpc-Status": {"0"}}}
		if grpcServing(resp) == nil && !bytes.Contains(body, []byte{0x08, 0x01}) {
			t.Errorf("healthy without SERVING: %x", body)
		}
	})
}
