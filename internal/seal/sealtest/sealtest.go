// Package sealtest makes, for tests, what a trust service hands a comune:
// a PKCS#12 file with the comune's seal key and certificate, issued by an
// intermediate CA under a root, and the password in a file beside it.
package sealtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// SealName is the seal certificate's common name.
const SealName = "Comune di Prova - Sigillo elettronico"

// documentSigning is the RFC 9336 extended key usage.
var documentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// PKI is a trust service's hierarchy and the comune's seal under it.
type PKI struct {
	Root, Intermediate, Seal *x509.Certificate
	RootKey, InterKey        crypto.Signer
	SealKey                  crypto.Signer
}

// Files are the PKI written out: the PKCS#12 file holding the seal key,
// its certificate, the intermediate and the root; the password file; and
// the root alone in PEM, as a verifier trusts it.
type Files struct {
	P12, Password, RootPEM string
}

// Password is the PKCS#12 file's password.
const Password = "s3gret0 del Comune"

// Option changes the seal certificate's template before it is issued.
type Option func(*x509.Certificate)

// New makes a root CA (RSA 2048), an intermediate CA (ECDSA P-256) and a
// seal certificate (RSA 2048, as trust services issue them), valid around
// now. Options change the seal certificate.
func New(t testing.TB, now time.Time, opts ...Option) *PKI {
	t.Helper()
	p := &PKI{RootKey: rsaKey(t), InterKey: ecKey(t), SealKey: rsaKey(t)}
	p.Root = issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "Prova Trust Service Root CA", Organization: []string{"Prova QTSP S.p.A."}, Country: []string{"IT"}},
		NotBefore: now.AddDate(-5, 0, 0), NotAfter: now.AddDate(15, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}, nil, p.RootKey, p.RootKey)
	p.Intermediate = issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "Prova Qualified eSeal CA", Organization: []string{"Prova QTSP S.p.A."}, Country: []string{"IT"}},
		NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(8, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}, p.Root, p.InterKey, p.RootKey)
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: SealName, Organization: []string{"Comune di Prova"}, Country: []string{"IT"},
			// ETSI EN 319 412-1 §5.1.4: the legal person's identifier.
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "VATIT-00000000000"}}},
		NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(3, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{documentSigning},
		BasicConstraintsValid: true,
	}
	for _, o := range opts {
		o(tmpl)
	}
	p.Seal = issue(t, tmpl, p.Intermediate, p.SealKey, p.InterKey)
	return p
}

// Write puts the PKI in dir: the PKCS#12 file (modern encryption, with the
// chain in the order trust services ship it: root first), the password file
// with a final line break, and the root in PEM.
func (p *PKI) Write(t testing.TB, dir string) Files {
	t.Helper()
	return p.WriteWith(t, dir, p.SealKey, []*x509.Certificate{p.Root, p.Intermediate})
}

// WriteWith writes a PKCS#12 file holding key, the seal certificate and
// cas, so tests can pair a certificate with the wrong key or leave part of
// the chain out.
func (p *PKI) WriteWith(t testing.TB, dir string, key crypto.Signer, cas []*x509.Certificate) Files {
	t.Helper()
	der, err := pkcs12.Modern.Encode(key, p.Seal, cas, Password)
	if err != nil {
		t.Fatal(err)
	}
	f := Files{P12: filepath.Join(dir, "sigillo.p12"), Password: filepath.Join(dir, "sigillo.password"), RootPEM: filepath.Join(dir, "root.pem")}
	write(t, f.P12, der, 0o600)
	write(t, f.Password, []byte(Password+"\n"), 0o600)
	write(t, f.RootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw}), 0o644)
	return f
}

func write(t testing.TB, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

func rsaKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RSAKey is a new RSA key of bits, for tests that need a weak or a foreign key.
func RSAKey(t testing.TB, bits int) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ECKey is a new ECDSA key on curve, for a seal certificate of that kind.
func ECKey(t testing.TB, curve elliptic.Curve) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// WriteEncoded writes the PKCS#12 file with enc (e.g. pkcs12.LegacyRC2, the
// encryption older trust-service files use) instead of the modern one.
func (p *PKI) WriteEncoded(t testing.TB, dir string, enc *pkcs12.Encoder) Files {
	t.Helper()
	f := p.WriteWith(t, dir, p.SealKey, []*x509.Certificate{p.Root, p.Intermediate})
	der, err := enc.Encode(p.SealKey, p.Seal, []*x509.Certificate{p.Root, p.Intermediate}, Password)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f.P12, der, 0o600)
	return f
}

// ExpireIntermediate reissues the intermediate CA, expired before now, and
// the seal under it.
func (p *PKI) ExpireIntermediate(t testing.TB, now time.Time) *PKI {
	t.Helper()
	q := *p
	tmpl := &x509.Certificate{
		Subject:   p.Intermediate.Subject,
		NotBefore: now.AddDate(-10, 0, 0), NotAfter: now.AddDate(0, 0, -1),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	q.Intermediate = issue(t, tmpl, p.Root, p.InterKey, p.RootKey)
	seal := *p.Seal
	q.Seal = issue(t, &x509.Certificate{
		Subject: seal.Subject, NotBefore: seal.NotBefore, NotAfter: seal.NotAfter,
		KeyUsage: seal.KeyUsage, ExtKeyUsage: seal.ExtKeyUsage, UnknownExtKeyUsage: seal.UnknownExtKeyUsage,
		BasicConstraintsValid: true,
	}, q.Intermediate, p.SealKey, p.InterKey)
	return &q
}

// issue signs tmpl for key's public half with parentKey under parent, or
// self-signed when parent is nil.
func issue(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Reissue issues a new seal certificate for key under the same
// intermediate, changed by opts: for a certificate of another key.
func (p *PKI) Reissue(t testing.TB, key crypto.Signer, opts ...Option) *PKI {
	t.Helper()
	q := *p
	tmpl := &x509.Certificate{
		Subject:   p.Seal.Subject,
		NotBefore: p.Seal.NotBefore, NotAfter: p.Seal.NotAfter,
		KeyUsage: p.Seal.KeyUsage, ExtKeyUsage: p.Seal.ExtKeyUsage, UnknownExtKeyUsage: p.Seal.UnknownExtKeyUsage,
		BasicConstraintsValid: true,
	}
	for _, o := range opts {
		o(tmpl)
	}
	q.SealKey = key
	q.Seal = issue(t, tmpl, p.Intermediate, key, p.InterKey)
	return &q
}
