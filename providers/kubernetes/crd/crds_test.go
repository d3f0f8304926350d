package crd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShippedCRDsUpToDate regenerates the CRDs from the Go types with the
// controller-gen pinned in go.mod (scripts/crds.sh) and fails when the
// files shipped under deploy/crds/ differ: run `make crds` and commit.
func TestShippedCRDsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join(root, "scripts", "crds.sh"), out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/crds.sh: %v\n%s", err, b)
	}
	shipped := filepath.Join(root, "deploy", "crds")
	var n int
	err = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(shipped, rel))
		if err != nil {
			t.Errorf("deploy/crds/%s is missing: run make crds", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/crds/%s is stale: run make crds", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 11 {
		t.Errorf("%d generated files, 11 expected (10 CRDs and the all-in-one)", n)
	}
	// And nothing shipped that the generator no longer makes.
	entries, _ := filepath.Glob(filepath.Join(shipped, "*.yaml"))
	if len(entries) != 10 {
		t.Errorf("deploy/crds holds %d CRD files, 10 expected", len(entries))
	}
}
