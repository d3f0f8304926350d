package udpsvc

import "testing"

func TestWRR(t *testing.T) {
	w := NewWRR([]Picker{Addr("a"), Addr("b"), Addr("c")}, []int{2, 1, 0})
	var got string
	for range 6 {
		got += w.NextAddr()
	}
	if got != "abaaba" {
		t.Fatalf("order %q, want abaaba", got)
	}
	if NewWRR([]Picker{Addr("a")}, []int{0}).NextAddr() != "" {
		t.Fatal("weight 0 picked")
	}
	nested := NewWRR([]Picker{w, Addr("z")}, []int{1, 1})
	if a, b := nested.NextAddr(), nested.NextAddr(); b != "z" || a == "z" {
		t.Fatalf("nested: %q %q", a, b)
	}
}
