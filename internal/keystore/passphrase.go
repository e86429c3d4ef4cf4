package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// MinPassphrase is the shortest passphrase accepted, in characters: the
// sealed keys can be attacked offline from a copied profile, so every
// character multiplies the years argon2id makes a guesser spend.
const MinPassphrase = 10

// KDF is how a passphrase became the key that seals the kiosk's keys.
type KDF struct {
	Algorithm string `json:"alg"` // argon2id
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// defaultKDF costs about a second's fraction and 64 MiB once per kiosk
// start, and as much for every guess from a copied profile.
var defaultKDF = KDF{Algorithm: "argon2id", Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// Limits on a stored KDF, so a planted profile cannot make the kiosk
// spend its memory or hours at start.
const (
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFTime      = 64
)

// aadPassphrase binds the ciphertext to its use: the same passphrase and
// salt used elsewhere cannot produce a ciphertext this opens.
var aadPassphrase = []byte("sportello kiosk keys v1")

// Passphrase seals with a key derived by argon2id from a passphrase the
// shop's staff type when the kiosk starts.
type Passphrase struct {
	Secret []byte
	// KDF overrides the cost parameters (its salt is always fresh); zero
	// means the default.
	KDF KDF
}

func (p *Passphrase) Method() string { return MethodPassphrase }

// CheckPassphrase says whether pass is long enough to seal with.
func CheckPassphrase(pass []byte) error {
	if n := utf8.RuneCount(pass); n < MinPassphrase {
		return fmt.Errorf("the passphrase has %d characters; it needs at least %d", n, MinPassphrase)
	}
	return nil
}

func (p *Passphrase) Seal(plain []byte) (Sealed, error) {
	if err := CheckPassphrase(p.Secret); err != nil {
		return Sealed{}, err
	}
	kdf := p.KDF
	if kdf.Time == 0 {
		kdf = defaultKDF
	}
	kdf.Algorithm = "argon2id"
	kdf.Salt = make([]byte, 16)
	if _, err := rand.Read(kdf.Salt); err != nil {
		return Sealed{}, err
	}
	aead, err := chacha20poly1305.NewX(derive(p.Secret, kdf))
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	return Sealed{Method: MethodPassphrase, KDF: &kdf, Data: aead.Seal(nonce, nonce, plain, aadPassphrase)}, nil
}

func derive(pass []byte, k KDF) []byte {
	return argon2.IDKey(pass, k.Salt, k.Time, k.MemoryKiB, k.Threads, chacha20poly1305.KeySize)
}

func openPassphrase(s Sealed, pass []byte) ([]byte, error) {
	k := s.KDF
	switch {
	case k == nil || k.Algorithm != "argon2id" || len(k.Salt) < 16:
		return nil, errors.New("the kiosk profile's passphrase parameters are missing or not argon2id")
	case k.Time == 0 || k.Time > maxKDFTime || k.MemoryKiB < 8*uint32(k.Threads) || k.MemoryKiB > maxKDFMemoryKiB || k.Threads == 0:
		return nil, fmt.Errorf("the kiosk profile's argon2id parameters (t=%d, m=%d KiB, p=%d) are out of range", k.Time, k.MemoryKiB, k.Threads)
	}
	aead, err := chacha20poly1305.NewX(derive(pass, *k))
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(s.Data) < n+aead.Overhead() {
		return nil, errors.New("the kiosk profile's sealed keys are cut short")
	}
	plain, err := aead.Open(nil, s.Data[:n], s.Data[n:], aadPassphrase)
	if err != nil {
		return nil, ErrSecret
	}
	return plain, nil
}
