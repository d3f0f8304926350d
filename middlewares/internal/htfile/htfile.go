// Package htfile reads the user lists of basicAuth and digestAuth: inline
// "users" entries and a usersFile (one entry a line, "#" comments), and
// checks htpasswd hashes (bcrypt, MD5-apr1 / MD5-crypt, {SHA}).
package htfile

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Lines merges inline entries and the lines of file (file entries last, so
// a caller keeping the last entry of a user lets the file win).
func Lines(inline []string, file string) ([]string, error) {
	out := make([]string, 0, len(inline))
	for _, l := range inline {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if file == "" {
		return out, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("usersFile: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// Check reports whether password matches an htpasswd hash.
func Check(password, hash string) bool {
	switch {
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	case strings.HasPrefix(hash, "$apr1$"):
		return eq(MD5Crypt(password, saltOf(hash, "$apr1$"), "$apr1$"), hash)
	case strings.HasPrefix(hash, "$1$"):
		return eq(MD5Crypt(password, saltOf(hash, "$1$"), "$1$"), hash)
	case strings.HasPrefix(hash, "{SHA}"):
		sum := sha1.Sum([]byte(password))
		return eq("{SHA}"+base64.StdEncoding.EncodeToString(sum[:]), hash)
	}
	return false
}

// ValidHash reports whether hash has a supported format.
func ValidHash(hash string) bool {
	for _, p := range []string{"$2y$", "$2a$", "$2b$", "$apr1$", "$1$", "{SHA}"} {
		if strings.HasPrefix(hash, p) {
			return true
		}
	}
	return false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func saltOf(hash, magic string) string {
	s := hash[len(magic):]
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// MD5Crypt is the FreeBSD MD5-crypt scheme, with magic "$1$" or Apache's "$apr1$".
func MD5Crypt(password, salt, magic string) string {
	pw, sl, mg := []byte(password), []byte(salt), []byte(magic)
	d := md5.New()
	d.Write(pw)
	d.Write(mg)
	d.Write(sl)
	d2 := md5.New()
	d2.Write(pw)
	d2.Write(sl)
	d2.Write(pw)
	mix := d2.Sum(nil)
	for i := len(pw); i > 0; i -= 16 {
		d.Write(mix[:min(16, i)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			d.Write([]byte{0})
		} else if len(pw) > 0 {
			d.Write(pw[:1])
		}
	}
	final := d.Sum(nil)
	for i := 0; i < 1000; i++ {
		h := md5.New()
		if i&1 != 0 {
			h.Write(pw)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write(sl)
		}
		if i%7 != 0 {
			h.Write(pw)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(pw)
		}
		final = h.Sum(nil)
	}
	var out bytes.Buffer
	out.WriteString(magic)
	out.WriteString(salt)
	out.WriteByte('$')
	enc := func(v uint32, n int) {
		for ; n > 0; n-- {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, t := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		enc(uint32(final[t[0]])<<16|uint32(final[t[1]])<<8|uint32(final[t[2]]), 4)
	}
	enc(uint32(final[11]), 2)
	return out.String()
}
