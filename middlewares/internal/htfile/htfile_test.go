package htfile

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCheck(t *testing.T) {
	bc, _ := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	tests := []struct {
		hash, pw string
		want     bool
	}{
		{"$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", "secret", true}, // openssl passwd -apr1
		{"$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", "Secret", false},
		{"$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", "secret", true}, // openssl passwd -1
		{"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret", true},
		{"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "x", false},
		{string(bc), "secret", true},
		{string(bc), "nope", false},
		{"secret", "secret", false}, // plain text is not a hash
		{"$apr1$", "", false},
	}
	for _, tc := range tests {
		if got := Check(tc.pw, tc.hash); got != tc.want {
			t.Errorf("Check(%q, %q) = %v", tc.pw, tc.hash, got)
		}
	}
}

func TestLines(t *testing.T) {
	f := filepath.Join(t.TempDir(), "users")
	os.WriteFile(f, []byte("# comment\n\nb:2\n  c:3  \n"), 0o600)
	got, err := Lines([]string{"a:1", " "}, f)
	if err != nil || len(got) != 3 || got[0] != "a:1" || got[2] != "c:3" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Lines(nil, f+"x"); err == nil {
		t.Error("missing file accepted")
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("pw", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/")
	f.Add("pw", "{SHA}x")
	f.Fuzz(func(t *testing.T, pw, hash string) { Check(pw, hash) })
}
