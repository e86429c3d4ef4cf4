// Package seal holds the hub's keys and everything that makes a certificate
// checkable away from the hub: the signed QR token (Ed25519, published as a
// JWKS), the PDF signature made with the hub's X.509 seal certificate, and
// the verification of a certificate PDF.
package seal

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/keyhandover"
)

// Files in the key directory. Private keys are PKCS#8 PEM with mode 0600.
const (
	TokenKeyFile = "token-ed25519.pem" // issuing key: QR tokens and audit anchors
	// ResponseKeyFile signs the API's answers once the response key has
	// been rotated apart from the token key; a directory without it (every
	// one made before rotation existed) signs answers with the token key.
	ResponseKeyFile = "response-ed25519.pem"
	CACertFile      = "ca.pem" // the hub CA, which offices trust
	// CAKeyFile may be absent: the CA's key then stays on an offline
	// machine and seal certificates are issued there (IssueSeal).
	CAKeyFile    = "ca-key.pem"
	SealCertFile = "seal.pem" // PDF seal certificate, issued by the hub CA
	SealKeyFile  = "seal-key.pem"
)

// Validity of newly created certificates. The seal certificate must outlive
// any certificate it signs for as long as offices check them; renewal is an
// operator task (delete seal*.pem and restart: the CA stays).
const (
	caValidity   = 20 * 365 * 24 * time.Hour
	sealValidity = 5 * 365 * 24 * time.Hour
	// Backdating absorbs clock skew between the hub and verifiers.
	backdate = time.Hour
)

// documentSigning is the RFC 9336 extended key usage for document signing.
var documentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// Keys is the hub's key material.
type Keys struct {
	TokenKey ed25519.PrivateKey
	KeyID    string // JWK "kid" of TokenKey: RFC 7638 thumbprint, shortened
	// ResponseKey signs the API's answers, which kiosks check against the
	// key they pinned at enrolment: TokenKey itself until a rotation of
	// the response key (RotateResponse) set it apart.
	ResponseKey   ed25519.PrivateKey
	ResponseKeyID string
	// Handovers pass the response-signing role from each retired response
	// key to its successor, signed by the retiring key: how a kiosk pinned
	// to an old key learns the new one.
	Handovers []keyhandover.Handover
	// Retired are the keys and seal certificates rotations replaced.
	Retired []Retired

	// CA is the hub's own CA, made on first start, which issues the demo
	// seal certificate.
	CA *x509.Certificate
	// Seal signs the certificate PDFs: the demo seal issued by CA unless
	// the hub was given the comune's own (LoadPKCS12), or another Signer.
	Seal Signer

	caKey *ecdsa.PrivateKey // issues a new seal certificate when seal*.pem are removed; nil with an offline CA
	now   func() time.Time  // decides which retired keys the JWKS still lists
	dir   string
	// dirSeal is the seal loaded from dir: Reload replaces Seal only
	// while it is this one, never a comune's own seal set in its place.
	dirSeal Signer
	// mu guards TokenKey, KeyID, Seal, Retired and CA against Reload
	// while a serving hub seals and publishes.
	mu sync.RWMutex
}

// LoadOrCreate reads the hub's keys from dir, creating the directory and
// any missing key on first start. now dates new certificates. A directory
// holding only part of the CA or seal pair is refused rather than silently
// replaced, since replacing a CA would invalidate every issued PDF.
func LoadOrCreate(dir string, now func() time.Time) (*Keys, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the key directory %s cannot be created: %w", dir, err)
	}
	k := &Keys{now: now, dir: dir}
	var err error
	if k.TokenKey, err = loadOrCreateEd25519(filepath.Join(dir, TokenKeyFile)); err != nil {
		return nil, err
	}
	k.KeyID = keyID(k.TokenKey.Public().(ed25519.PublicKey))
	if err := k.loadRotations(dir); err != nil {
		return nil, err
	}

	k.CA, k.caKey, err = loadCA(dir)
	if err != nil {
		return nil, err
	}
	if k.CA == nil {
		if k.CA, k.caKey, err = newCA(now()); err != nil {
			return nil, err
		}
		if err := savePair(dir, CACertFile, CAKeyFile, k.CA, k.caKey); err != nil {
			return nil, err
		}
	}
	sealCert, sealKey, err := loadPair(dir, SealCertFile, SealKeyFile)
	if err != nil {
		return nil, err
	}
	if sealCert == nil {
		if k.caKey == nil {
			return nil, fmt.Errorf("there is no seal certificate in %s and the CA key is not on this machine: make one with hub keys seal-request, issue it with hub keys issue-seal on the machine holding the CA key, and install it with hub keys install-seal", dir)
		}
		if sealCert, sealKey, err = newSealCert(k.CA, k.caKey, now()); err != nil {
			return nil, err
		}
		if err := savePair(dir, SealCertFile, SealKeyFile, sealCert, sealKey); err != nil {
			return nil, err
		}
	}
	if err := sealCert.CheckSignatureFrom(k.CA); err != nil {
		return nil, fmt.Errorf("the seal certificate in %s was not issued by the CA beside it: %w", dir, err)
	}
	k.Seal = &memorySigner{cert: sealCert, chain: []*x509.Certificate{k.CA}, key: sealKey}
	k.dirSeal = k.Seal
	return k, nil
}

// Reload reads the token key, the seal and the retired keys from the key
// directory again after a rotation, so that a serving hub seals with the
// new ones from the next certificate and its JWKS lists what the rotation
// retired. A seal the comune gave in place of the directory's (PKCS#12)
// stays. The response key is not swapped: answers are signed with it
// until the hub restarts, and kiosks take the new one from its hand-over
// then.
func (k *Keys) Reload() error {
	fresh, err := LoadOrCreate(k.dir, k.now)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.TokenKey, k.KeyID, k.Retired, k.CA, k.caKey = fresh.TokenKey, fresh.KeyID, fresh.Retired, fresh.CA, fresh.caKey
	if k.Seal == k.dirSeal {
		k.Seal = fresh.Seal
	}
	k.dirSeal = fresh.Seal
	return nil
}

// signing is what seals now: the token key, its id and the seal.
func (k *Keys) signing() (ed25519.PrivateKey, string, Signer) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.TokenKey, k.KeyID, k.Seal
}

// CAKeyHere reports whether the CA's private key is on this machine.
func (k *Keys) CAKeyHere() bool { return k.caKey != nil }

// CAPEM is the hub CA certificate in PEM, for offices to trust.
func (k *Keys) CAPEM() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.CA.Raw})
}

// Trust is what a verifier relies on: the hub CA and, when the seal's
// chain ends in a root, that root for PDF signatures, and the published key
// set for QR tokens.
func (k *Keys) Trust() Trust {
	ks := k.JWKS()
	k.mu.RLock()
	defer k.mu.RUnlock()
	pool := x509.NewCertPool()
	pool.AddCert(k.CA)
	if k.Seal != nil {
		if chain := k.Seal.Chain(); len(chain) > 0 && selfSigned(chain[len(chain)-1]) {
			pool.AddCert(chain[len(chain)-1])
		}
	}
	// The hub's own checks trust every token key it ever sealed with, also
	// those the JWKS no longer lists: the key is the hub's, and a
	// certificate's validity is a question for the page, not the key.
	for _, r := range k.Retired {
		if r.Use == UseToken && !r.published(k.clock()) {
			ks.Keys = append(ks.Keys, r.jwk())
		}
	}
	return Trust{Roots: pool, Keys: ks}
}

// SealedBy names the seal as the verification page shows it: the seal
// certificate's holder and the CA that issued it, as pdfsig and PDF
// readers name them.
func (k *Keys) SealedBy() string {
	_, _, sl := k.signing()
	c := sl.Certificate()
	return fmt.Sprintf("%s (certificato rilasciato da %s)", c.Subject.CommonName, c.Issuer.CommonName)
}

// keyID is the RFC 7638 thumbprint (SHA-256 over the required members in
// lexicographic order), shortened: the one key id kiosks and verifiers see.
func keyID(pub ed25519.PublicKey) string { return keyhandover.KeyID(pub) }

func loadOrCreateEd25519(path string) (ed25519.PrivateKey, error) {
	priv, err := loadEd25519(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return priv, err
	}
	_, priv, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writeKey(path, priv); err != nil {
		return nil, err
	}
	return priv, nil
}

// loadEd25519 reads the Ed25519 private key at path; a missing file is an
// error wrapping fs.ErrNotExist.
func loadEd25519(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the issuing key %s cannot be read: %w", path, err)
	}
	key, err := parseKey(path, b)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the issuing key %s is not an Ed25519 key", path)
	}
	return priv, nil
}

func loadPair(dir, certName, keyName string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, certName), filepath.Join(dir, keyName)
	cb, cerr := os.ReadFile(certPath)
	kb, kerr := os.ReadFile(keyPath)
	if errors.Is(cerr, fs.ErrNotExist) && errors.Is(kerr, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if cerr != nil || kerr != nil {
		return nil, nil, fmt.Errorf("the key directory %s holds only part of %s and %s; restore both or remove both: %w",
			dir, certName, keyName, errors.Join(cerr, kerr))
	}
	block, _ := pem.Decode(cb)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s is not a PEM certificate", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a valid certificate: %w", certPath, err)
	}
	key, err := parseKey(keyPath, kb)
	if err != nil {
		return nil, nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || !ec.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("%s is not the ECDSA key of %s", keyPath, certPath)
	}
	return cert, ec, nil
}

func parseKey(path string, b []byte) (crypto.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PKCS#8 PEM private key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid private key: %w", path, err)
	}
	return key, nil
}

func savePair(dir, certName, keyName string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	if err := writeKey(filepath.Join(dir, keyName), key); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, certName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeKey(path string, key crypto.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeFile writes through a temporary file and a rename, so a crash never
// leaves a truncated key behind.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("the key file %s cannot be written: %w", path, err)
	}
	return nil
}

func newCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	return issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "Sportello Hub CA", Organization: []string{"Sportello"}, Country: []string{"IT"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}, nil, nil)
}

func newSealCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if caKey == nil {
		return nil, nil, errors.New("the hub CA key is missing, so no seal certificate can be issued")
	}
	return issue(sealTemplate(ca, now), ca, caKey)
}

// sealTemplate is a seal certificate from now, within ca's validity.
func sealTemplate(ca *x509.Certificate, now time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:   sealSubject,
		NotBefore: now.Add(-backdate),
		NotAfter:  now.Add(sealValidity),
		// NSS (poppler's pdfsig) checks a PDF signer as an e-mail signer:
		// without emailProtection it reports the certificate as not trusted.
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{documentSigning},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	return tmpl
}

// serialLimit bounds certificate serials: 127 random bits, positive.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 127)

// issue makes a new P-256 key and a certificate for it from tmpl with a
// random serial, signed by parentKey as parent, or self-signed when parent
// is nil.
func issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, serialLimit); err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}
