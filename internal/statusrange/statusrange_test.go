package statusrange

import "testing"

func TestParse(t *testing.T) {
	r, err := Parse([]string{"404", " 500-502 , 418", ""})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{404: true, 500: true, 501: true, 502: true, 418: true, 503: false, 200: false} {
		if r.Contains(code) != want {
			t.Errorf("%d: %v", code, !want)
		}
	}
	for _, bad := range []string{"x", "500-", "99", "600", "502-500", "5-6"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"404", "500-599", "418,429", " 1-2", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse([]string{s})
		if err != nil {
			return
		}
		for _, c := range r {
			if c.Lo < 100 || c.Hi > 599 || c.Lo > c.Hi {
				t.Fatalf("%q gave %+v", s, c)
			}
		}
	})
}
