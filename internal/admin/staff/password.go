package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// DefaultParams are OWASP's first recommended argon2id configuration
// (19 MiB, 2 passes, 1 lane): a few tens of milliseconds per log-in on the
// hub, which staff do not notice and an offline guesser does.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32}

// HashPassword hashes pw with a fresh 16-byte salt and returns the PHC
// string "$argon2id$v=19$m=…,t=…,p=…$salt$hash", so the parameters travel
// with the hash and can be raised later without breaking old accounts.
func HashPassword(r io.Reader, pw string, p Params) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("cannot read random bytes for a password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// maxMemory refuses stored parameters that would let a damaged or planted
// hash exhaust the hub's memory at the next log-in.
const maxMemory = 1 << 20 // KiB: 1 GiB

// phc is a parsed PHC string.
type phc struct {
	p         Params
	salt, key []byte
}

func parseHash(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: the stored password hash is not an argon2id PHC string", ErrInvalid)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return phc{}, fmt.Errorf("%w: the stored password hash has argon2 version %q, not %d", ErrInvalid, parts[2], argon2.Version)
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return phc{}, fmt.Errorf("%w: the stored password hash has unusable parameters %q", ErrInvalid, parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return phc{}, fmt.Errorf("%w: the stored password hash has a damaged salt or key", ErrInvalid)
	}
	p.KeyLen = uint32(len(want))
	return phc{p, salt, want}, nil
}

// ValidHash checks that s is a usable argon2id PHC string without
// computing anything.
func ValidHash(s string) error {
	_, err := parseHash(s)
	return err
}

// CheckPassword compares pw with a PHC string in constant time. A
// malformed hash is an error, not a failed log-in. It takes tens of
// megabytes for tens of milliseconds: callers that answer the network run
// it through a Gate.
func CheckPassword(hash, pw string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), h.salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// DummyHash is checked when the user name is unknown, so a wrong name
// costs as much as a wrong password and does not reveal who has an
// account. It has DefaultParams and matches no password anyone types (its
// key is random bytes, not a hash).
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$k7Mcy7zt01gqnXVfQQn/wQ$Yr8AZgFO0qS0794j7zxaaWYwwhOP3maE5zkvphzzaAI"
