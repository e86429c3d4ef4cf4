package seal

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadPKCS12 reads the comune's own seal from a PKCS#12 file issued by a
// trust service: its private key, its seal certificate and the trust
// service's CA certificates, opened with the password held in passwordFile
// (one line; a final line break is not part of it). It refuses, in one
// sentence, a file that does not give a key able to seal documents now: a
// key matching none of the certificates, an RSA key under 2048 bits, a
// certificate not yet or no longer valid at now or not for document
// signing, or a chain certificate that is expired or did not sign the one
// below it.
func LoadPKCS12(path, passwordFile string, now time.Time) (Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the seal file %s cannot be read: %w", path, errors.Unwrap(err))
	}
	pw, err := os.ReadFile(passwordFile)
	if err != nil {
		return nil, fmt.Errorf("the seal password file %s cannot be read: %w", passwordFile, errors.Unwrap(err))
	}
	password := strings.TrimSuffix(strings.TrimSuffix(string(pw), "\n"), "\r")
	key, first, rest, err := pkcs12.DecodeChain(data, password)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption):
		return nil, fmt.Errorf("the seal file %s does not open with the password in %s", path, passwordFile)
	case err != nil && strings.Contains(err.Error(), "asn1:"):
		// The parser's structure dump helps no one: the file is not PKCS#12.
		return nil, fmt.Errorf("the seal file %s is not a PKCS#12 file", path)
	case err != nil:
		return nil, fmt.Errorf("the seal file %s is not a PKCS#12 file holding one key and its certificate (%s)", path, strings.TrimPrefix(err.Error(), "pkcs12: "))
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the key in the seal file %s cannot sign", path)
	}
	// The leaf is the certificate of the key, wherever the file put it.
	certs := append([]*x509.Certificate{first}, rest...)
	var leaf *x509.Certificate
	for _, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return nil, fmt.Errorf("the key in the seal file %s belongs to none of its certificates", path)
	}
	name := leaf.Subject.CommonName
	if err := checkSealKey(leaf.PublicKey); err != nil {
		return nil, fmt.Errorf("the seal certificate %q in %s cannot seal: %v", name, path, err)
	}
	if err := checkSealUsage(leaf); err != nil {
		return nil, fmt.Errorf("the seal certificate %q in %s cannot seal documents: %v", name, path, err)
	}
	if err := validAt(leaf, now); err != nil {
		return nil, fmt.Errorf("the seal certificate %q in %s %v", name, path, err)
	}
	var pool []*x509.Certificate
	for _, c := range certs {
		if c != leaf {
			pool = append(pool, c)
		}
	}
	chain := newChain(leaf, pool)
	for _, c := range chain {
		if !c.IsCA || !c.BasicConstraintsValid {
			return nil, fmt.Errorf("the certificate %q above the seal in %s is not a CA certificate", c.Subject.CommonName, path)
		}
		if err := validAt(c, now); err != nil {
			return nil, fmt.Errorf("the CA certificate %q in %s %v", c.Subject.CommonName, path, err)
		}
	}
	return &memorySigner{cert: leaf, chain: chain, key: signer}, nil
}

func validAt(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return fmt.Errorf("expired on %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
