// Package httpsigtest holds the weak Ed25519 keys and the keyless signature
// of the security review (issue 11), for the tests of the packages that
// must refuse them.
package httpsigtest

import (
	"bytes"
	"crypto/ed25519"
)

// IdentityKey is the Ed25519 encoding of the curve's neutral element, and
// NonCanonicalIdentity the same point with y = p+1. Neither is the public
// half of any private key.
var (
	IdentityKey          = ed25519.PublicKey(append([]byte{1}, make([]byte, 31)...))
	NonCanonicalIdentity = ed25519.PublicKey(append(append([]byte{0xee}, bytes.Repeat([]byte{0xff}, 30)...), 0x7f))
)

// KeylessSignature is R = identity, S = 0: against a key of small order it
// satisfies [S]B = R + [k]A for every message, since [k]A vanishes, and
// crypto/ed25519 accepts it for every message under IdentityKey.
func KeylessSignature() []byte {
	sig := make([]byte, ed25519.SignatureSize)
	sig[0] = 1
	return sig
}
