package encodedpath

import "testing"

func TestFilter(t *testing.T) {
	if New(Allow{true, true, true, true, true, true, true}) != nil {
		t.Fatal("all allowed must give no filter")
	}
	f := New(Allow{}) // everything refused
	for raw, want := range map[string]bool{
		"/a%2Fb": true, "/a%2fb": true, "/a%5Cb": true, "/%00": true, "/%3b": true, "/%25": true,
		"/%3F": true, "/%23": true, "/%41": false, "/plain": false, "/%2": false, "/%zz%2F": true, "%": false,
	} {
		if f.Refuses(raw) != want {
			t.Errorf("%q: %v", raw, !want)
		}
	}
	slash := New(Allow{Slash: false, BackSlash: true, Null: true, Semicolon: true, Percent: true, QuestionMark: true, Hash: true})
	if !slash.Refuses("/a%2Fb") || slash.Refuses("/a%3Bb") {
		t.Fatal("only the slash is refused")
	}
	if !f.RefusesDecoded("/a?b") || f.RefusesDecoded("/a/b;c") || slash.RefusesDecoded("/a%b") {
		t.Fatal("RefusesDecoded")
	}
}

func FuzzRefuses(f *testing.F) {
	for _, s := range []string{"/a%2Fb", "%", "%%2f", "/%zz", "/%5c%00"} {
		f.Add(s)
	}
	all := New(Allow{})
	f.Fuzz(func(t *testing.T, s string) {
		_ = all.Refuses(s)
		_ = all.RefusesDecoded(s)
	})
}
