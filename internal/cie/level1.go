// Package cie reads the Italian electronic identity card (CIE 3.0): the
// level-1 identification without a PIN (NIS, internal authentication with the
// card's key, passive authentication of EF.SOD against trusted CSCAs) and the
// level-2 PIN check. See DESIGN.md §CIE 3.0 for the APDUs.
package cie

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/sportello/sportello/internal/iso7816"
)

// Application and file identifiers (DESIGN.md §CIE 3.0).
var (
	AIDIAS     = []byte{0xA0, 0x00, 0x00, 0x00, 0x30, 0x80, 0x00, 0x00, 0x00, 0x09, 0x81, 0x60, 0x01}
	AIDCIE     = []byte{0xA0, 0x00, 0x00, 0x00, 0x00, 0x39}
	MSEIntAuth = []byte{0x80, 0x01, 0x02, 0x84, 0x01, 0x83} // RSA PKCS#1 with the internal-authentication key
)

// Short file identifiers of the level-1 files.
const (
	SFINIS  = 0x01 // 1001 EF.ID_Servizi
	SFIKpub = 0x05 // 1005 EF.Servizi_Int.Kpub
	SFISOD  = 0x06 // 1006 EF.SOD
)

// ChallengeSize is the INTERNAL AUTHENTICATE challenge length.
const ChallengeSize = 8

// Code names why a verdict is negative.
type Code string

const (
	ChipAuthFailed    Code = "chip-auth-failed"     // the card's signature does not verify with key 1005: a clone
	KeyInvalid        Code = "key-invalid"          // EF.Servizi_Int.Kpub is not an RSA key
	SODInvalid        Code = "sod-invalid"          // EF.SOD cannot be parsed
	NISHashMismatch   Code = "nis-hash-mismatch"    // the NIS is not the one the issuer signed
	KeyHashMismatch   Code = "key-hash-mismatch"    // the key is not the one the issuer signed
	SignatureInvalid  Code = "signature-invalid"    // the Document Signer's signature does not verify
	UntrustedIssuer   Code = "untrusted-issuer"     // the Document Signer does not chain to a trusted CSCA
	SignerExpired     Code = "signer-expired"       // the card's Document Signer certificate has expired
	SignerNotYetValid Code = "signer-not-yet-valid" // … or is not valid yet
)

// Problem is one reason a verdict is negative.
type Problem struct {
	Code   Code
	Detail string // one sentence for people
}

func (p Problem) String() string { return p.Detail }

// Result is what a level-1 read established.
type Result struct {
	NIS string // 12 digits, as the card holds it
	// ChipGenuine: the card proved it holds the private key of EF.Servizi_Int.Kpub.
	ChipGenuine bool
	// IssuerSigned: the SOD's hashes of NIS and key match, the Document
	// Signer's signature verifies, it chains to a trusted CSCA and its
	// certificate is valid at the time of reading.
	IssuerSigned bool
	Problems     []Problem

	SignatureAlgorithm string    // e.g. "RSA PKCS#1 v1.5 with SHA-256"
	HashAlgorithm      string    // of the SOD's data-group hashes
	Signer             string    // Document Signer's subject
	SignerValidUntil   time.Time // its certificate's NotAfter
	CSCA               string    // the trusted CSCA it chains to
	IAS                string    // "AID" or "MF": how the IAS application was selected
}

// Verified reports whether the card is genuine and its data signed by the issuer.
func (r *Result) Verified() bool { return r.ChipGenuine && r.IssuerSigned }

// Has reports whether r records a problem with code c.
func (r *Result) Has(c Code) bool {
	for _, p := range r.Problems {
		if p.Code == c {
			return true
		}
	}
	return false
}

func (r *Result) add(c Code, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Code: c, Detail: fmt.Sprintf(format, args...)})
}

// Options configures a read.
type Options struct {
	// CSCAs are the trusted Country Signing CA certificates. An empty list
	// trusts nobody: IssuerSigned is then false.
	CSCAs []*x509.Certificate
	// Now is the time certificates are checked at.
	Now time.Time
	// Rand supplies the challenge; crypto/rand when nil.
	Rand io.Reader
}

// ReadError is a failure to read the card at all (card removed, wrong
// application, transport error), as opposed to a negative verdict.
type ReadError struct {
	Step string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("could not %s: %v", e.Step, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// Card is the data a level-1 read collects, before verification.
type Card struct {
	NIS        []byte // EF.ID_Servizi as read
	Kpub       []byte // EF.Servizi_Int.Kpub as read (DER and padding)
	SOD        []byte // EF.SOD as read
	Challenge  []byte
	Response   []byte // the card's INTERNAL AUTHENTICATE answer
	SelectedBy string
	AuthErr    error // INTERNAL AUTHENTICATE refused by the card
}

// ReadLevel1 selects the CIE application, reads NIS, key and SOD, performs
// internal authentication and verifies everything. A returned error means the
// card could not be read; a Result with problems means it was read and did
// not pass.
func ReadLevel1(ctx context.Context, t iso7816.Transport, opt Options) (*Result, error) {
	card, err := Collect(ctx, iso7816.NewChannel(t), opt.Rand)
	if err != nil {
		return nil, err
	}
	return Verify(card, opt), nil
}

// Collect performs the level-1 APDU exchange and returns what the card said.
func Collect(ctx context.Context, ch *iso7816.Channel, rnd io.Reader) (*Card, error) {
	c := &Card{}
	by, err := SelectCIE(ctx, ch)
	if err != nil {
		return nil, err
	}
	c.SelectedBy = by
	if c.NIS, err = ch.ReadBinary(ctx, "read EF.ID_Servizi (NIS)", SFINIS); err != nil {
		return nil, &ReadError{"read the NIS", err}
	}
	if c.Kpub, err = ch.ReadBinary(ctx, "read EF.Servizi_Int.Kpub", SFIKpub); err != nil {
		return nil, &ReadError{"read the card's public key", err}
	}
	if c.SOD, err = ch.ReadBinary(ctx, "read EF.SOD", SFISOD); err != nil {
		return nil, &ReadError{"read the security object", err}
	}
	if rnd == nil {
		rnd = randReader
	}
	c.Challenge = make([]byte, ChallengeSize)
	if _, err := io.ReadFull(rnd, c.Challenge); err != nil {
		return nil, fmt.Errorf("could not draw a challenge: %w", err)
	}
	c.Response, c.AuthErr = InternalAuthenticate(ctx, ch, c.Challenge)
	var se *iso7816.StatusError
	if c.AuthErr != nil && !errors.As(c.AuthErr, &se) {
		return nil, &ReadError{"authenticate the chip", c.AuthErr}
	}
	return c, nil
}

// SelectCIE selects the IAS application, by AID or, on newer chips that
// refuse it, through the master file, then DF_CIE. It says which way worked.
func SelectCIE(ctx context.Context, ch *iso7816.Channel) (string, error) {
	by := "AID"
	resp, err := ch.Send(ctx, iso7816.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AIDIAS})
	if err != nil {
		return "", &ReadError{"select the IAS application", err}
	}
	if !resp.OK() {
		by = "MF"
		if _, err := ch.Do(ctx, "SELECT MF", iso7816.Command{INS: 0xA4}); err != nil {
			return "", &ReadError{"select the IAS application (by AID: " + resp.SW.Meaning() + "; then the master file)", err}
		}
	}
	if _, err := ch.Do(ctx, "SELECT DF_CIE", iso7816.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AIDCIE}); err != nil {
		return "", &ReadError{"select the CIE application (is this a CIE?)", err}
	}
	return by, nil
}

// InternalAuthenticate asks the card to sign challenge with its
// internal-authentication key.
func InternalAuthenticate(ctx context.Context, ch *iso7816.Channel, challenge []byte) ([]byte, error) {
	if _, err := ch.Do(ctx, "MSE SET for internal authentication", iso7816.Command{INS: 0x22, P1: 0x41, P2: 0xA4, Data: MSEIntAuth}); err != nil {
		return nil, err
	}
	return ch.Do(ctx, "INTERNAL AUTHENTICATE", iso7816.Command{INS: 0x88, Data: challenge, Ne: iso7816.MaxShortNe})
}

// ParseNIS checks EF.ID_Servizi's content: 12 ASCII digits.
func ParseNIS(b []byte) (string, error) {
	if len(b) < 12 {
		return "", fmt.Errorf("EF.ID_Servizi holds %d bytes, fewer than the 12 digits of a NIS", len(b))
	}
	for _, c := range b[:12] {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("EF.ID_Servizi holds %q, not 12 digits", b[:12])
		}
	}
	return string(b[:12]), nil
}

// ParseKpub returns the RSA key of EF.Servizi_Int.Kpub and its DER without
// the file's padding, which is what the SOD hashes.
func ParseKpub(b []byte) (*rsa.PublicKey, []byte, error) {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(b, &raw)
	if err != nil {
		return nil, nil, fmt.Errorf("EF.Servizi_Int.Kpub is not DER: %w", err)
	}
	der := b[:len(b)-len(rest)]
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, der, nil
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, der, nil
		}
	}
	return nil, nil, errors.New("EF.Servizi_Int.Kpub is not an RSA public key")
}

// Verify checks what Collect gathered.
func Verify(c *Card, opt Options) *Result {
	r := &Result{IAS: c.SelectedBy}
	nis, err := ParseNIS(c.NIS)
	if err != nil {
		r.add(NISHashMismatch, "%s", err)
	}
	r.NIS = nis

	key, keyDER, err := ParseKpub(c.Kpub)
	switch {
	case err != nil:
		r.add(KeyInvalid, "%s", err)
	case c.AuthErr != nil:
		r.add(ChipAuthFailed, "The card refused internal authentication (%s), so the chip cannot prove it is genuine.", c.AuthErr)
	case verifyRawPKCS1(key, c.Challenge, c.Response) != nil:
		r.add(ChipAuthFailed, "The chip's answer to a fresh challenge does not verify with its key 1005: the card is a clone or not an original CIE.")
	default:
		r.ChipGenuine = true
	}

	sod, err := ParseSOD(c.SOD)
	if err != nil {
		r.add(SODInvalid, "%s", err)
		return r
	}
	r.HashAlgorithm = sod.Hash.String()
	r.SignatureAlgorithm = sod.SignatureAlgorithm()
	signed := true
	if !hashMatches(sod, DGNIS, c.NIS) {
		signed = false
		r.add(NISHashMismatch, "The NIS on the chip is not the one the issuer signed in EF.SOD: the card data was altered.")
	}
	if keyDER == nil || !hashMatches(sod, DGKpub, keyDER) {
		signed = false
		r.add(KeyHashMismatch, "The chip's public key is not the one the issuer signed in EF.SOD: the card data was altered.")
	}
	if err := sod.CheckSignature(); err != nil {
		signed = false
		r.add(SignatureInvalid, "%s", err)
	}
	if ds := sod.Signer; ds != nil {
		r.Signer = ds.Subject.String()
		r.SignerValidUntil = ds.NotAfter
		switch {
		case opt.Now.After(ds.NotAfter):
			signed = false
			r.add(SignerExpired, "The card's Document Signer certificate expired on %s: the document is past its validity.", ds.NotAfter.UTC().Format("2006-01-02"))
		case opt.Now.Before(ds.NotBefore):
			signed = false
			r.add(SignerNotYetValid, "The card's Document Signer certificate is valid only from %s.", ds.NotBefore.UTC().Format("2006-01-02"))
		}
		csca, err := chain(ds, opt.CSCAs, opt.Now)
		if err != nil {
			signed = false
			r.add(UntrustedIssuer, "%s", err)
		} else {
			r.CSCA = csca.Subject.String()
		}
	}
	r.IssuerSigned = signed
	return r
}

func hashMatches(sod *SOD, dg int, data []byte) bool {
	want, ok := sod.Hashes[dg]
	if !ok {
		return false
	}
	h := sod.Hash.New()
	h.Write(data)
	return bytes.Equal(h.Sum(nil), want)
}

// chain finds the trusted CSCA that signed ds. CSCA certificates are
// trust anchors configured by the city, so only their signature and
// validity matter here, not extended key usages.
func chain(ds *x509.Certificate, cscas []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	if len(cscas) == 0 {
		return nil, errors.New("No trusted CSCA certificate is configured, so the issuer's signature cannot be trusted.")
	}
	for _, ca := range cscas {
		if !bytes.Equal(ca.RawSubject, ds.RawIssuer) {
			continue
		}
		if err := ds.CheckSignatureFrom(ca); err != nil {
			continue
		}
		if now.After(ca.NotAfter) || now.Before(ca.NotBefore) {
			return nil, fmt.Errorf("The CSCA %q that signed the Document Signer is not valid at %s.", ca.Subject.CommonName, now.UTC().Format("2006-01-02"))
		}
		return ca, nil
	}
	return nil, fmt.Errorf("The Document Signer %q was not issued by any trusted CSCA.", ds.Subject.CommonName)
}

// verifyRawPKCS1 checks an RSA PKCS#1 v1.5 type-1 signature over the raw
// challenge, with no DigestInfo: what INTERNAL AUTHENTICATE returns.
func verifyRawPKCS1(key *rsa.PublicKey, msg, sig []byte) error {
	if len(sig) != key.Size() {
		// Some readers strip a leading zero; restore it before verifying.
		if len(sig) > key.Size() || new(big.Int).SetBytes(sig).Cmp(key.N) >= 0 {
			return errors.New("signature length does not match the key")
		}
		sig = append(make([]byte, key.Size()-len(sig)), sig...)
	}
	return rsa.VerifyPKCS1v15(key, crypto.Hash(0), msg, sig)
}
