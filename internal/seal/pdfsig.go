package seal

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/digitorus/pdfsign/sign"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertV2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	byteRangeExpression = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
)

// SignPDF adds the hub's seal to a PDF as an incremental update: a
// certification signature (adbe.pkcs7.detached, DocMDP "no changes") made
// with the seal certificate, signed at the time given.
//
// pdfsign lays out the signature dictionary, byte range and placeholder;
// the CMS inside is then rebuilt here, because pdfsign stamps it with the
// wall clock while the hub's clock must decide the signing time (and fixed
// clocks must give reproducible files).
func (k *Keys) SignPDF(in []byte, at time.Time) ([]byte, error) {
	rdr, err := openPDF(in)
	if err != nil {
		return nil, err
	}
	_, _, sl := k.signing() // one seal for the whole signature, whatever a rotation does meanwhile
	cert := sl.Certificate()
	// A hub that runs past its seal's expiry must stop sealing rather than
	// issue PDFs every validator rejects: the comune renews the seal with
	// its trust service (or the demo seal by removing seal*.pem). Only
	// expiry: the demo city's history is sealed at dates before its seal.
	if at.After(cert.NotAfter) {
		return nil, fmt.Errorf("the seal certificate %q expired on %s: renew it before issuing", cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	certs := embedded(sl)
	sigSize, err := maxSignatureSize(sl.Public())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(in) + 16<<10) // the incremental update: signature dictionary, its room, xref
	err = sign.Sign(bytes.NewReader(in), &out, rdr, int64(len(in)), sign.SignData{
		Signature: sign.SignDataSignature{
			Info: sign.SignDataSignatureInfo{
				Name:   cert.Subject.CommonName,
				Reason: "Sigillo elettronico del certificato anagrafico",
				Date:   at,
			},
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
		},
		Signer:            placeholderSigner{sl.Public(), sigSize},
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       cert,
		CertificateChains: [][]*x509.Certificate{certs},
	})
	if err != nil {
		return nil, fmt.Errorf("the PDF could not be signed: %w", err)
	}
	signed := out.Bytes()
	br, err := lastByteRange(signed)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(signed[br[0] : br[0]+br[1]])
	h.Write(signed[br[2] : br[2]+br[3]])
	var digest [sha256.Size]byte
	cms, err := cmsSignedData(sl, certs, h.Sum(digest[:0]), at)
	if err != nil {
		return nil, err
	}
	// The gap between the ranges is "<hex…>".
	room := int(br[2]-br[1]) - 2
	hexSig := hex.EncodeToString(cms)
	if len(hexSig) > room {
		return nil, fmt.Errorf("the signature (%d bytes) does not fit the space reserved for it (%d)", len(hexSig)/2, room/2)
	}
	gap := signed[br[1]+1 : br[2]-1]
	copy(gap, hexSig)
	for i := len(hexSig); i < len(gap); i++ {
		gap[i] = '0'
	}
	return signed, nil
}

// placeholderSigner stands in for the seal key while pdfsign lays the
// signature out. Its CMS is overwritten below by the one cmsSignedData
// makes, so a real signature there cost a signing per certificate for
// nothing (and a round trip, were the key in an HSM or a remote service).
// The value has the largest size of the key's signature, so pdfsign's
// layout is the one a real signature would give.
type placeholderSigner struct {
	pub  crypto.PublicKey
	size int
}

func (s placeholderSigner) Public() crypto.PublicKey { return s.pub }

func (s placeholderSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return make([]byte, s.size), nil
}

func lastByteRange(b []byte) ([4]int64, error) {
	var br [4]int64
	all := byteRangeExpression.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return br, errors.New("the PDF has no signature byte range")
	}
	m := all[len(all)-1]
	for i := range 4 {
		v, err := strconv.ParseInt(string(m[i+1]), 10, 64)
		if err != nil {
			return br, fmt.Errorf("the signature byte range is malformed: %w", err)
		}
		br[i] = v
	}
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1]+1 || br[3] < 0 || br[2]+br[3] > int64(len(b)) {
		return br, fmt.Errorf("the signature byte range %v does not fit a file of %d bytes", br, len(b))
	}
	return br, nil
}

// cmsSignedData builds a detached CMS SignedData (RFC 5652) signed by s
// over the content whose SHA-256 is digest, with the signed attributes
// PAdES asks for: content type, signing time, message digest and
// signing-certificate-v2 (RFC 5035); certs are the certificates it carries.
func cmsSignedData(s Signer, certs []*x509.Certificate, digest []byte, at time.Time) ([]byte, error) {
	cert := s.Certificate()
	sigAlg, err := signatureAlgorithm(s.Public())
	if err != nil {
		return nil, err
	}
	certHash := sha256.Sum256(cert.Raw)

	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic()
	}
	attrs := [][]byte{
		attr(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attr(oidSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(at.UTC().Truncate(time.Second)) }),
		attr(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attr(oidSigningCertV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2, SHA-256 by default
						b.AddASN1OctetString(certHash[:])
					})
				})
			})
		}),
	}
	// DER orders a SET OF by encoding.
	sortDER(attrs)
	attrSet := func(tag cbasn1.Tag) []byte {
		var b cryptobyte.Builder
		b.AddASN1(tag, func(b *cryptobyte.Builder) {
			for _, a := range attrs {
				b.AddBytes(a)
			}
		})
		return b.BytesOrPanic()
	}
	// The signature covers the attributes encoded as a SET (RFC 5652 5.4).
	toSign := sha256.Sum256(attrSet(cbasn1.SET))
	sig, err := s.Sign(nil, toSign[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the seal key did not sign: %w", err)
	}
	signedAttrs := attrSet(cbasn1.Tag(0).ContextSpecific().Constructed())

	sha256Alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, sha256Alg)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						sha256Alg(b)
						b.AddBytes(signedAttrs)
						b.AddBytes(sigAlg)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}

func sortDER(items [][]byte) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && bytes.Compare(items[j], items[j-1]) < 0; j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}
