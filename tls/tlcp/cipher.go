package tlcp

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// suite describes one cipher suite's record protection (§6.3.3.2 and
// §6.4.5.2.1): key block sizes and how to build the per-direction state.
type suite struct {
	id     uint16
	macLen int // HMAC-SM3 key length (0 for AEAD)
	keyLen int
	ivLen  int // CBC: block IV; GCM: implicit nonce part (§6.3.3.4.4)
	aead   bool
}

var suites = map[uint16]*suite{
	ECC_SM4_CBC_SM3: {id: ECC_SM4_CBC_SM3, macLen: 32, keyLen: 16, ivLen: 16},
	ECC_SM4_GCM_SM3: {id: ECC_SM4_GCM_SM3, keyLen: 16, ivLen: 4, aead: true},
}

// recordCipher protects records in one direction.
type recordCipher interface {
	// seal appends the protected fragment for header hdr (type, version,
	// plaintext length filled in) and sequence number seq to dst.
	seal(dst []byte, seq uint64, hdr []byte, payload []byte, rand io.Reader) ([]byte, error)
	// open returns the plaintext of fragment (decrypted in place).
	open(seq uint64, typ uint8, fragment []byte) ([]byte, error)
	overhead() int
}

func newRecordCipher(s *suite, macKey, key, iv []byte) (recordCipher, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if s.aead {
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c := &gcmCipher{aead: aead}
		copy(c.fixed[:], iv)
		return c, nil
	}
	return &cbcCipher{block: block, mac: hmac.New(sm3.New, macKey)}, nil
}

// cbcCipher: MAC-then-encrypt with HMAC-SM3 and SM4-CBC, an explicit
// random IV per record (§6.3.3.4.2 and §6.3.3.4.3, as TLS 1.1).
type cbcCipher struct {
	block cipher.Block
	mac   hash.Hash
	sum   [sm3.Size]byte
}

func (c *cbcCipher) overhead() int { return 16 + sm3.Size + 16 }

func (c *cbcCipher) macOf(seq uint64, typ uint8, payload []byte) []byte {
	var h [13]byte
	binary.BigEndian.PutUint64(h[:8], seq)
	h[8] = typ
	binary.BigEndian.PutUint16(h[9:], VersionTLCP)
	binary.BigEndian.PutUint16(h[11:], uint16(len(payload)))
	c.mac.Reset()
	c.mac.Write(h[:])
	c.mac.Write(payload)
	return c.mac.Sum(c.sum[:0])
}

func (c *cbcCipher) seal(dst []byte, seq uint64, hdr, payload []byte, rand io.Reader) ([]byte, error) {
	bs := c.block.BlockSize()
	mac := c.macOf(seq, hdr[0], payload)
	n := len(payload) + len(mac) + 1
	pad := (bs - n%bs) % bs
	start := len(dst)
	total := bs + n + pad
	dst = grow(dst, total)
	out := dst[start : start+total]
	iv := out[:bs]
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	body := out[bs:]
	copy(body, payload)
	copy(body[len(payload):], mac)
	for i := len(payload) + len(mac); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(body, body)
	return dst, nil
}

func (c *cbcCipher) open(seq uint64, typ uint8, frag []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	if len(frag) < bs+sm3.Size+1 || len(frag)%bs != 0 || len(frag) < 2*bs {
		return nil, alertBadRecordMAC
	}
	iv, body := frag[:bs], frag[bs:]
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(body, body)
	// Padding and MAC failures are one alert (§6.3.3.4.3); the MAC is
	// computed even when the padding is bad to keep timings close.
	pad := int(body[len(body)-1])
	good := 1
	if pad+1+sm3.Size > len(body) {
		good, pad = 0, 0
	}
	for i := len(body) - 1 - pad; i < len(body)-1; i++ {
		good &= subtle.ConstantTimeByteEq(body[i], byte(pad))
	}
	n := len(body) - 1 - pad - sm3.Size
	mac := c.macOf(seq, typ, body[:n])
	good &= subtle.ConstantTimeCompare(mac, body[n:n+sm3.Size])
	if good != 1 {
		return nil, alertBadRecordMAC
	}
	return body[:n], nil
}

// gcmCipher: SM4-GCM with a 4-byte implicit and an 8-byte explicit nonce
// part (the sequence number), additional data seq‖type‖version‖length
// (§6.3.3.4.4, as RFC 5288).
type gcmCipher struct {
	aead  cipher.AEAD
	fixed [4]byte
	nonce [12]byte
	ad    [13]byte
}

func (c *gcmCipher) overhead() int { return 8 + c.aead.Overhead() }

func (c *gcmCipher) additional(seq uint64, typ uint8, n int) []byte {
	binary.BigEndian.PutUint64(c.ad[:8], seq)
	c.ad[8] = typ
	binary.BigEndian.PutUint16(c.ad[9:], VersionTLCP)
	binary.BigEndian.PutUint16(c.ad[11:], uint16(n))
	return c.ad[:]
}

func (c *gcmCipher) seal(dst []byte, seq uint64, hdr, payload []byte, _ io.Reader) ([]byte, error) {
	copy(c.nonce[:4], c.fixed[:])
	binary.BigEndian.PutUint64(c.nonce[4:], seq)
	dst = append(dst, c.nonce[4:]...)
	return c.aead.Seal(dst, c.nonce[:], payload, c.additional(seq, hdr[0], len(payload))), nil
}

func (c *gcmCipher) open(seq uint64, typ uint8, frag []byte) ([]byte, error) {
	if len(frag) < 8+c.aead.Overhead() {
		return nil, alertBadRecordMAC
	}
	copy(c.nonce[:4], c.fixed[:])
	copy(c.nonce[4:], frag[:8])
	ct := frag[8:]
	out, err := c.aead.Open(ct[:0], c.nonce[:], ct, c.additional(seq, typ, len(ct)-c.aead.Overhead()))
	if err != nil {
		return nil, alertBadRecordMAC
	}
	return out, nil
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// prf is P_SM3 (§6.4.5.9: PRF(secret, label, seed) = P_SM3(secret,
// label + seed), as the TLS 1.2 P_hash).
func prf(out, secret []byte, label string, seeds ...[]byte) {
	seed := make([]byte, 0, len(label)+64)
	seed = append(seed, label...)
	for _, s := range seeds {
		seed = append(seed, s...)
	}
	h := hmac.New(sm3.New, secret)
	h.Write(seed)
	a := h.Sum(nil)
	for len(out) > 0 {
		h.Reset()
		h.Write(a)
		h.Write(seed)
		b := h.Sum(nil)
		n := copy(out, b)
		out = out[n:]
		h.Reset()
		h.Write(a)
		a = h.Sum(nil)
	}
}

// masterSecret: §6.4.5.9, PRF(pre_master, "master secret",
// client_random + server_random)[0..47].
func masterSecret(pre, clientRandom, serverRandom []byte) []byte {
	m := make([]byte, masterSecretLen)
	prf(m, pre, "master secret", clientRandom, serverRandom)
	return m
}

// keyBlock: §6.4.5.9, PRF(master, "key expansion", server_random +
// client_random) cut into client/server MAC keys, keys and IVs.
func keyBlock(s *suite, master, clientRandom, serverRandom []byte) (cMAC, sMAC, cKey, sKey, cIV, sIV []byte) {
	n := 2 * (s.macLen + s.keyLen + s.ivLen)
	b := make([]byte, n)
	prf(b, master, "key expansion", serverRandom, clientRandom)
	cMAC, b = b[:s.macLen], b[s.macLen:]
	sMAC, b = b[:s.macLen], b[s.macLen:]
	cKey, b = b[:s.keyLen], b[s.keyLen:]
	sKey, b = b[:s.keyLen], b[s.keyLen:]
	cIV, b = b[:s.ivLen], b[s.ivLen:]
	sIV = b[:s.ivLen]
	return
}

// finished: §6.4.5.10, PRF(master, label, SM3(handshake_messages))[0..11].
func finished(master []byte, label string, transcript []byte) []byte {
	out := make([]byte, finishedLen)
	prf(out, master, label, transcript)
	return out
}
