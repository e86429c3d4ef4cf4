package httpsig

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/dunglas/httpsfv"
)

// AlgEd25519 is the RFC 9421 registry name of the only algorithm accepted.
const AlgEd25519 = "ed25519"

// SignatureBase builds the signature base of RFC 9421 section 2.5: one line
// per covered component and the "@signature-params" line last.
func SignatureBase(m *Message, in *SignatureInput) ([]byte, error) {
	var b strings.Builder
	for _, c := range in.Components {
		if c.Name == "@signature-params" {
			return nil, refuse(ReasonMalformedSignatureInput, "@signature-params cannot be a covered component")
		}
		v, err := m.value(c)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, refuse(ReasonMissingComponent, fmt.Sprintf("the value of %s contains a line break, which a signature base cannot hold", c))
		}
		b.WriteString(c.String())
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	sp, err := in.SignatureParams()
	if err != nil {
		return nil, refuseErr(ReasonMalformedSignatureInput, "the signature parameters cannot be serialized: "+err.Error(), err)
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(sp)
	return []byte(b.String()), nil
}

// Signed is the outcome of signing: the two field members to add and the
// base that was signed (kept for tests and debugging).
type Signed struct {
	Input     string // Signature-Input member, "label=(...);params"
	Signature string // Signature member, "label=:base64:"
	Base      []byte
}

// Sign signs the components of m under label with key, for callers that
// choose components and parameters themselves (Signer picks the usual set).
func Sign(m *Message, label string, components []Component, p Params, key ed25519.PrivateKey) (*Signed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("the signing key has %d bytes, an Ed25519 private key has %d", len(key), ed25519.PrivateKeySize)
	}
	in, err := newSignatureInput(label, components, p)
	if err != nil {
		return nil, err
	}
	base, err := SignatureBase(m, in)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(key, base)
	inDict := httpsfv.NewDictionary()
	inDict.Add(label, in.list)
	input, err := httpsfv.Marshal(inDict)
	if err != nil {
		return nil, fmt.Errorf("label %q is not a valid structured-field key: %w", label, err)
	}
	sigDict := httpsfv.NewDictionary()
	sigDict.Add(label, httpsfv.NewItem(sig))
	sigField, err := httpsfv.Marshal(sigDict)
	if err != nil {
		return nil, err
	}
	return &Signed{Input: input, Signature: sigField, Base: base}, nil
}

// VerifySignature checks sig over the base of m for in with key. It is the
// cryptographic check only: Verifier adds the policy (times, nonce, required
// components, key status) a server needs.
func VerifySignature(m *Message, in *SignatureInput, sig []byte, key ed25519.PublicKey) error {
	if in.Alg != "" && in.Alg != AlgEd25519 {
		return refuse(ReasonUnsupportedAlgorithm,
			fmt.Sprintf("signature %q uses algorithm %q; only %q is accepted", in.Label, in.Alg, AlgEd25519))
	}
	// A key of small order would let one fixed signature pass for every
	// message, so a key enrolled before enrolment checked is refused here too.
	if _, err := usableKey(key); err != nil {
		return refuseErr(ReasonWeakPublicKey, fmt.Sprintf("the key for signature %q cannot be trusted: %v", in.Label, err), err)
	}
	if len(sig) != ed25519.SignatureSize {
		return refuse(ReasonMalformedSignature,
			fmt.Sprintf("signature %q has %d bytes, an Ed25519 signature has %d", in.Label, len(sig), ed25519.SignatureSize))
	}
	base, err := SignatureBase(m, in)
	if err != nil {
		return err
	}
	if !ed25519.Verify(key, base, sig) {
		return refuse(ReasonInvalidSignature,
			fmt.Sprintf("signature %q does not match the message: a covered component changed or the wrong key signed it", in.Label))
	}
	return nil
}
