package seal

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sportello/sportello/internal/certificate"
	certpdf "github.com/sportello/sportello/internal/certificate/pdf"
	"github.com/sportello/sportello/internal/protocol"
)

// Check is one verdict of a verification.
type Check struct {
	Name   string // stable identifier: "signature", "whole-file", "signer", "token", "token-matches-text"
	OK     bool
	Detail string // one sentence for a person
}

// Result is the outcome of VerifyPDF.
type Result struct {
	Valid    bool    // every check passed
	Summary  string  // one line for a person
	Checks   []Check // in the order performed
	Claims   *Claims // the sealed facts, when the token verified
	Token    string  // the token as found in the PDF
	SignedAt time.Time
	Signer   string // common name of the signing certificate
}

func (r *Result) add(name string, ok bool, detail string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(detail, args...)})
}

// VerifyPDF checks a certificate PDF: its signature is intact, covers the
// whole file and chains to a trusted hub CA; its seal token verifies with
// the trusted keys; and the token's facts appear in the page text, so a
// token taken from another certificate is caught. The error is non-nil
// only when the file cannot be examined at all (not a PDF); every other
// failure is a Check with OK false and Valid false.
func VerifyPDF(b []byte, trust Trust) (Result, error) {
	var res Result
	rdr, err := openPDF(b)
	if err != nil {
		return res, err
	}
	res.verifySignature(b, rdr, trust)
	res.Token = tokenOf(rdr)
	if res.Token == "" {
		res.add("token", false, "The PDF carries no seal token.")
	} else if c, err := VerifyToken(res.Token, trust.Keys); err != nil {
		res.add("token", false, "%s", capital(err.Error()))
	} else {
		res.Claims = &c
		res.add("token", true, "The seal token of certificate %s is signed by the hub's key.", c.ID)
		text, err := PageText(rdr)
		if err != nil {
			res.add("token-matches-text", false, "The page text cannot be read: %v.", err)
		} else {
			bad := failed(CompareDocument(c, text))
			if len(bad) == 0 {
				res.add("token-matches-text", true, "The sealed facts (id, protocol, subject, %d facts) match the printed text.", len(c.Facts))
			} else {
				res.add("token-matches-text", false, "The printed text does not match the seal token: %s.", strings.Join(bad, "; "))
			}
		}
	}
	res.Valid = true
	for _, c := range res.Checks {
		res.Valid = res.Valid && c.OK
	}
	switch {
	case res.Valid:
		res.Summary = fmt.Sprintf("VALID: certificate %s (protocol %s) for %s, sealed by %s on %s.",
			res.Claims.ID, res.Claims.Protocol, res.Claims.Name, res.Signer, res.SignedAt.Format(time.RFC3339))
	default:
		var why []string
		for _, c := range res.Checks {
			if !c.OK {
				why = append(why, c.Detail)
			}
		}
		res.Summary = "NOT VALID: " + strings.Join(why, " ")
	}
	return res, nil
}

// openPDF parses b; the PDF reader panics on some malformed files, and a
// verifier is fed files from anyone.
func openPDF(b []byte) (rdr *pdf.Reader, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the file is not a readable PDF: %v", r)
		}
	}()
	rdr, err = pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("the file is not a readable PDF: %w", err)
	}
	// Hub certificates have classic cross-reference tables (the renderer
	// and pdfsign both write them). A cross-reference stream can place
	// objects in object streams, which the reader lexes with the same
	// endless end-of-stream reads as page content (see pdfscan.go).
	if rdr.XrefInformation.Type != "table" {
		return nil, errors.New("the file is not a hub certificate: its cross-reference is not a table")
	}
	return rdr, nil
}

func failed(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if !c.OK {
			out = append(out, c.Detail)
		}
	}
	return out
}

func capital(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// verifySignature checks the last signature field of the document.
func (res *Result) verifySignature(b []byte, rdr *pdf.Reader, trust Trust) {
	sig := lastSignature(rdr)
	if sig.IsNull() {
		res.add("signature", false, "The PDF is not signed.")
		return
	}
	var br [4]int64
	ranges := sig.Key("ByteRange")
	if ranges.Len() != 4 {
		res.add("signature", false, "The signature has no valid byte range.")
		return
	}
	for i := range 4 {
		br[i] = ranges.Index(i).Int64()
	}
	n := int64(len(b))
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1]+1 || br[3] < 0 || br[2]+br[3] > n {
		res.add("signature", false, "The signature's byte range %v does not fit the file.", br)
		return
	}
	contents := []byte(sig.Key("Contents").RawString())
	gap := b[br[1]:br[2]]
	if gap[0] != '<' || gap[len(gap)-1] != '>' || !isHex(gap[1:len(gap)-1]) {
		res.add("signature", false, "The unsigned gap of the file holds something other than the signature.")
		return
	}
	if dec, err := hex.DecodeString(string(gap[1 : len(gap)-1])); err != nil || !bytes.Equal(dec, contents) {
		res.add("signature", false, "The signature value is not the one in the unsigned gap.")
		return
	}
	// The reserved space is zero-padded after the DER structure.
	der := cryptobyte.String(contents)
	var elem cryptobyte.String
	if !der.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		res.add("signature", false, "The signature is not a DER structure.")
		return
	}
	// The padding is outside the signed bytes: insist that it is empty,
	// so no byte of the file can change unnoticed.
	if len(bytes.Trim(der, "\x00")) != 0 {
		res.add("signature", false, "The space after the signature value holds data.")
		return
	}
	// pkcs7.Parse is lenient and verifies what it re-encodes, so a changed
	// length inside the signed attributes could leave the signature valid:
	// insist on well-formed DER all the way down first.
	if !strictDER(elem) {
		res.add("signature", false, "The signature is not well-formed DER: it was altered after sealing.")
		return
	}
	p7, err := pkcs7.Parse(elem)
	if err != nil {
		res.add("signature", false, "The signature is not a valid CMS structure: %v.", err)
		return
	}
	p7.Content = append(append([]byte{}, b[br[0]:br[0]+br[1]]...), b[br[2]:br[2]+br[3]]...)
	if err := p7.Verify(); err != nil {
		res.add("signature", false, "The signature does not match the file: it was altered after sealing (%v).", err)
		return
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		res.add("signature", false, "The signature must have exactly one signer.")
		return
	}
	var at time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &at); err != nil {
		res.add("signature", false, "The signature has no signing time.")
		return
	}
	if err := checkShape(elem, signer); err != nil {
		res.add("signature", false, "The signature's structure was altered after sealing: %v.", err)
		return
	}
	res.SignedAt, res.Signer = at.UTC(), signer.Subject.CommonName
	res.add("signature", true, "The signature by %q matches the signed bytes.", signer.Subject.CommonName)

	if br[2]+br[3] == n {
		res.add("whole-file", true, "The signature covers the whole file.")
	} else {
		res.add("whole-file", false, "%d bytes were added after the signature.", n-br[2]-br[3])
	}

	inter := x509.NewCertPool()
	for _, c := range p7.Certificates {
		inter.AddCert(c)
	}
	if trust.Roots == nil {
		res.add("signer", false, "No trusted hub CA was given.")
		return
	}
	// The seal certificate's own usages are checked as LoadPKCS12 checks
	// them (a trust service's seal may carry document signing alone, which
	// Go's chain check cannot name); the chain itself for any usage.
	if err := checkSealUsage(signer); err != nil {
		res.add("signer", false, "The signing certificate may not seal documents: %v.", err)
		return
	}
	chains, err := signer.Verify(x509.VerifyOptions{
		Roots: trust.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		res.add("signer", false, "The signing certificate is not issued by a trusted CA (the hub's own or the comune's trust service's): %v.", err)
		return
	}
	// The certificates a signature carries sit outside the signed bytes, so
	// an altered copy of the CA would otherwise pass unnoticed: each one
	// must be, byte for byte, part of a chain that verified.
	inChain := map[string]bool{}
	for _, chain := range chains {
		for _, c := range chain {
			inChain[string(c.Raw)] = true
		}
	}
	for _, c := range p7.Certificates {
		if !inChain[string(c.Raw)] {
			res.add("signer", false, "The signature carries a certificate (%q) that is not part of its verified chain: it was altered or added after sealing.", c.Subject.CommonName)
			return
		}
	}
	res.add("signer", true, "The signing certificate %q chains to the trusted CA %q.", signer.Subject.CommonName, chains[0][len(chains[0])-1].Subject.CommonName)
}

// checkShape pins the parts of the CMS SignedData (RFC 5652 §5) that
// pkcs7.Verify reads past without checking — versions, the digest algorithm
// set, the content type, the signer's issuer name — to the one shape the
// hub writes, so that none of their bytes can change unnoticed either.
func checkShape(der []byte, signer *x509.Certificate) error {
	in := cryptobyte.String(der)
	var ci, sd, alg, algs, encap, sis, si cryptobyte.String
	var oid, content asn1.ObjectIdentifier
	var version int
	switch {
	case !in.ReadASN1(&ci, cbasn1.SEQUENCE),
		!ci.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSignedData),
		!ci.ReadASN1(&sd, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty(),
		!sd.ReadASN1(&sd, cbasn1.SEQUENCE):
		return errors.New("it is not CMS SignedData")
	case !sd.ReadASN1Integer(&version) || version != 1:
		return errors.New("the SignedData version is not 1")
	case !sd.ReadASN1(&algs, cbasn1.SET) || !algs.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !algs.Empty():
		return errors.New("the digest algorithm set does not hold exactly one algorithm")
	case !sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&content) ||
		!content.Equal(oidData) || !encap.Empty():
		// Detached: the signed content is the PDF's byte ranges.
		return errors.New("the content type is not detached data")
	}
	sd.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) // certificates, checked by chain
	if sd.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return errors.New("the signature carries revocation lists the hub never writes")
	}
	var sid, issuer, siAlg cryptobyte.String
	var siVersion int
	serial := new(big.Int)
	switch {
	case !sd.ReadASN1(&sis, cbasn1.SET) || !sd.Empty():
		return errors.New("the signer information is misplaced")
	case !sis.ReadASN1(&si, cbasn1.SEQUENCE) || !sis.Empty():
		return errors.New("there is not exactly one signer")
	case !si.ReadASN1Integer(&siVersion) || siVersion != 1:
		return errors.New("the signer information version is not 1")
	case !si.ReadASN1(&sid, cbasn1.SEQUENCE) || !sid.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!sid.ReadASN1Integer(serial) || !sid.Empty():
		return errors.New("the signer is not identified by issuer and serial number")
	case !bytes.Equal(issuer, signer.RawIssuer) || serial.Cmp(signer.SerialNumber) != 0:
		return errors.New("the signer's issuer and serial number are not its certificate's")
	case !si.ReadASN1Element(&siAlg, cbasn1.SEQUENCE) || !bytes.Equal(siAlg, alg):
		return errors.New("the digest algorithm set differs from the signer's digest algorithm")
	}
	return nil
}

// strictDER reports whether b is a run of DER elements whose constructed
// elements are, recursively, exactly filled by DER elements.
func strictDER(b cryptobyte.String) bool {
	for !b.Empty() {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !b.ReadAnyASN1(&body, &tag) {
			return false
		}
		if tag&0x20 != 0 && !strictDER(body) { // constructed
			return false
		}
	}
	return true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(b) > 0
}

// lastSignature finds the value of the last signature field of AcroForm.
func lastSignature(rdr *pdf.Reader) (v pdf.Value) {
	defer func() {
		if recover() != nil {
			v = pdf.Value{}
		}
	}()
	fields := rdr.Trailer().Key("Root").Key("AcroForm").Key("Fields")
	for i := fields.Len() - 1; i >= 0; i-- {
		f := fields.Index(i)
		if f.Key("FT").Name() == "Sig" && f.Key("V").Kind() == pdf.Dict {
			return f.Key("V")
		}
	}
	return pdf.Value{}
}

// tokenOf reads the seal token the renderer stored in the Keywords.
func tokenOf(rdr *pdf.Reader) (tok string) {
	defer func() {
		if recover() != nil {
			tok = ""
		}
	}()
	kw := rdr.Trailer().Key("Info").Key("Keywords").Text()
	for _, w := range strings.Fields(kw) {
		if t, ok := strings.CutPrefix(w, certpdf.TokenKeyword); ok {
			return t
		}
	}
	return ""
}

// PageText returns the text shown on the pages, in content order, without
// spaces (text extraction does not keep them reliably; CompareDocument
// ignores white space).
func PageText(rdr *pdf.Reader) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed page content: %v", r)
		}
	}()
	var sb strings.Builder
	ps, err := pages(rdr)
	if err != nil {
		return "", err
	}
	for i, p := range ps {
		if err := checkPageStreams(p); err != nil {
			return "", fmt.Errorf("page %d: %w", i+1, err)
		}
		for _, t := range p.Content().Text {
			sb.WriteString(t.S)
		}
	}
	return sb.String(), nil
}

// CompareDocument checks that what the token seals is printed in text:
// certificate id, protocol number, date and time of issue, subject's name
// and codice fiscale, and every fact's value. White space is ignored and
// the sealed strings pass through the renderer's Printable first, as the
// page shows them.
//
// A section's fact holds one printed value per line (certificate.
// PrintedFact): a line's value or a table row, each a run of the page's
// text, while a label or another cell stands between two of them. Each
// part must be printed whole, and the parts of the sections' facts in the
// order the token gives them, after the subject's codice fiscale: so an
// altered value is caught even when the same string is printed elsewhere
// (a birth date in the heading and again in a family table) — the copy
// elsewhere is out of order. Matching the fact as one string would fail
// every value the page prints in parts; matching its parts anywhere would
// let such a duplicate hide a tampered copy.
func CompareDocument(c Claims, text string) []Check {
	page := squeeze(text)
	issued := c.Issued.In(protocol.Rome).Format("02/01/2006 15:04")
	want := []struct{ name, what, value string }{
		{"id", "certificate id", c.ID},
		{"protocol", "protocol number", c.Protocol},
		{"issued", "date and time of issue", issued},
		{"name", "subject's name", c.Name},
		{"cf", "codice fiscale", c.CF},
	}
	var out []Check
	for _, w := range want {
		if w.value == "" && w.name != "id" {
			continue
		}
		v := squeeze(certpdf.Printable(w.value))
		ok := v != "" && strings.Contains(page, v)
		out = append(out, printedCheck(w.name, w.what, w.value, ok))
	}
	// The sections come after the subject block, which ends with the
	// codice fiscale.
	cursor := 0
	if cf := squeeze(c.CF); cf != "" {
		if i := strings.Index(page, cf); i >= 0 {
			cursor = i + len(cf)
		}
	}
	for _, f := range c.Facts {
		if f.Value == "" {
			continue
		}
		name, what := "fact:"+f.Key, "fact "+f.Key
		switch f.Key {
		case "nome", "cf", "data_di_riferimento":
			// The subject's and the certificate's own data, printed in the
			// heading and possibly again in a section: anywhere will do.
			v := squeeze(certpdf.Printable(f.Value))
			out = append(out, printedCheck(name, what, f.Value, v != "" && strings.Contains(page, v)))
			continue
		}
		ok, missing := true, ""
		for _, part := range strings.Split(f.Value, "\n") {
			v := squeeze(certpdf.Printable(part))
			if v == "" {
				continue
			}
			i := strings.Index(page[cursor:], v)
			if i < 0 {
				ok, missing = false, part
				break
			}
			cursor += i + len(v)
		}
		ch := printedCheck(name, what, f.Value, ok)
		if !ok && missing != f.Value {
			ch.Detail = fmt.Sprintf("%s: %q is not printed where the seal puts it", what, missing)
		}
		out = append(out, ch)
	}
	return out
}

func printedCheck(name, what, value string, ok bool) Check {
	detail := fmt.Sprintf("%s %q is printed", what, value)
	if !ok {
		detail = fmt.Sprintf("%s %q is not printed", what, value)
	}
	return Check{Name: name, OK: ok, Detail: detail}
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// IssuePDF seals a Document: signs its token, renders it with the QR and
// signs the PDF at the document's issue time. It returns the signed PDF and
// the token.
func (k *Keys) IssuePDF(doc *certificate.Document) ([]byte, string, error) {
	if doc.VerifyURL == "" {
		return nil, "", errors.New("the certificate has no verification URL for its QR code")
	}
	tok, err := k.SignToken(ClaimsOf(doc))
	if err != nil {
		return nil, "", err
	}
	out, err := certpdf.Render(doc, certpdf.Seal{Token: tok, QR: QRContent(doc.VerifyURL, tok)})
	if err != nil {
		return nil, "", err
	}
	signed, err := k.SignPDF(out, doc.Issued)
	if err != nil {
		return nil, "", err
	}
	return signed, tok, nil
}
