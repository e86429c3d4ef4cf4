package httpsig

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"filippo.io/edwards25519"
)

// CheckPublicKey refuses an Ed25519 public key that no private key made:
// one that is not 32 bytes, not a point on the curve, not in its canonical
// encoding (y ≥ p, or x = 0 with the sign bit set), or not in the
// prime-order subgroup that key generation always lands in. The point
// matters: with the identity (or another point of small order) as the key,
// the verification equation loses its key term, so one fixed 64-byte
// signature, made without any private key, verifies on every message.
// crypto/ed25519 itself accepts such keys, so enrolment checks here first.
func CheckPublicKey(key ed25519.PublicKey) error {
	p, err := usableKey(key)
	if err != nil {
		return err
	}
	// [L-1]P + P = [L]P is the identity exactly when P has no component
	// of small order. Honest keys, [a]B for the base point B, never do.
	// A public key is public, so variable time is fine (and twice as fast).
	one, _ := edwards25519.NewScalar().SetCanonicalBytes(append([]byte{1}, make([]byte, 31)...)) // 1 is canonical
	q := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(edwards25519.NewScalar().Negate(one), p, edwards25519.NewScalar())
	if q.Add(q, p).Equal(edwards25519.NewIdentityPoint()) != 1 {
		return refuse(ReasonWeakPublicKey, "the public key has a component of small order, which no generated key has")
	}
	return nil
}

// usableKey decodes key and refuses the keys under which a signature can
// be made without the private key: those of small order, in any encoding.
// It is the part of CheckPublicKey cheap enough (a fifth of a verification)
// for every request; a key with a component of small order still needs its
// private scalar to sign, so that check is left to enrolment.
func usableKey(key ed25519.PublicKey) (*edwards25519.Point, error) {
	weak := func(why string) error { return refuse(ReasonWeakPublicKey, "the public key "+why) }
	if len(key) != ed25519.PublicKeySize {
		return nil, refuse(ReasonWeakPublicKey, fmt.Sprintf("the public key has %d bytes, an Ed25519 public key has %d", len(key), ed25519.PublicKeySize))
	}
	p, err := new(edwards25519.Point).SetBytes(key)
	if err != nil {
		return nil, weak("is not a point of the Ed25519 curve")
	}
	// SetBytes accepts the non-canonical encodings too; only a canonical one
	// encodes back to the same bytes.
	if !bytes.Equal(p.Bytes(), key) {
		return nil, weak("is not canonically encoded (RFC 8032 section 5.1.3)")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, weak("is a point of small order, which no private key has as its public key")
	}
	return p, nil
}
