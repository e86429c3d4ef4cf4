package outbox

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// MinKeyLen is the shortest outbox key accepted: HKDF cannot add entropy the
// key does not have.
const MinKeyLen = 16

// sealer holds the keys derived from the outbox key. Separate HKDF labels
// keep the encryption key, the fingerprint key and the key check independent,
// so publishing one never helps with another.
type sealer struct {
	aead  cipher.AEAD
	fpKey []byte
	check []byte
}

func newSealer(deviceKey, salt []byte) (*sealer, error) {
	if len(deviceKey) < MinKeyLen {
		return nil, fmt.Errorf("the outbox key has %d bytes, fewer than the %d needed to protect personal data", len(deviceKey), MinKeyLen)
	}
	derive := func(label string) []byte {
		k := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, deviceKey, salt, []byte("sportello outbox v1 "+label)), k); err != nil {
			panic(err) // HKDF-SHA256 yields up to 8160 bytes; 32 cannot fail
		}
		return k
	}
	aead, err := chacha20poly1305.NewX(derive("payload"))
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, derive("check"))
	m.Write([]byte("key check"))
	return &sealer{aead: aead, fpKey: derive("fingerprint"), check: m.Sum(nil)}, nil
}

// aad binds a ciphertext to its record, so a payload copied into another
// record (another id or idempotency key) fails to open instead of being
// delivered under the wrong key.
func aad(id uint64, key string) []byte {
	b := binary.BigEndian.AppendUint64(nil, id)
	return append(b, key...)
}

func (s *sealer) seal(id uint64, key string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	// XChaCha20's 192-bit nonce makes random nonces safe for any number of
	// messages under one key.
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("reading a random nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, aad(id, key)), nil
}

var errUnsealed = errors.New("the queued payload cannot be decrypted with this outbox key; the file was altered or the key changed")

func (s *sealer) open(id uint64, key string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errUnsealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad(id, key))
	if err != nil {
		return nil, errUnsealed
	}
	return plain, nil
}

// fingerprint identifies an operation's content so that enqueuing the same
// idempotency key twice can tell a retry from a conflicting reuse. It is
// keyed for personal data, because a bare hash of it could be confirmed by
// guessing; other operations use no key, so their fingerprints do not
// change if an outbox key is added later.
func fingerprint(s *sealer, op Op) []byte {
	var h []byte
	if op.PersonalData && s != nil {
		h = s.fpKey
	}
	m := hmac.New(sha256.New, h)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(op.Kind)))
	m.Write(n[:])
	m.Write([]byte(op.Kind))
	binary.BigEndian.PutUint64(n[:], uint64(op.AmountCents))
	m.Write(n[:])
	if op.PersonalData {
		m.Write([]byte{1})
	} else {
		m.Write([]byte{0})
	}
	m.Write(op.Payload)
	return m.Sum(nil)
}
