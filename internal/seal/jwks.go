package seal

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// JWK is one public key in RFC 7517 form; the hub publishes Ed25519 keys
// as RFC 8037 OKP keys.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// KeySet is a JWKS document, served at /.well-known/jwks.json.
type KeySet struct {
	Keys []JWK `json:"keys"`
}

// JWKS is the hub's public key set, what checks QR seals and audit
// anchors: the token key in force and each retired token key until every
// certificate it sealed has expired, each listed once. The response key is
// not published: kiosks pin it at enrolment and follow its hand-overs,
// never reading the JWKS, and after a token rotation it is the old token
// key, which must leave the set when its certificates expire — listed as a
// response key, a leaked old token key would forge verifying seals for as
// long as it signs answers.
func (k *Keys) JWKS() KeySet {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ks := KeySet{Keys: []JWK{okp(k.KeyID, k.TokenKey.Public().(ed25519.PublicKey))}}
	listed := map[string]bool{k.KeyID: true}
	now := k.clock()
	for _, r := range k.Retired {
		if r.published(now) && !listed[r.Kid] {
			listed[r.Kid] = true
			ks.Keys = append(ks.Keys, r.jwk())
		}
	}
	return ks
}

func okp(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Use: "sig", Alg: "EdDSA"}
}

func (r Retired) jwk() JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: r.X, Kid: r.Kid, Use: "sig", Alg: "EdDSA"}
}

// clock is the time the key set is published at.
func (k *Keys) clock() time.Time {
	if k.now == nil {
		return time.Now()
	}
	return k.now()
}

// ParseKeySet reads a JWKS document, keeping the Ed25519 keys.
func ParseKeySet(b []byte) (KeySet, error) {
	var ks KeySet
	if err := json.Unmarshal(b, &ks); err != nil {
		return KeySet{}, fmt.Errorf("the key set is not a JWKS JSON document: %w", err)
	}
	out := KeySet{}
	for _, k := range ks.Keys {
		if _, ok := k.public(); ok {
			out.Keys = append(out.Keys, k)
		}
	}
	if len(out.Keys) == 0 {
		return KeySet{}, errors.New("the key set holds no Ed25519 key")
	}
	return out, nil
}

func (j JWK) public() (ed25519.PublicKey, bool) {
	if j.Kty != "OKP" || j.Crv != "Ed25519" {
		return nil, false
	}
	x, err := base64.RawURLEncoding.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(x), true
}

func (ks KeySet) lookup(kid string) (ed25519.PublicKey, bool) {
	for _, k := range ks.Keys {
		if k.Kid == kid {
			return k.public()
		}
	}
	return nil, false
}

// NewTrust builds a verifier's trust from what the hub publishes: the CA
// certificate (PEM) and the JWKS document.
func NewTrust(caPEM, jwks []byte) (Trust, error) {
	pool := x509.NewCertPool()
	if err := addPEM(pool, caPEM); err != nil {
		return Trust{}, err
	}
	ks, err := ParseKeySet(jwks)
	if err != nil {
		return Trust{}, err
	}
	return Trust{Roots: pool, Keys: ks}, nil
}

// WithRoots is t trusting also the CA certificates in caPEM: the trust
// service's root of a comune that seals with its own certificate.
func (t Trust) WithRoots(caPEM []byte) (Trust, error) {
	pool := x509.NewCertPool()
	if t.Roots != nil {
		pool = t.Roots.Clone()
	}
	if err := addPEM(pool, caPEM); err != nil {
		return Trust{}, err
	}
	t.Roots = pool
	return t, nil
}

func addPEM(pool *x509.CertPool, caPEM []byte) error {
	n := 0
	for rest := caPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("the CA file holds an invalid certificate: %w", err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return errors.New("the CA file holds no PEM certificate")
	}
	return nil
}
