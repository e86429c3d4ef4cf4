package seal

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sportello/sportello/internal/keyhandover"
)

// Files of the rotations, beside the keys.
const (
	// RetiredFile lists what rotations replaced: public keys and seal
	// certificates, never a private key.
	RetiredFile = "retired.json"
	// HandoverFile holds the chain of response-key hand-overs.
	HandoverFile = "handover.json"
	// SealRequestKeyFile is the key of a seal certificate requested from
	// an offline CA (SealRequest), until InstallSeal puts it in use.
	SealRequestKeyFile = "seal-key.request.pem"
	// nextResponseKeyFile is a rotated response key written before its
	// hand-over, put in place once the hand-over is on disk.
	nextResponseKeyFile = "response-ed25519.next.pem"
)

// What a retired entry was.
const (
	UseToken    = "token"    // signed QR tokens and audit anchors
	UseResponse = "response" // signed the API's answers
	UseSeal     = "seal"     // a seal certificate
)

// SixMonths is how long a certificate of limited validity is valid (art.
// 41, comma 1, DPR 445/2000), and so how long a retired token key must
// stay published when nothing it sealed is valid for longer.
const SixMonths = 6 * 31 * 24 * time.Hour

// Retired is one key or seal certificate a rotation replaced.
type Retired struct {
	Use     string    `json:"use"`
	Kid     string    `json:"kid,omitempty"`
	X       string    `json:"x,omitempty"`    // Ed25519 public key, base64url
	Cert    string    `json:"cert,omitempty"` // seal certificate, PEM
	Retired time.Time `json:"retired"`
	// Until is when the JWKS stops listing a retired token key: the end
	// of validity of the last certificate it sealed. Zero with Forever
	// false is never listed (a response key); Forever keeps it listed,
	// for certificates of unlimited validity.
	Until   time.Time `json:"until,omitzero"`
	Forever bool      `json:"forever,omitempty"`
}

func (r Retired) public() (ed25519.PublicKey, bool) {
	x, err := base64.RawURLEncoding.DecodeString(r.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(x), true
}

// published reports whether the JWKS lists r at now.
func (r Retired) published(now time.Time) bool {
	return r.Use == UseToken && (r.Forever || now.Before(r.Until))
}

// loadRotations reads the response key, the retired keys and the
// hand-overs of dir, finishing a response-key rotation cut short between
// its hand-over and its key file.
func (k *Keys) loadRotations(dir string) error {
	var err error
	if k.Retired, err = readJSON[[]Retired](filepath.Join(dir, RetiredFile)); err != nil {
		return err
	}
	if k.Handovers, err = readJSON[[]keyhandover.Handover](filepath.Join(dir, HandoverFile)); err != nil {
		return err
	}
	next := filepath.Join(dir, nextResponseKeyFile)
	if key, err := loadEd25519(next); err == nil {
		if n := len(k.Handovers); n > 0 && k.Handovers[n-1].To == keyID(key.Public().(ed25519.PublicKey)) {
			if err := os.Rename(next, filepath.Join(dir, ResponseKeyFile)); err != nil {
				return fmt.Errorf("the rotated response key cannot be put in place: %w", err)
			}
		} else if err := os.Remove(next); err != nil { // never handed over: no kiosk knows it
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	k.ResponseKey, k.ResponseKeyID = k.TokenKey, k.KeyID
	if key, err := loadEd25519(filepath.Join(dir, ResponseKeyFile)); err == nil {
		k.ResponseKey, k.ResponseKeyID = key, keyID(key.Public().(ed25519.PublicKey))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func readJSON[T any](path string) (T, error) {
	var v T
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("%s cannot be read: %w", path, err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s is not the expected JSON: %w", path, err)
	}
	return v, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(b, '\n'), 0o644)
}

// loadCA reads the hub CA. Its key may be missing: the CA is then kept
// offline and only its certificate is here. A key without its
// certificate is refused.
func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	_, kerr := os.Stat(filepath.Join(dir, CAKeyFile))
	b, cerr := os.ReadFile(filepath.Join(dir, CACertFile))
	if errors.Is(cerr, fs.ErrNotExist) || !errors.Is(kerr, fs.ErrNotExist) {
		return loadPair(dir, CACertFile, CAKeyFile)
	}
	if cerr != nil {
		return nil, nil, cerr
	}
	cert, err := parseCert(filepath.Join(dir, CACertFile), b)
	return cert, nil, err
}

func parseCert(path string, b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s is not a PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid certificate: %w", path, err)
	}
	return cert, nil
}

// PublicKeys is every Ed25519 key the hub has signed with, current and
// retired, by key id: what checks the audit anchors, which a rotation
// must not orphan.
func (k *Keys) PublicKeys() map[string]ed25519.PublicKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := map[string]ed25519.PublicKey{
		k.KeyID:         k.TokenKey.Public().(ed25519.PublicKey),
		k.ResponseKeyID: k.ResponseKey.Public().(ed25519.PublicKey),
	}
	for _, r := range k.Retired {
		if pub, ok := r.public(); ok {
			out[r.Kid] = pub
		}
	}
	return out
}

// LoadPublicKeys reads PublicKeys from dir without creating anything, for
// commands that only check what the keys signed.
func LoadPublicKeys(dir string) (map[string]ed25519.PublicKey, error) {
	priv, err := loadEd25519(filepath.Join(dir, TokenKeyFile))
	if err != nil {
		return nil, err
	}
	k := &Keys{TokenKey: priv, KeyID: keyID(priv.Public().(ed25519.PublicKey))}
	if k.Retired, err = readJSON[[]Retired](filepath.Join(dir, RetiredFile)); err != nil {
		return nil, err
	}
	k.ResponseKey, k.ResponseKeyID = k.TokenKey, k.KeyID
	if key, err := loadEd25519(filepath.Join(dir, ResponseKeyFile)); err == nil {
		k.ResponseKey, k.ResponseKeyID = key, keyID(key.Public().(ed25519.PublicKey))
	}
	return k.PublicKeys(), nil
}

// Rotation is what a rotation did, for the audit log and the operator.
type Rotation struct {
	Use      string
	Old, New string // key ids, or seal certificate serials in hex
	// Until is when the JWKS stops listing the retired token key; zero
	// with Forever false: never listed.
	Until   time.Time
	Forever bool
}

// RotateToken puts a new token key in dir. The old one stays listed in the
// JWKS until until, or for ever when forever (it sealed certificates of
// unlimited validity), so the paper it sealed still verifies. A directory
// whose answers were signed by the token key keeps that key for answers
// (response-ed25519.pem), so enrolled kiosks keep talking.
func RotateToken(dir string, now, until time.Time, forever bool) (Rotation, error) {
	old, err := loadEd25519(filepath.Join(dir, TokenKeyFile))
	if err != nil {
		return Rotation{}, err
	}
	oldID := keyID(old.Public().(ed25519.PublicKey))
	respPath := filepath.Join(dir, ResponseKeyFile)
	if _, err := os.Stat(respPath); errors.Is(err, fs.ErrNotExist) {
		if err := writeKey(respPath, old); err != nil {
			return Rotation{}, err
		}
	}
	_, next, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Rotation{}, err
	}
	r := Retired{Use: UseToken, Kid: oldID, X: base64.RawURLEncoding.EncodeToString(old.Public().(ed25519.PublicKey)),
		Retired: now.UTC(), Until: until.UTC(), Forever: forever}
	if forever {
		r.Until = time.Time{}
	}
	// The old key is listed as retired before the new one replaces it: a
	// crash between leaves it both current and listed, never lost.
	if err := retire(dir, r); err != nil {
		return Rotation{}, err
	}
	if err := writeKey(filepath.Join(dir, TokenKeyFile), next); err != nil {
		return Rotation{}, err
	}
	return Rotation{Use: UseToken, Old: oldID, New: keyID(next.Public().(ed25519.PublicKey)), Until: r.Until, Forever: forever}, nil
}

func retire(dir string, r Retired) error {
	path := filepath.Join(dir, RetiredFile)
	list, err := readJSON[[]Retired](path)
	if err != nil {
		return err
	}
	return writeJSON(path, append(list, r))
}

// RotateResponse puts a new response key in dir, handed over by the old
// one (the token key, in a directory that never rotated it): kiosks
// pinned to the old key accept the new one from the hand-over the hub
// sends with its answers.
func RotateResponse(dir string, now time.Time) (Rotation, error) {
	oldPath := filepath.Join(dir, ResponseKeyFile)
	old, err := loadEd25519(oldPath)
	if errors.Is(err, fs.ErrNotExist) {
		old, err = loadEd25519(filepath.Join(dir, TokenKeyFile))
	}
	if err != nil {
		return Rotation{}, err
	}
	oldPub := old.Public().(ed25519.PublicKey)
	oldID := keyID(oldPub)
	pub, next, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Rotation{}, err
	}
	// The new key is written aside, then handed over, then put in place:
	// a crash leaves either no hand-over (the aside key is dropped at the
	// next start) or a hand-over whose key LoadOrCreate puts in place.
	if err := writeKey(filepath.Join(dir, nextResponseKeyFile), next); err != nil {
		return Rotation{}, err
	}
	hpath := filepath.Join(dir, HandoverFile)
	chain, err := readJSON[[]keyhandover.Handover](hpath)
	if err != nil {
		return Rotation{}, err
	}
	chain = append(chain, keyhandover.Sign(old, oldID, pub, now))
	if err := writeJSON(hpath, chain); err != nil {
		return Rotation{}, err
	}
	tokenKey, err := loadEd25519(filepath.Join(dir, TokenKeyFile))
	if err != nil {
		return Rotation{}, err
	}
	if !tokenKey.Equal(old) { // the token key stays in use; a retired response key is listed for the anchors only
		if err := retire(dir, Retired{Use: UseResponse, Kid: oldID, X: base64.RawURLEncoding.EncodeToString(oldPub), Retired: now.UTC()}); err != nil {
			return Rotation{}, err
		}
	}
	if err := os.Rename(filepath.Join(dir, nextResponseKeyFile), oldPath); err != nil {
		return Rotation{}, fmt.Errorf("the new response key cannot be put in place: %w", err)
	}
	return Rotation{Use: UseResponse, Old: oldID, New: keyID(pub)}, nil
}

// RotateSeal issues a new seal certificate and key from the CA in dir,
// whose key must be here, retiring the old certificate. PDFs sealed by
// the old one still verify: their signature carries it, and it chains to
// the same CA.
func RotateSeal(dir string, now time.Time) (Rotation, error) {
	ca, caKey, err := loadCA(dir)
	if err != nil {
		return Rotation{}, err
	}
	if ca == nil {
		return Rotation{}, fmt.Errorf("there is no hub CA in %s", dir)
	}
	if caKey == nil {
		return Rotation{}, errors.New("the CA key is not on this machine: use hub keys seal-request here, hub keys issue-seal on the machine holding the CA key, then hub keys install-seal here")
	}
	cert, key, err := newSealCert(ca, caKey, now)
	if err != nil {
		return Rotation{}, err
	}
	return installSeal(dir, cert, key, now)
}

func installSeal(dir string, cert *x509.Certificate, key *ecdsa.PrivateKey, now time.Time) (Rotation, error) {
	old, _, err := loadPair(dir, SealCertFile, SealKeyFile)
	if err != nil {
		return Rotation{}, err
	}
	rot := Rotation{Use: UseSeal, New: cert.SerialNumber.Text(16)}
	if old != nil {
		rot.Old = old.SerialNumber.Text(16)
		r := Retired{Use: UseSeal, Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: old.Raw})), Retired: now.UTC()}
		if err := retire(dir, r); err != nil {
			return Rotation{}, err
		}
	}
	if err := savePair(dir, SealCertFile, SealKeyFile, cert, key); err != nil {
		return Rotation{}, err
	}
	return rot, nil
}

// SealRequest makes the key of a new seal certificate, kept in dir until
// InstallSeal, and returns the certificate signing request (PKCS#10 PEM)
// to carry to the machine holding the CA key. A new request replaces an
// earlier one not yet installed.
func SealRequest(dir string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: sealSubject}, key)
	if err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, SealRequestKeyFile), key); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// IssueSeal is the offline step: the CA (certificate and key, PEM) issues
// a seal certificate for the key of csrPEM, valid from now. It returns
// the certificate in PEM.
func IssueSeal(csrPEM, caPEM, caKeyPEM []byte, now time.Time) ([]byte, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("the request is not a PEM certificate request (hub keys seal-request writes one)")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the certificate request is not valid: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("the certificate request is not signed by its own key: %w", err)
	}
	if err := checkSealKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("the request cannot be a seal: %w", err)
	}
	ca, err := parseCert("the CA certificate", caPEM)
	if err != nil {
		return nil, err
	}
	caKey, err := parseKey("the CA key", caKeyPEM)
	if err != nil {
		return nil, err
	}
	ec, ok := caKey.(*ecdsa.PrivateKey)
	if !ok || !ec.PublicKey.Equal(ca.PublicKey) {
		return nil, errors.New("the CA key is not the key of the CA certificate")
	}
	tmpl := sealTemplate(ca, now)
	tmpl.SerialNumber, err = rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, csr.PublicKey, ec)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// InstallSeal puts in use the seal certificate certPEM, issued for the
// key SealRequest left in dir by the hub CA, retiring the old one.
func InstallSeal(dir string, certPEM []byte, now time.Time) (Rotation, error) {
	cert, err := parseCert("the seal certificate", certPEM)
	if err != nil {
		return Rotation{}, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, SealRequestKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Rotation{}, fmt.Errorf("there is no pending seal request in %s: run hub keys seal-request first", dir)
	}
	if err != nil {
		return Rotation{}, err
	}
	k, err := parseKey(SealRequestKeyFile, kb)
	if err != nil {
		return Rotation{}, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return Rotation{}, errors.New("the seal certificate is not for the key of the pending seal request: issue it from the request hub keys seal-request wrote last")
	}
	ca, _, err := loadCA(dir)
	if err != nil {
		return Rotation{}, err
	}
	if ca == nil || cert.CheckSignatureFrom(ca) != nil {
		return Rotation{}, errors.New("the seal certificate was not issued by the hub CA (ca.pem)")
	}
	if err := checkSealUsage(cert); err != nil {
		return Rotation{}, fmt.Errorf("the certificate cannot seal: %w", err)
	}
	if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
		return Rotation{}, fmt.Errorf("the seal certificate is valid from %s to %s, not now", cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
	}
	rot, err := installSeal(dir, cert, key, now)
	if err != nil {
		return Rotation{}, err
	}
	if err := os.Remove(filepath.Join(dir, SealRequestKeyFile)); err != nil {
		return Rotation{}, err
	}
	return rot, nil
}

var sealSubject = pkix.Name{CommonName: "Sportello Hub Seal", Organization: []string{"Sportello"}, Country: []string{"IT"}}
