package entrypoints

import (
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestEncodedFilter(t *testing.T) {
	all := &static.EncodedCharacters{}
	all.SetDefaults()
	if newEncodedFilter(nil) != nil || newEncodedFilter(all) != nil {
		t.Fatal("everything allowed must cost nothing (nil filter)")
	}
	f := newEncodedFilter(&static.EncodedCharacters{}) // every option false
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{"/", false}, {"/a%20b", false}, {"/%2", false}, {"/%", false}, {"/%zz%2F", true},
		{"/%2f", true}, {"/%2F", true}, {"/%5c", true}, {"/%00", true}, {"/%3B", true},
		{"/%25", true}, {"/%3f", true}, {"/%23", true}, {"/%41%42", false}, {"/x%%2F", true},
	} {
		if got := f.Refuses(c.raw); got != c.want {
			t.Errorf("%q: refuses=%v, want %v", c.raw, got, c.want)
		}
	}
	only := *all
	only.AllowEncodedHash = false
	f = newEncodedFilter(&only)
	if f.Refuses("/%2F") || !f.Refuses("/%23") {
		t.Error("only %23 must be refused")
	}
}
