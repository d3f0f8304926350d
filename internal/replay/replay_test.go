package replay

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/internal/statusrange"
)

type holdAll bool

func (h holdAll) Hold(int) bool { return bool(h) }

func TestWriterHolds(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Before", "1")
	rg, _ := statusrange.Parse([]string{"500-599"})
	var w Writer
	w.Init(rec, rg, holdAll(true))
	w.Header().Set("X-Backend", "1")
	w.WriteHeader(503)
	io.WriteString(&w, "dropped")
	w.Flush()
	if !w.Held() || w.Written() || rec.Body.Len() != 0 {
		t.Fatalf("held %v written %v body %q", w.Held(), w.Written(), rec.Body.String())
	}
	if rec.Header().Get("X-Backend") != "" || rec.Header().Get("X-Before") != "1" {
		t.Fatalf("headers not put back: %v", rec.Header())
	}
	w.Reset()
	io.WriteString(&w, "ok") // implicit 200
	if w.Held() || !w.Written() || rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("second attempt: %d %q", rec.Code, rec.Body.String())
	}
	var w2 Writer
	rec2 := httptest.NewRecorder()
	w2.Init(rec2, rg, holdAll(false))
	w2.WriteHeader(503)
	if w2.Held() || rec2.Code != 503 {
		t.Fatal("a response the holder refuses must pass")
	}
}

func TestReadBody(t *testing.T) {
	r := httptest.NewRequest("PUT", "/", strings.NewReader("hello"))
	b, err := ReadBody(r, 5)
	if err != nil || string(b) != "hello" || r.ContentLength != 5 {
		t.Fatalf("%q %v %d", b, err, r.ContentLength)
	}
	for range 2 {
		got, _ := io.ReadAll(r.Body)
		if string(got) != "hello" {
			t.Fatalf("read %q", got)
		}
		Rewind(r, b)
	}
	r = httptest.NewRequest("PUT", "/", strings.NewReader("hello"))
	r.ContentLength = -1 // chunked: the limit is found while reading
	if _, err := ReadBody(r, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	r = httptest.NewRequest("GET", "/", nil)
	if b, err := ReadBody(r, 0); b != nil || err != nil || r.Body != http.NoBody {
		t.Fatal("no body must be left alone")
	}
}
