package cie

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/sha1" // older SODs name SHA-1 in their signed attributes
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Object identifiers used in EF.SOD (RFC 5652, RFC 4055, RFC 5754, ICAO 9303-10).
var (
	OIDSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDLDSSecurity     = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	OIDContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	OIDMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	OIDSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Data-group numbers the CIE's security object uses for the files read at level 1.
const (
	DGNIS  = 0xA1 // EF.ID_Servizi (1001)
	DGKpub = 0xA5 // EF.Servizi_Int.Kpub (1005)
)

// HashForOID maps a digest algorithm identifier to its hash.
func HashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(OIDSHA1):
		return crypto.SHA1, true
	case oid.Equal(OIDSHA256):
		return crypto.SHA256, true
	case oid.Equal(OIDSHA384):
		return crypto.SHA384, true
	case oid.Equal(OIDSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// OIDForHash is HashForOID's inverse.
func OIDForHash(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA1:
		return OIDSHA1
	case crypto.SHA384:
		return OIDSHA384
	case crypto.SHA512:
		return OIDSHA512
	}
	return OIDSHA256
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContent     encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     []byte `asn1:"explicit,optional,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm pkix.AlgorithmIdentifier
	Hashes        []dataGroupHash
	VersionInfo   asn1.RawValue `asn1:"optional"`
}

type dataGroupHash struct {
	Number int
	Hash   []byte
}

type pssParams struct {
	Hash       pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MGF        pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
	SaltLength int                      `asn1:"explicit,optional,default:20,tag:2"`
	Trailer    int                      `asn1:"explicit,optional,default:1,tag:3"`
}

// SOD is a parsed EF.SOD: the LDS security object and the CMS signature over it.
type SOD struct {
	// Hash is the algorithm of the data-group hashes; Hashes maps each
	// data-group number to its hash.
	Hash   crypto.Hash
	Hashes map[int][]byte
	// Certificates are those the SOD carries; Signer is the Document
	// Signer among them, nil when none matches the signer identifier.
	Certificates []*x509.Certificate
	Signer       *x509.Certificate

	content     []byte // the encapsulated LDS security object
	signedAttrs []byte // DER of the signed attributes as a SET, what was signed
	digest      []byte // the messageDigest attribute
	digestHash  crypto.Hash
	sigAlg      pkix.AlgorithmIdentifier
	signature   []byte
}

// ParseSOD parses EF.SOD: a CMS ContentInfo holding SignedData over an LDS
// security object, optionally wrapped in the ICAO application tag 0x77 and
// followed by padding.
func ParseSOD(b []byte) (*SOD, error) {
	if len(b) > 0 && b[0] == 0x77 {
		var wrap asn1.RawValue
		if _, err := asn1.Unmarshal(b, &wrap); err != nil {
			return nil, fmt.Errorf("EF.SOD's 77 wrapper is not valid DER: %w", err)
		}
		b = wrap.Bytes
	}
	var ci contentInfo
	if _, err := asn1.Unmarshal(b, &ci); err != nil { // trailing bytes are file padding
		return nil, fmt.Errorf("EF.SOD is not a CMS ContentInfo: %w", err)
	}
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, fmt.Errorf("EF.SOD holds content type %s, not CMS SignedData", ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("EF.SOD's SignedData is malformed: %w", err)
	} else if len(rest) > 0 {
		return nil, errors.New("EF.SOD's SignedData has trailing bytes")
	}
	if !sd.EncapContent.EContentType.Equal(OIDLDSSecurity) {
		return nil, fmt.Errorf("EF.SOD signs content type %s, not an LDS security object", sd.EncapContent.EContentType)
	}
	if len(sd.EncapContent.EContent) == 0 {
		return nil, errors.New("EF.SOD does not carry the signed LDS security object")
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("EF.SOD has %d signers, want exactly one Document Signer", len(sd.SignerInfos))
	}
	s := &SOD{content: sd.EncapContent.EContent, Hashes: map[int][]byte{}}

	var lds ldsSecurityObject
	if _, err := asn1.Unmarshal(s.content, &lds); err != nil {
		return nil, fmt.Errorf("EF.SOD's LDS security object is malformed: %w", err)
	}
	h, ok := HashForOID(lds.HashAlgorithm.Algorithm)
	if !ok {
		return nil, fmt.Errorf("EF.SOD hashes with unsupported algorithm %s", lds.HashAlgorithm.Algorithm)
	}
	s.Hash = h
	for _, dg := range lds.Hashes {
		if len(dg.Hash) != h.Size() {
			return nil, fmt.Errorf("EF.SOD's hash of data group %#x is %d bytes, want %d for %s", dg.Number, len(dg.Hash), h.Size(), h)
		}
		s.Hashes[dg.Number] = dg.Hash
	}

	if len(sd.Certificates.Bytes) > 0 {
		rest := sd.Certificates.Bytes
		for len(rest) > 0 {
			var raw asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
				return nil, fmt.Errorf("EF.SOD's certificate list is malformed: %w", err)
			}
			c, err := x509.ParseCertificate(raw.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("EF.SOD carries an unreadable certificate: %w", err)
			}
			s.Certificates = append(s.Certificates, c)
		}
	}

	si := sd.SignerInfos[0]
	s.sigAlg = si.SignatureAlgorithm
	s.signature = si.Signature
	dh, ok := HashForOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return nil, fmt.Errorf("EF.SOD's signer uses unsupported digest %s", si.DigestAlgorithm.Algorithm)
	}
	s.digestHash = dh
	if len(si.SignedAttrs.FullBytes) == 0 {
		return nil, errors.New("EF.SOD's signer has no signed attributes, as ICAO 9303 requires")
	}
	// What was signed is the attributes' DER with the SET tag in place of [0].
	s.signedAttrs = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	var sawType bool
	for rest := si.SignedAttrs.Bytes; len(rest) > 0; {
		var a attribute
		var err error
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			return nil, fmt.Errorf("EF.SOD's signed attributes are malformed: %w", err)
		}
		switch {
		case a.Type.Equal(OIDMessageDigest):
			var d []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &d); err != nil {
				return nil, fmt.Errorf("EF.SOD's message digest attribute is malformed: %w", err)
			}
			s.digest = d
		case a.Type.Equal(OIDContentType):
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(a.Values.Bytes, &oid); err != nil || !oid.Equal(OIDLDSSecurity) {
				return nil, errors.New("EF.SOD's signed content-type attribute does not name the LDS security object")
			}
			sawType = true
		}
	}
	if s.digest == nil || !sawType {
		return nil, errors.New("EF.SOD's signed attributes lack the content type or message digest")
	}
	s.Signer = findSigner(si.SID, s.Certificates)
	return s, nil
}

func findSigner(sid asn1.RawValue, certs []*x509.Certificate) *x509.Certificate {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
			return nil
		}
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) && c.SerialNumber.Cmp(ias.Serial) == 0 {
				return c
			}
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c
			}
		}
	}
	return nil
}

// CheckSignature checks that the signed attributes' message digest is the
// hash of the LDS security object and that the Document Signer's key signed
// those attributes. It does not check the signer's certificate chain.
func (s *SOD) CheckSignature() error {
	if s.Signer == nil {
		return errors.New("EF.SOD does not carry the Document Signer certificate its signer identifier names")
	}
	d := s.digestHash.New()
	d.Write(s.content)
	if !bytes.Equal(d.Sum(nil), s.digest) {
		return errors.New("EF.SOD's signed message digest does not match its LDS security object")
	}
	return verifySignature(s.Signer.PublicKey, s.sigAlg, s.digestHash, s.signedAttrs, s.signature)
}

// SignatureAlgorithm names the Document Signer's signature scheme, for reports.
func (s *SOD) SignatureAlgorithm() string {
	switch alg := s.sigAlg.Algorithm; {
	case alg.Equal(OIDRSAPSS):
		return "RSASSA-PSS"
	case alg.Equal(OIDECDSAWithSHA256), alg.Equal(OIDECDSAWithSHA384), alg.Equal(OIDECDSAWithSHA512):
		return "ECDSA with " + s.digestHash.String()
	default:
		return "RSA PKCS#1 v1.5 with " + s.digestHash.String()
	}
}

func verifySignature(pub any, alg pkix.AlgorithmIdentifier, h crypto.Hash, msg, sig []byte) error {
	switch {
	case alg.Algorithm.Equal(OIDRSAPSS):
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("EF.SOD names RSA-PSS but the Document Signer's key is not RSA")
		}
		var p pssParams
		p.SaltLength, p.Trailer = 20, 1
		p.Hash.Algorithm = OIDSHA1
		if len(alg.Parameters.FullBytes) > 0 {
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
				return fmt.Errorf("EF.SOD's RSA-PSS parameters are malformed: %w", err)
			}
		}
		ph, ok := HashForOID(p.Hash.Algorithm)
		if !ok {
			return fmt.Errorf("EF.SOD's RSA-PSS hash %s is not supported", p.Hash.Algorithm)
		}
		d := ph.New()
		d.Write(msg)
		if err := rsa.VerifyPSS(rk, ph, d.Sum(nil), sig, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: ph}); err != nil {
			return errors.New("the Document Signer's RSA-PSS signature over EF.SOD does not verify")
		}
		return nil
	case alg.Algorithm.Equal(OIDECDSAWithSHA256), alg.Algorithm.Equal(OIDECDSAWithSHA384), alg.Algorithm.Equal(OIDECDSAWithSHA512):
		ek, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return errors.New("EF.SOD names ECDSA but the Document Signer's key is not EC")
		}
		eh := map[string]crypto.Hash{OIDECDSAWithSHA256.String(): crypto.SHA256, OIDECDSAWithSHA384.String(): crypto.SHA384, OIDECDSAWithSHA512.String(): crypto.SHA512}[alg.Algorithm.String()]
		d := eh.New()
		d.Write(msg)
		if !ecdsa.VerifyASN1(ek, d.Sum(nil), sig) {
			return errors.New("the Document Signer's ECDSA signature over EF.SOD does not verify")
		}
		return nil
	}
	rh := h
	switch {
	case alg.Algorithm.Equal(OIDRSAEncryption):
	case alg.Algorithm.Equal(OIDSHA1WithRSA):
		rh = crypto.SHA1
	case alg.Algorithm.Equal(OIDSHA256WithRSA):
		rh = crypto.SHA256
	case alg.Algorithm.Equal(OIDSHA384WithRSA):
		rh = crypto.SHA384
	case alg.Algorithm.Equal(OIDSHA512WithRSA):
		rh = crypto.SHA512
	default:
		return fmt.Errorf("EF.SOD's signature algorithm %s is not supported", alg.Algorithm)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return errors.New("EF.SOD names an RSA signature but the Document Signer's key is not RSA")
	}
	d := rh.New()
	d.Write(msg)
	if err := rsa.VerifyPKCS1v15(rk, rh, d.Sum(nil), sig); err != nil {
		return errors.New("the Document Signer's RSA signature over EF.SOD does not verify")
	}
	return nil
}
