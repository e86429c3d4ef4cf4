package seal

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/certificate"
)

// The QR token is a compact JWS (RFC 7515) signed with EdDSA (RFC 8037):
// any JOSE library can check it against the hub's JWKS, and it fits a QR
// code readable on paper. The payload uses short claim names for size.

// Claims is what the QR token certifies.
type Claims struct {
	ID       string             // certificate id
	Issuer   string             // Belfiore code of the certifying comune
	Types    []certificate.Type // one, or several for a contestuale
	Name     string             // subject as printed
	CF       string             // subject's codice fiscale
	Facts    []certificate.Fact // the key facts printed on the certificate
	Issued   time.Time          // to the second
	Protocol string             // "2026/0000123"
}

type wireClaims struct {
	ID       string      `json:"jti"`
	Issuer   string      `json:"iss,omitempty"`
	Types    []string    `json:"ct"`
	Name     string      `json:"nm"`
	CF       string      `json:"sub"`
	Facts    [][2]string `json:"f,omitempty"`
	Issued   int64       `json:"iat"`
	Protocol string      `json:"pn"`
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// ClaimsOf takes the sealed facts from a Document.
func ClaimsOf(doc *certificate.Document) Claims {
	return Claims{
		ID:       doc.ID,
		Issuer:   doc.Issuer.Belfiore,
		Types:    doc.Types,
		Name:     doc.Subject.Name,
		CF:       doc.Subject.CF,
		Facts:    doc.Facts,
		Issued:   doc.Issued.Truncate(time.Second),
		Protocol: doc.Protocol,
	}
}

// SignToken returns the compact JWS of c, signed with the issuing key.
func (k *Keys) SignToken(c Claims) (string, error) {
	if c.ID == "" || c.Issued.IsZero() {
		return "", errors.New("a seal token needs the certificate id and issue time")
	}
	w := wireClaims{ID: c.ID, Issuer: c.Issuer, Name: c.Name, CF: c.CF, Issued: c.Issued.Unix(), Protocol: c.Protocol}
	for _, t := range c.Types {
		w.Types = append(w.Types, string(t))
	}
	for _, f := range c.Facts {
		w.Facts = append(w.Facts, [2]string{f.Key, f.Value})
	}
	key, kid, _ := k.signing()
	h, err := json.Marshal(header{Alg: "EdDSA", Kid: kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(w)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	return signing + "." + enc.EncodeToString(ed25519.Sign(key, []byte(signing))), nil
}

// VerifyToken checks token against the key set and returns its claims.
func VerifyToken(token string, ks KeySet) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("the seal token is not a compact JWS: it must have three dot-separated parts")
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return Claims{}, errors.New("the seal token's header is not base64url")
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return Claims{}, errors.New("the seal token's header is not JSON")
	}
	if h.Alg != "EdDSA" {
		return Claims{}, fmt.Errorf("the seal token uses algorithm %q; only EdDSA is accepted", h.Alg)
	}
	pub, ok := ks.lookup(h.Kid)
	if !ok {
		return Claims{}, fmt.Errorf("the seal token was signed with key %q, which is not among the hub's published keys", h.Kid)
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Claims{}, errors.New("the seal token's signature is malformed")
	}
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return Claims{}, errors.New("the seal token's signature does not match its content: it was altered or signed by another key")
	}
	pb, err := enc.DecodeString(parts[1])
	if err != nil {
		return Claims{}, errors.New("the seal token's payload is not base64url")
	}
	var w wireClaims
	if err := json.Unmarshal(pb, &w); err != nil {
		return Claims{}, errors.New("the seal token's payload is not the expected JSON")
	}
	if w.ID == "" || w.Issued == 0 {
		return Claims{}, errors.New("the seal token has no certificate id or issue time")
	}
	c := Claims{ID: w.ID, Issuer: w.Issuer, Name: w.Name, CF: w.CF, Issued: time.Unix(w.Issued, 0).UTC(), Protocol: w.Protocol}
	for _, t := range w.Types {
		c.Types = append(c.Types, certificate.Type(t))
	}
	for _, f := range w.Facts {
		c.Facts = append(c.Facts, certificate.Fact{Key: f[0], Value: f[1]})
	}
	return c, nil
}

// QRContent is what the QR code holds: the public verification page with
// the token in the fragment. A phone opens the page (browsers never send
// the fragment to the server); an offline app reads the token from it.
func QRContent(verifyURL, token string) string { return verifyURL + "#t=" + token }

// TokenFromQR extracts the token from a scanned QR content.
func TokenFromQR(content string) (string, error) {
	i := strings.LastIndex(content, "#t=")
	if i < 0 || i+3 == len(content) {
		return "", errors.New("the QR code carries no seal token (no #t= fragment)")
	}
	return content[i+3:], nil
}

// Trust is what a verifier relies on: the hub CA for PDF signatures and the
// hub's published key set for QR tokens.
type Trust struct {
	Roots *x509.CertPool
	Keys  KeySet
}
