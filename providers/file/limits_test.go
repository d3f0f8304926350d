package file

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Files past MaxFileSize (alone or a directory in all), devices and FIFOs
// are refused with an error naming them, without being read; template
// generators share one budget (issue 13, must-hold 6).
func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, []byte("http: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	res := (&loader{filename: big, log: slog.New(slog.DiscardHandler)}).load()
	if len(res.errs) != 1 || !strings.Contains(res.errs[0].Error(), "a configuration file may have") {
		t.Fatalf("big file: %v", res.errs)
	}

	sub := filepath.Join(dir, "d")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.yml", "b.yml"} {
		p := filepath.Join(sub, n)
		if err := os.WriteFile(p, []byte("http: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, MaxFileSize/2+1); err != nil {
			t.Fatal(err)
		}
	}
	res = (&loader{directory: sub, log: slog.New(slog.DiscardHandler)}).load()
	if len(res.errs) != 1 || !strings.Contains(res.errs[0].Error(), "in all") {
		t.Fatalf("big directory: %v", res.errs)
	}

	if _, err := readLimited("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("/dev/zero: %v", err)
	}

	for src, want := range map[string]string{
		"{{ range until 2000000 }}{{ end }}":                                        "at most 1000000 elements",
		"{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}":            "at most 1000000 elements",
		"{{ repeat 100000000 \"0123456789\" }}":                                     "would exceed",
		"{{ range until 900000 }}0123456789012345678901234567890123456789{{ end }}": "rendered template larger than",
		"{{ seq 5000000 }}": "at most 1000000 elements",
	} {
		if _, err := render("t.yml", src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
	if out, err := render("t.yml", "{{ range until 3 }}{{ . }}{{ end }}{{ seq 3 }}"); err != nil || out != "0121 2 3" {
		t.Errorf("small generators: %q %v", out, err)
	}
}
