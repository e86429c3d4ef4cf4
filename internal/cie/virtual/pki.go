// Package virtual is a CIE 3.0 written in Go, for demos and tests: it holds
// its own test CSCA, Document Signer, EF.SOD and RSA chip key, answers the
// APDUs of DESIGN.md §CIE 3.0, and can act genuine, cloned, tampered, expired
// or PIN-blocked. It runs in-process as an iso7816.Transport or attaches to a
// real pcscd through the vsmartcard-vpcd driver (see vpcd.go).
package virtual

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/cie"
)

// The keys are test keys committed with the code: generating RSA-2048 keys
// at every start is slow and would change the CSCA a kiosk in demo mode trusts.
//
//go:embed keys/*.pem
var keyFiles embed.FS

// PKI is the virtual card's issuing chain.
type PKI struct {
	CSCA     *x509.Certificate
	CSCAKey  *rsa.PrivateKey
	DSKey    *rsa.PrivateKey
	CardKey  *rsa.PrivateKey // the genuine chip's internal-authentication key
	CloneKey *rsa.PrivateKey // what a clone holds instead: it cannot know CardKey

	// The IAS secure channel (cie/ias.go): the CA that certifies terminals
	// (the card holds its public half; on real cards the private exponent
	// is in the public CIE middleware, here it is this test key's), the
	// card's DAPP key (EF 1004), a terminal key for tests and the DH group.
	IASCAKey  *rsa.PrivateKey
	DAPPKey   *rsa.PrivateKey
	DeviceKey *rsa.PrivateKey
	DH        cie.DHParams

	mu  sync.Mutex
	dss map[bool]*x509.Certificate
}

// Fixed dates keep every certificate deterministic, so two processes (a
// simulator and a kiosk) derive the same CSCA certificate.
var (
	cscaFrom   = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	cscaUntil  = time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	dsFrom     = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	dsUntil    = time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	expFrom    = time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)
	expUntil   = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	loadOnce   sync.Once
	loadedPKI  *PKI
	loadPKIErr error
)

// TestPKI returns the virtual card's PKI, loaded once per process.
func TestPKI() (*PKI, error) {
	loadOnce.Do(func() { loadedPKI, loadPKIErr = loadPKI() })
	return loadedPKI, loadPKIErr
}

// TestCSCA is the CSCA certificate a kiosk trusts in demo and test mode only.
func TestCSCA() (*x509.Certificate, error) {
	p, err := TestPKI()
	if err != nil {
		return nil, err
	}
	return p.CSCA, nil
}

func loadKey(name string) (*rsa.PrivateKey, error) {
	b, err := keyFiles.ReadFile("keys/" + name + ".pem")
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("virtual card key %s is not PEM", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("virtual card key %s: %w", name, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("virtual card key %s is not RSA", name)
	}
	rk.Precompute()
	return rk, nil
}

func loadPKI() (*PKI, error) {
	p := &PKI{dss: map[bool]*x509.Certificate{}}
	var err error
	for _, k := range []struct {
		name string
		dst  **rsa.PrivateKey
	}{{"csca", &p.CSCAKey}, {"ds", &p.DSKey}, {"card", &p.CardKey}, {"clone", &p.CloneKey},
		{"iasca", &p.IASCAKey}, {"dapp", &p.DAPPKey}, {"device", &p.DeviceKey}} {
		if *k.dst, err = loadKey(k.name); err != nil {
			return nil, err
		}
	}
	if p.DH, err = loadDH(); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{"Sportello test PKI"}, CommonName: "Sportello TEST CSCA (not a real issuer)"},
		NotBefore:             cscaFrom,
		NotAfter:              cscaUntil,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski(&p.CSCAKey.PublicKey),
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &p.CSCAKey.PublicKey, p.CSCAKey)
	if err != nil {
		return nil, err
	}
	if p.CSCA, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	return p, nil
}

// loadDH reads the X9.42 DH parameters (p, g, q; openssl genpkey -genparam
// -algorithm DHX, 2048/256 bits). Like a Gemalto card, the virtual one gives
// g as long as p.
func loadDH() (cie.DHParams, error) {
	b, err := keyFiles.ReadFile("keys/dh.pem")
	if err != nil {
		return cie.DHParams{}, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return cie.DHParams{}, fmt.Errorf("virtual card DH parameters are not PEM")
	}
	var v struct{ P, G, Q *big.Int }
	if _, err := asn1.Unmarshal(blk.Bytes, &v); err != nil {
		return cie.DHParams{}, fmt.Errorf("virtual card DH parameters: %w", err)
	}
	n := (v.P.BitLen() + 7) / 8
	return cie.DHParams{G: v.G.FillBytes(make([]byte, n)), P: v.P.FillBytes(make([]byte, n)), Q: v.Q.Bytes()}, nil
}

// TestDeviceAuth is what a terminal needs to open the virtual card's IAS
// secure channel: the test CA's private exponent and a test terminal key.
func TestDeviceAuth() (cie.DeviceAuth, error) {
	p, err := TestPKI()
	if err != nil {
		return cie.DeviceAuth{}, err
	}
	return cie.DeviceAuth{CAExponent: p.IASCAKey.D.Bytes(), DeviceKey: p.DeviceKey}, nil
}

// caKey is how the virtual card describes its external-authentication CA.
func (p *PKI) caKey() *cie.CAKey {
	return &cie.CAKey{
		N:   p.IASCAKey.N,
		E:   p.IASCAKey.E,
		CHR: append([]byte{0, 0, 0, 0}, "SPTESTCA"...),
		CHA: append(append([]byte(nil), cie.AIDCIE...), 0x01),
	}
}

func ski(k *rsa.PublicKey) []byte {
	h := crypto.SHA256.New()
	h.Write(x509.MarshalPKCS1PublicKey(k))
	return h.Sum(nil)[:20]
}

// DS returns the Document Signer certificate: a current one, or one whose
// validity ended in 2023 for the expired card.
func (p *PKI) DS(expired bool) (*x509.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.dss[expired]; c != nil {
		return c, nil
	}
	from, until, serial := dsFrom, dsUntil, int64(100)
	if expired {
		from, until, serial = expFrom, expUntil, 101
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(serial),
		Subject:        pkix.Name{Country: []string{"IT"}, Organization: []string{"Sportello test PKI"}, CommonName: fmt.Sprintf("Sportello TEST Document Signer %d", serial)},
		NotBefore:      from,
		NotAfter:       until,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		SubjectKeyId:   ski(&p.DSKey.PublicKey),
		AuthorityKeyId: p.CSCA.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(nil, tmpl, p.CSCA, &p.DSKey.PublicKey, p.CSCAKey)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p.dss[expired] = c
	return c, nil
}
