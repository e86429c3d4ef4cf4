package seal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Signer is what seals a certificate PDF: the seal certificate, the
// certificates above it, and the private key behind crypto.Signer. The key
// may live in memory (the demo seal, a PKCS#12 file) or, through another
// implementation, in an HSM or a trust service's remote signing service:
// the hub only ever asks it to sign a SHA-256 digest.
type Signer interface {
	crypto.Signer
	// Certificate is the seal certificate: the comune's, issued to a legal
	// person for electronic seals (Regolamento UE 910/2014, art. 38).
	Certificate() *x509.Certificate
	// Chain is the certificates from the seal certificate's issuer up
	// towards the trust anchor, in that order; it may end with the root.
	Chain() []*x509.Certificate
}

// memorySigner is a Signer whose key is in the hub's memory.
type memorySigner struct {
	cert  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
}

func (s *memorySigner) Certificate() *x509.Certificate { return s.cert }
func (s *memorySigner) Chain() []*x509.Certificate     { return slices.Clone(s.chain) }
func (s *memorySigner) Public() crypto.PublicKey       { return s.key.Public() }

// Sign signs digest. ECDSA keys sign per RFC 6979 (a nil random source), so
// a PDF sealed at a fixed time is byte-for-byte reproducible; RSA PKCS#1
// v1.5 signatures are deterministic by construction.
func (s *memorySigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if ec, ok := s.key.(*ecdsa.PrivateKey); ok {
		return ec.Sign(nil, digest, opts)
	}
	return s.key.Sign(rand.Reader, digest, opts)
}

// signatureAlgorithm is the CMS SignerInfo signatureAlgorithm for pub with
// SHA-256 (RFC 5754 §3): ecdsa-with-SHA256 without parameters, or
// rsaEncryption with NULL parameters, the form RFC 3370 §3.2 asks verifiers
// to accept and the one NSS and every PDF validator read.
func signatureAlgorithm(pub crypto.PublicKey) ([]byte, error) {
	var alg struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	switch pub.(type) {
	case *ecdsa.PublicKey:
		alg.Algorithm = oidECDSAWithSHA256
	case *rsa.PublicKey:
		alg.Algorithm = oidRSAEncryption
		alg.Parameters = asn1.NullRawValue
	default:
		return nil, fmt.Errorf("the seal key is a %T; only RSA and ECDSA keys can seal a PDF", pub)
	}
	return asn1.Marshal(alg)
}

// maxSignatureSize is the largest signature pub's key makes, so the room
// reserved in the PDF fits it: the modulus for RSA, a DER pair of integers
// for ECDSA.
func maxSignatureSize(pub crypto.PublicKey) (int, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		// SEQUENCE { INTEGER r, INTEGER s }, each with a possible leading
		// zero; P-521's exceeds 127 bytes and needs a long length.
		body := 2 * (2 + n + 1)
		if body > 127 {
			return body + 3, nil
		}
		return body + 2, nil
	case *rsa.PublicKey:
		return k.Size(), nil
	}
	return 0, fmt.Errorf("the seal key is a %T; only RSA and ECDSA keys can seal a PDF", pub)
}

// checkSealKey refuses keys too weak for a seal: RSA under 2048 bits and
// curves other than P-256, P-384 and P-521 (ETSI TS 119 312, the algorithms
// qualified trust services issue seal certificates for).
func checkSealKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("its RSA key has %d bits, fewer than the 2048 a seal needs", k.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("its ECDSA key is on curve %s, not P-256, P-384 or P-521", k.Curve.Params().Name)
	}
	return fmt.Errorf("its key is a %T, not an RSA or ECDSA key", pub)
}

// Extended key usages that allow a certificate to seal documents: RFC 9336
// document signing, Adobe's Authentic Documents Trust, and e-mail
// protection, under which NSS (poppler's pdfsig) checks a PDF signer.
var (
	oidAdobeAuthenticDocuments = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 5}
	oidRSAEncryption           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// checkSealUsage refuses a certificate that may not sign documents: its key
// usage must allow digitalSignature or nonRepudiation (contentCommitment),
// the bits ETSI EN 319 412-2 §4.3.2 sets on seal certificates, and an
// extended key usage, when present, must include one for documents.
func checkSealUsage(c *x509.Certificate) error {
	if c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("its key usage allows neither digital signature nor non-repudiation")
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil // no restriction (RFC 5280 §4.2.1.12)
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || u == x509.ExtKeyUsageEmailProtection {
			return nil
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(documentSigning) || u.Equal(oidAdobeAuthenticDocuments) {
			return nil
		}
	}
	return errors.New("its extended key usage does not include document signing, Adobe's authentic documents or e-mail protection")
}

// newChain orders the certificates above leaf, from its issuer up, taking
// from pool each certificate whose subject is the current one's issuer and
// whose key signed it; it stops at a self-signed certificate or when the
// issuer is not in pool. Certificates of pool outside the chain are left.
func newChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var chain []*x509.Certificate
	used := map[*x509.Certificate]bool{}
	for cur := leaf; !selfSigned(cur); {
		var next *x509.Certificate
		for _, c := range pool {
			if !used[c] && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

// embedded is what the PDF signature carries: the seal certificate and
// every intermediate, not a self-signed root. PAdES (ETSI EN 319 142-1
// §5.2 with EN 319 122-1 §5.2.2) asks for the signing certificate and
// what a validator needs to build the path; the root is the one certificate
// a validator must already hold in its own trust store (for a qualified
// seal, from the EU trusted lists), so a copy inside the signature proves
// nothing and a renewed or cross-signed root would only be a stray extra.
func embedded(s Signer) []*x509.Certificate {
	out := []*x509.Certificate{s.Certificate()}
	for _, c := range s.Chain() {
		if !selfSigned(c) {
			out = append(out, c)
		}
	}
	return out
}
