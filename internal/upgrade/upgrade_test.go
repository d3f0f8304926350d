package upgrade

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

func pair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	a, f, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromFile(f)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

// pipeWith returns the read end of a pipe holding msg.
func pipeWith(t *testing.T, msg string) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(msg); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestRecordsCarryFiles(t *testing.T) {
	a, b := pair(t)
	big := bytes.Repeat([]byte("m"), 1<<20) // more than a socket buffer: partial writes
	go func() {
		_ = a.Send("one", []byte("meta-1"), pipeWith(t, "first"))
		_ = a.Send("none", nil)
		_ = a.Send("two", big, pipeWith(t, "second"), pipeWith(t, "third"))
		_ = a.CloseWrite()
	}()
	want := []struct {
		kind  string
		meta  []byte
		files []string
	}{
		{"one", []byte("meta-1"), []string{"first"}},
		{"none", nil, nil},
		{"two", big, []string{"second", "third"}},
	}
	for _, w := range want {
		r, err := b.Recv()
		if err != nil {
			t.Fatalf("%s: %v", w.kind, err)
		}
		if r.Kind != w.kind || !bytes.Equal(r.Meta, w.meta) || len(r.Files) != len(w.files) {
			t.Fatalf("got %q (%d meta bytes, %d files), want %q (%d, %d)", r.Kind, len(r.Meta), len(r.Files), w.kind, len(w.meta), len(w.files))
		}
		for i, f := range r.Files {
			got, err := io.ReadAll(f)
			if err != nil || string(got) != w.files[i] {
				t.Fatalf("%s file %d: %q, %v", w.kind, i, got, err)
			}
		}
		r.Close()
	}
	if _, err := b.Recv(); err != io.EOF {
		t.Fatalf("after the last record: %v, want io.EOF", err)
	}
}

func TestSendRejectsBadRecords(t *testing.T) {
	a, _ := pair(t)
	if err := a.Send("", nil); err == nil {
		t.Fatal("empty kind accepted")
	}
	if err := a.Send(strings.Repeat("k", 256), nil); err == nil {
		t.Fatal("kind of 256 bytes accepted")
	}
	if err := a.Send("k", make([]byte, MaxMeta+1)); err == nil {
		t.Fatal("oversized metadata accepted")
	}
}

func TestTruncatedRecordIsAnError(t *testing.T) {
	a, b := pair(t)
	rec, _ := encodeRecord("kind", []byte("meta"), 0)
	if _, err := a.c.Write(rec[:len(rec)-2]); err != nil {
		t.Fatal(err)
	}
	_ = a.CloseWrite()
	if _, err := b.Recv(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestMissingFilesAreAnError(t *testing.T) {
	a, b := pair(t)
	rec, _ := encodeRecord("kind", nil, 2) // announces two files, sends none
	if _, err := a.c.Write(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Recv(); err == nil || !strings.Contains(err.Error(), "announces 2 files") {
		t.Fatalf("got %v", err)
	}
}

func TestMoversAndAdopters(t *testing.T) {
	a, b := pair(t)
	t.Cleanup(func() {
		regMu.Lock()
		movers, adopters = nil, map[string]Adopter{}
		regMu.Unlock()
	})
	RegisterMover("test", func(_ context.Context, s Sender) error {
		send := s.Send
		if _, err := s.SendBatch([]Record{{Kind: KindReady}}); err == nil {
			t.Error("a mover could send a reserved kind in a batch")
		}
		if err := send("test.conn", []byte("c1"), pipeWith(t, "payload")); err != nil {
			return err
		}
		if err := send(KindReady, nil); err == nil {
			t.Error("a mover could send a reserved kind")
		}
		return send("test.unknown", nil, pipeWith(t, "dropped"))
	})
	got := make(chan string, 2)
	RegisterAdopter("test.conn", func(meta []byte, files []*os.File) error {
		defer files[0].Close()
		b, _ := io.ReadAll(files[0])
		got <- string(meta) + ":" + string(b)
		return nil
	})
	errc := make(chan error, 1)
	go func() { errc <- Dispatch(b) }()
	if err := RunMovers(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	if s := <-got; s != "c1:payload" {
		t.Fatalf("adopted %q", s)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("RegisterAdopter accepted a reserved kind")
			}
		}()
		RegisterAdopter(KindDone, nil)
	}()
}

func TestCommandEnvironment(t *testing.T) {
	t.Setenv(EnvFD, "9")
	t.Setenv(envLegacyFDs, "web=4")
	cmd := Command(os.Stdin)
	env := strings.Join(cmd.Env, "\n")
	for _, want := range []string{EnvFD + "=3", EnvGeneration + "=" + itoa(Generation()+1), EnvExecutable + "=" + Executable()} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s", want)
		}
	}
	if strings.Contains(env, EnvFD+"=9") || strings.Contains(env, envLegacyFDs) {
		t.Errorf("environment keeps the parent's own channel variables:\n%s", env)
	}
	if cmd.Path != Executable() || len(cmd.ExtraFiles) != 1 {
		t.Errorf("path %q, %d extra files", cmd.Path, len(cmd.ExtraFiles))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzDecodeBody(f *testing.F) {
	for _, seed := range [][]byte{
		mustEncode("upgrade.listener", []byte(`{"entryPoint":"web","network":"tcp"}`), 1)[headerLen:],
		mustEncode("tcp.conn", nil, 2)[headerLen:],
		{0, 0}, {1, 'k'}, {255},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		kind, n, meta, err := decodeBody(body)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		re, err := encodeRecord(kind, meta, n)
		if err != nil {
			t.Fatalf("decoded %q/%d/%d bytes does not encode: %v", kind, n, len(meta), err)
		}
		if !bytes.Equal(re[headerLen:], body) {
			t.Fatalf("round trip changed the body")
		}
		if l, err := bodyLen(re[:headerLen]); err != nil || l != len(body) {
			t.Fatalf("header length %d, %v for %d bytes", l, err, len(body))
		}
	})
}

func mustEncode(kind string, meta []byte, n int) []byte {
	b, err := encodeRecord(kind, meta, n)
	if err != nil {
		panic(err)
	}
	return b
}

// TestSendBatch: a batch larger than one message's descriptors and bytes
// arrives whole and in order, each record with its own files.
func TestSendBatch(t *testing.T) {
	a, b := pair(t)
	const n = 300 // two files each: three messages at least
	recs := make([]Record, n)
	for i := range recs {
		meta := []byte(strconv.Itoa(i) + strings.Repeat("m", i*7)) // 300 KiB in all: beyond one message's bytes
		recs[i] = Record{Kind: "test.batch", Meta: meta, Files: []*os.File{pipeWith(t, "a"+strconv.Itoa(i)), pipeWith(t, "b"+strconv.Itoa(i))}}
	}
	errc := make(chan error, 1)
	go func() {
		sent, err := a.SendBatch(recs)
		if err == nil && sent != n {
			err = fmt.Errorf("sent %d of %d", sent, n)
		}
		for _, r := range recs {
			r.Close()
		}
		errc <- err
	}()
	for i := range n {
		r, err := b.Recv()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if want := strconv.Itoa(i) + strings.Repeat("m", i*7); string(r.Meta) != want || len(r.Files) != 2 {
			t.Fatalf("record %d: meta of %d bytes, %d files", i, len(r.Meta), len(r.Files))
		}
		for j, f := range r.Files {
			got, _ := io.ReadAll(f)
			if want := string("ab"[j]) + strconv.Itoa(i); string(got) != want {
				t.Fatalf("record %d file %d: %q, want %q", i, j, got, want)
			}
		}
		r.Close()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
