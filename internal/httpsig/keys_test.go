package httpsig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"

	"github.com/sportello/sportello/internal/httpsig/httpsigtest"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckPublicKey(t *testing.T) {
	// The eight points of small order, in canonical encoding.
	smallOrder := []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
		"0000000000000000000000000000000000000000000000000000000000000000", // order 4
		"0000000000000000000000000000000000000000000000000000000000000080", // order 4
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	}
	for _, h := range smallOrder {
		b := mustHex(t, h)
		p, err := new(edwards25519.Point).SetBytes(b)
		if err != nil || new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("test data: %s is not a point of small order", h)
		}
		if err := CheckPublicKey(b); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("small-order key %s: %v", h, err)
		}
		if _, err := usableKey(b); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("small-order key %s, per request: %v", h, err)
		}
	}

	nonCanonical := map[string][]byte{
		"identity, y = p+1":      httpsigtest.NonCanonicalIdentity,
		"identity, x = 0 signed": mustHex(t, "0100000000000000000000000000000000000000000000000000000000000080"),
		"order 2, x = 0 signed":  mustHex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
		"order 4, y = p":         mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
	}
	for name, b := range nonCanonical {
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			t.Fatalf("test data %s: not a point at all: %v", name, err)
		}
		if err := CheckPublicKey(b); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := usableKey(b); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("%s, per request: %v", name, err)
		}
	}

	// An honest key passes; the same key plus a point of order 8 does not,
	// though it is canonical and not of small order itself.
	for seed := byte(1); seed < 20; seed++ {
		pub := seededKey(seed).Public().(ed25519.PublicKey)
		if err := CheckPublicKey(pub); err != nil {
			t.Fatalf("honest key %d refused: %v", seed, err)
		}
		a, _ := new(edwards25519.Point).SetBytes(pub)
		tor, _ := new(edwards25519.Point).SetBytes(mustHex(t, smallOrder[4]))
		mixed := new(edwards25519.Point).Add(a, tor).Bytes()
		if err := CheckPublicKey(mixed); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("honest key %d with a torsion component: %v", seed, err)
		}
		// Enrolment refuses it; signing with it still takes the private
		// scalar, so verification need not pay for the check.
		if _, err := usableKey(mixed); err != nil {
			t.Errorf("honest key %d with a torsion component, per request: %v", seed, err)
		}
	}

	// Not on the curve at all, and the wrong length.
	var offCurve []byte
	for y := byte(2); y < 100 && offCurve == nil; y++ {
		b := append([]byte{y}, make([]byte, 31)...)
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			offCurve = b
		}
	}
	if offCurve == nil {
		t.Fatal("no y below 100 is off the curve")
	}
	for name, b := range map[string][]byte{"off the curve": offCurve, "short": bytes.Repeat([]byte{9}, 31), "empty": nil} {
		if err := CheckPublicKey(b); ReasonOf(err) != ReasonWeakPublicKey {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func BenchmarkCheckPublicKey(b *testing.B) {
	pub := seededKey(1).Public().(ed25519.PublicKey)
	for b.Loop() {
		if err := CheckPublicKey(pub); err != nil {
			b.Fatal(err)
		}
	}
}
