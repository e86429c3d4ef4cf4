package virtual

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"sort"

	"github.com/sportello/sportello/internal/cie"
)

// SODOptions chooses how BuildSOD hashes and signs: older CIEs use SHA-256
// and RSA PKCS#1 v1.5, newer ones SHA-512 and RSA-PSS.
type SODOptions struct {
	Hash crypto.Hash
	PSS  bool
}

type algID = pkix.AlgorithmIdentifier

// BuildSOD makes an EF.SOD: CMS SignedData over an LDS security object with
// the given data-group hashes, signed by ds with key.
func BuildSOD(dgs map[int][]byte, ds *x509.Certificate, key *rsa.PrivateKey, opt SODOptions) ([]byte, error) {
	h := opt.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	hashAlg := algID{Algorithm: cie.OIDForHash(h), Parameters: asn1.NullRawValue}
	type dgHash struct {
		Number int
		Hash   []byte
	}
	type lds struct {
		Version int
		HashAlg algID
		Hashes  []dgHash
	}
	nums := make([]int, 0, len(dgs))
	for n := range dgs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	obj := lds{HashAlg: hashAlg}
	for _, n := range nums {
		d := h.New()
		d.Write(dgs[n])
		obj.Hashes = append(obj.Hashes, dgHash{n, d.Sum(nil)})
	}
	content, err := asn1.Marshal(obj)
	if err != nil {
		return nil, err
	}

	md := h.New()
	md.Write(content)
	type attr struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	oidVal, _ := asn1.Marshal(cie.OIDLDSSecurity)
	digVal, _ := asn1.Marshal(md.Sum(nil))
	var attrs []byte
	for _, a := range []attr{
		{cie.OIDContentType, []asn1.RawValue{{FullBytes: oidVal}}},
		{cie.OIDMessageDigest, []asn1.RawValue{{FullBytes: digVal}}},
	} { // already in DER SET order: the content-type encoding is shorter
		b, err := asn1.Marshal(a)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, b...)
	}
	signed, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: attrs})
	sd := h.New()
	sd.Write(signed)
	var sig []byte
	var sigAlg algID
	if opt.PSS {
		sig, err = rsa.SignPSS(rand.Reader, key, h, sd.Sum(nil), &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
		type pssParams struct {
			Hash       algID `asn1:"explicit,tag:0"`
			MGF        algID `asn1:"explicit,tag:1"`
			SaltLength int   `asn1:"explicit,tag:2"`
		}
		mgfHash, _ := asn1.Marshal(hashAlg)
		params, perr := asn1.Marshal(pssParams{hashAlg, algID{Algorithm: cie.OIDMGF1, Parameters: asn1.RawValue{FullBytes: mgfHash}}, h.Size()})
		if perr != nil {
			return nil, perr
		}
		sigAlg = algID{Algorithm: cie.OIDRSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
	} else {
		sig, err = rsa.SignPKCS1v15(nil, key, h, sd.Sum(nil))
		alg := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: cie.OIDSHA256WithRSA, crypto.SHA384: cie.OIDSHA384WithRSA, crypto.SHA512: cie.OIDSHA512WithRSA}[h]
		if alg == nil {
			return nil, fmt.Errorf("no RSA PKCS#1 v1.5 algorithm for %s", h)
		}
		sigAlg = algID{Algorithm: alg, Parameters: asn1.NullRawValue}
	}
	if err != nil {
		return nil, err
	}

	type issuerSerial struct {
		Issuer asn1.RawValue
		Serial asn1.RawValue
	}
	serial, _ := asn1.Marshal(ds.SerialNumber)
	sid, err := asn1.Marshal(issuerSerial{asn1.RawValue{FullBytes: ds.RawIssuer}, asn1.RawValue{FullBytes: serial}})
	if err != nil {
		return nil, err
	}
	type signerInfo struct {
		Version     int
		SID         asn1.RawValue
		DigestAlg   algID
		SignedAttrs asn1.RawValue
		SigAlg      algID
		Signature   []byte
	}
	type encap struct {
		Type    asn1.ObjectIdentifier
		Content []byte `asn1:"explicit,tag:0"`
	}
	type signedData struct {
		Version      int
		DigestAlgs   []algID `asn1:"set"`
		Encap        encap
		Certificates asn1.RawValue
		SignerInfos  []signerInfo `asn1:"set"`
	}
	si := signerInfo{
		Version:     1,
		SID:         asn1.RawValue{FullBytes: sid},
		DigestAlg:   hashAlg,
		SignedAttrs: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs},
		SigAlg:      sigAlg,
		Signature:   sig,
	}
	body, err := asn1.Marshal(signedData{
		Version:      3,
		DigestAlgs:   []algID{hashAlg},
		Encap:        encap{cie.OIDLDSSecurity, content},
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ds.Raw},
		SignerInfos:  []signerInfo{si},
	})
	if err != nil {
		return nil, err
	}
	type contentInfo struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	ci, err := asn1.Marshal(contentInfo{cie.OIDSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: body}})
	if err != nil {
		return nil, err
	}
	// Real cards wrap the SOD in the ICAO application tag 0x77.
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 23, IsCompound: true, Bytes: ci})
}
