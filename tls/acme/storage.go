package acme

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-acme/lego/v4/registration"
)

// The storage file has Traefik's acme.json shape: one entry per resolver
// name, so several resolvers may share a file.
type fileData map[string]*resolverData

type resolverData struct {
	Account      *account      `json:"Account"`
	Certificates []*storedCert `json:"Certificates"`
}

type account struct {
	Email        string                 `json:"Email"`
	Registration *registration.Resource `json:"Registration"`
	PrivateKey   []byte                 `json:"PrivateKey"` // PKCS#8 DER
	KeyType      string                 `json:"KeyType"`
}

// Domain is a certificate's main name and its other names.
type Domain struct {
	Main string   `json:"main,omitempty"`
	SANs []string `json:"sans,omitempty"`
}

// ToStrSlice lists main first, then the SANs.
func (d Domain) ToStrSlice() []string { return append([]string{d.Main}, d.SANs...) }

type storedCert struct {
	Domain      Domain `json:"domain"`
	Certificate []byte `json:"certificate"` // PEM chain
	Key         []byte `json:"key"`         // PEM
	Store       string `json:"Store"`
}

// One lock per file path: resolvers sharing a file must not interleave
// their read-modify-write.
var fileLocks sync.Map

func lockFor(path string) *sync.Mutex {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	m, _ := fileLocks.LoadOrStore(abs, &sync.Mutex{})
	return m.(*sync.Mutex)
}

func readFile(path string) (fileData, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(b) == 0) {
		return fileData{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("acme storage %s: %w", path, err)
	}
	d := fileData{}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("acme storage %s: %w", path, err)
	}
	return d, nil
}

// load returns the resolver's stored data (empty if none).
func load(path, resolver string) (*resolverData, error) {
	mu := lockFor(path)
	mu.Lock()
	defer mu.Unlock()
	d, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if r := d[resolver]; r != nil {
		return r, nil
	}
	return &resolverData{}, nil
}

// save replaces the resolver's entry, keeping the others, atomically
// (temp file + rename) and readable only by the owner, as the file holds
// private keys.
func save(path, resolver string, rd *resolverData) error {
	mu := lockFor(path)
	mu.Lock()
	defer mu.Unlock()
	d, err := readFile(path)
	if err != nil {
		d = fileData{} // a corrupt file is replaced rather than blocking renewals
	}
	d[resolver] = rd
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("acme storage %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("acme storage %s: %w", path, err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("acme storage %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("acme storage %s: %w", path, err)
	}
	return nil
}
