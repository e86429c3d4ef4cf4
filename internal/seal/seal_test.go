package seal_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"

	"github.com/sportello/sportello/internal/certificate"
	certpdf "github.com/sportello/sportello/internal/certificate/pdf"
	"github.com/sportello/sportello/internal/certificate/pdf/sample"
	"github.com/sportello/sportello/internal/seal"
)

func clock() time.Time { return sample.Issued }

var (
	keysOnce sync.Once
	hubKeys  *seal.Keys
	keysErr  error
)

// testKeys creates one hub key set per test binary: key generation is the
// slow part and every test may share it.
func testKeys(t testing.TB) *seal.Keys {
	keysOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealkeys")
		if err != nil {
			keysErr = err
			return
		}
		hubKeys, keysErr = seal.LoadOrCreate(dir, clock)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return hubKeys
}

func docs() map[string]certificate.Document {
	return map[string]certificate.Document{
		"residenza":         sample.Residenza(),
		"stato_di_famiglia": sample.StatoDiFamiglia(),
	}
}

func issue(t testing.TB, k *seal.Keys, d certificate.Document) ([]byte, string) {
	t.Helper()
	b, tok, err := k.IssuePDF(&d)
	if err != nil {
		t.Fatal(err)
	}
	return b, tok
}

func TestLoadOrCreatePersistsKeys(t *testing.T) {
	dir := t.TempDir()
	k1, err := seal.LoadOrCreate(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{seal.TokenKeyFile, seal.CAKeyFile, seal.SealKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	k2, err := seal.LoadOrCreate(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if k1.KeyID != k2.KeyID || !k1.CA.Equal(k2.CA) || !k1.Seal.Certificate().Equal(k2.Seal.Certificate()) || !k1.TokenKey.Equal(k2.TokenKey) {
		t.Error("keys loaded a second time differ from those created")
	}
	if sc := k1.Seal.Certificate(); !sc.NotBefore.Before(clock()) || sc.NotAfter.Before(clock().AddDate(4, 0, 0)) {
		t.Errorf("seal certificate validity %v–%v does not come from the clock", sc.NotBefore, sc.NotAfter)
	}

	// A CA key without its certificate must not be silently replaced (a
	// certificate without its key is the offline CA: TestOfflineCA).
	if err := os.Remove(filepath.Join(dir, seal.CACertFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.LoadOrCreate(dir, clock); err == nil || !strings.Contains(err.Error(), "only part") {
		t.Errorf("incomplete key directory: got %v, want a refusal", err)
	}
}

func TestTokenRoundTripAndRefusals(t *testing.T) {
	k := testKeys(t)
	d := sample.StatoDiFamiglia()
	c := seal.ClaimsOf(&d)
	tok, err := k.SignToken(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.VerifyToken(tok, k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.CF != c.CF || got.Name != c.Name || !got.Issued.Equal(c.Issued) ||
		got.Protocol != c.Protocol || len(got.Facts) != len(c.Facts) || got.Facts[1] != c.Facts[1] || got.Types[0] != c.Types[0] {
		t.Errorf("claims changed in transit:\n got %+v\nwant %+v", got, c)
	}

	other, err := seal.LoadOrCreate(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.SignToken(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	altered := parts[0] + "." + strings.Replace(parts[1], parts[1][10:11], flip(parts[1][10:11]), 1) + "." + parts[2]
	for name, bad := range map[string]string{
		"other hub's key":  forged,
		"altered payload":  altered,
		"not a JWS":        "abc.def",
		"empty":            "",
		"signature cut":    parts[0] + "." + parts[1] + "." + parts[2][:20],
		"alg none":         "eyJhbGciOiJub25lIiwia2lkIjoieCJ9." + parts[1] + ".",
		"garbage segments": "!!.??.**",
	} {
		if _, err := seal.VerifyToken(bad, k.JWKS()); err == nil {
			t.Errorf("%s: token accepted", name)
		}
	}
}

func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

func TestJWKSIsRFC8037(t *testing.T) {
	k := testKeys(t)
	ks := k.JWKS()
	if len(ks.Keys) != 1 {
		t.Fatalf("got %d keys", len(ks.Keys))
	}
	j := ks.Keys[0]
	if j.Kty != "OKP" || j.Crv != "Ed25519" || j.Kid != k.KeyID || len(j.X) != 43 {
		t.Errorf("JWK %+v is not an RFC 8037 Ed25519 key", j)
	}
	b, err := jsonMarshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	back, err := seal.ParseKeySet(b)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := seal.NewTrust(k.CAPEM(), b)
	if err != nil {
		t.Fatal(err)
	}
	d := sample.Residenza()
	tok, _ := k.SignToken(seal.ClaimsOf(&d))
	if _, err := seal.VerifyToken(tok, back); err != nil {
		t.Errorf("token does not verify with the published key set: %v", err)
	}
	if _, err := seal.VerifyToken(tok, tr.Keys); err != nil {
		t.Errorf("token does not verify with a trust built from published files: %v", err)
	}
}

func TestQRTokenIsCompact(t *testing.T) {
	k := testKeys(t)
	for name, d := range docs() {
		tok, err := k.SignToken(seal.ClaimsOf(&d))
		if err != nil {
			t.Fatal(err)
		}
		qr := seal.QRContent(d.VerifyURL, tok)
		got, err := seal.TokenFromQR(qr)
		if err != nil || got != tok {
			t.Errorf("%s: token from QR = %q, %v", name, got, err)
		}
		v := qrVersion(t, qr)
		t.Logf("%s: QR content %d bytes, QR version %d (%d modules)", name, len(qr), v, 17+4*v)
		// Version 20 (97 modules) printed 38 mm wide gives 0.39 mm modules,
		// still readable by phone cameras; above that paper copies suffer.
		if v > 20 {
			t.Errorf("%s: QR version %d is too dense for paper", name, v)
		}
	}
}

func TestVerifyPDF(t *testing.T) {
	k := testKeys(t)
	trust := k.Trust()
	res, _ := issue(t, k, sample.Residenza())
	fam, _ := issue(t, k, sample.StatoDiFamiglia())

	// The residence certificate printed with the family certificate's token.
	pasted := func() []byte {
		d := sample.Residenza()
		f := sample.StatoDiFamiglia()
		tok, err := k.SignToken(seal.ClaimsOf(&f))
		if err != nil {
			t.Fatal(err)
		}
		out, err := certpdf.Render(&d, certpdf.Seal{Token: tok, QR: seal.QRContent(d.VerifyURL, tok)})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := k.SignPDF(out, d.Issued)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}()
	other, err := seal.LoadOrCreate(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	byOther, _ := issue(t, other, sample.Residenza())

	flipAt := func(b []byte, frac float64) []byte {
		c := bytes.Clone(b)
		i := int(float64(len(c)) * frac)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		pdf    []byte
		trust  seal.Trust
		valid  bool
		failed string // name of a check that must fail
	}{
		{"residenza", res, trust, true, ""},
		{"stato di famiglia", fam, trust, true, ""},
		{"one byte altered in the page", flipAt(res, 0.10), trust, false, "signature"},
		{"one byte altered near the end", flipAt(res, 0.999), trust, false, ""},
		{"one byte altered in the signature", func() []byte {
			// The last hex digit of the CMS structure, inside the signature
			// value: a fixed fraction of the file lands elsewhere in the
			// structure as the page's size changes.
			c := bytes.Clone(res)
			i := bytes.LastIndex(c, []byte("/Contents<"))
			end := i + len("/Contents<") + len(bytes.TrimRight(c[i+len("/Contents<"):bytes.IndexByte(c[i:], '>')+i], "0"))
			c[end-1] ^= 0x01
			return c
		}(), trust, false, ""},
		{"one byte altered in the signature padding", func() []byte {
			c := bytes.Clone(res)
			i := bytes.LastIndex(c, []byte("000000>"))
			c[i] = '7'
			return c
		}(), trust, false, "signature"},
		{"bytes appended", append(bytes.Clone(res), []byte("\n% more\n")...), trust, false, "whole-file"},
		{"another certificate's token", pasted, trust, false, "token-matches-text"},
		{"signed by another hub", byOther, trust, false, "signer"},
		{"another hub trusted", res, other.Trust(), false, "token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := seal.VerifyPDF(tc.pdf, tc.trust)
			if err != nil {
				if tc.valid {
					t.Fatal(err)
				}
				return // not even a PDF any more: refused
			}
			if r.Valid != tc.valid {
				t.Fatalf("valid = %v, want %v\n%s\n%+v", r.Valid, tc.valid, r.Summary, r.Checks)
			}
			if tc.valid && (r.Claims == nil || !strings.HasPrefix(r.Summary, "VALID")) {
				t.Errorf("valid result without claims or summary: %+v", r)
			}
			if tc.failed != "" {
				found := false
				for _, c := range r.Checks {
					if c.Name == tc.failed && !c.OK {
						found = true
					}
				}
				if !found {
					t.Errorf("check %q did not fail: %+v", tc.failed, r.Checks)
				}
			}
			t.Log(r.Summary)
		})
	}
}

func TestSignedPDFIsDeterministic(t *testing.T) {
	k := testKeys(t)
	a, _ := issue(t, k, sample.Residenza())
	b, _ := issue(t, k, sample.Residenza())
	if !bytes.Equal(a, b) {
		t.Error("two seals of the same document at the same time differ")
	}
}

func TestCompareDocumentNamesTheMismatch(t *testing.T) {
	d := sample.Residenza()
	c := seal.ClaimsOf(&d)
	text := "Certificato n. C7Q2M9XK4T Protocollo n. 2026/0000123 del 23/11/2026 10:30 D'AMICO NICOLÒ DMCNCL85M12F205Q Via Giuseppe Verdi 12, 20121 Milano (MI)"
	for _, ch := range seal.CompareDocument(c, text) {
		if !ch.OK {
			t.Errorf("matching text refused: %s", ch.Detail)
		}
	}
	changed := strings.Replace(text, "Verdi 12", "Verdi 14", 1)
	var bad []string
	for _, ch := range seal.CompareDocument(c, changed) {
		if !ch.OK {
			bad = append(bad, ch.Name)
		}
	}
	if len(bad) != 1 || bad[0] != "fact:residenza" {
		t.Errorf("changed address: failed checks %v, want [fact:residenza]", bad)
	}
}

// TestQRDecodesToEmbeddedToken renders the first page as an image, reads
// the QR with zbarimg and checks it carries the token embedded in the PDF.
func TestQRDecodesToEmbeddedToken(t *testing.T) {
	debtest.Need(t, "pdftoppm", "zbarimg")
	k := testKeys(t)
	for name, d := range docs() {
		t.Run(name, func(t *testing.T) {
			b, tok := issue(t, k, d)
			dir := t.TempDir()
			in := filepath.Join(dir, "c.pdf")
			if err := os.WriteFile(in, b, 0o644); err != nil {
				t.Fatal(err)
			}
			debtest.Run(t, "pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", in, filepath.Join(dir, "page"))
			out := debtest.Run(t, "zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", filepath.Join(dir, "page.png"))
			qr := strings.TrimSpace(out)
			got, err := seal.TokenFromQR(qr)
			if err != nil {
				t.Fatalf("QR %q: %v", qr, err)
			}
			if got != tok {
				t.Fatalf("QR token differs from the embedded one:\n qr %s\npdf %s", got, tok)
			}
			if !strings.HasPrefix(qr, d.VerifyURL+"#t=") {
				t.Errorf("QR %q does not open the verification page", qr)
			}
			c, err := seal.VerifyToken(got, k.JWKS())
			if err != nil || c.ID != d.ID {
				t.Errorf("decoded QR token: %v, id %q", err, c.ID)
			}
		})
	}
}

// TestPdfsigTrustsTheHubCA runs poppler's pdfsig with an NSS database that
// trusts the hub CA: the signature must be valid, the certificate trusted,
// and the whole file signed; without the CA the certificate is untrusted.
func TestPdfsigTrustsTheHubCA(t *testing.T) {
	debtest.Need(t, "pdfsig", "certutil")
	k := testKeys(t)
	b, _ := issue(t, k, sample.Residenza())
	dir := t.TempDir()
	in := filepath.Join(dir, "c.pdf")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, k.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	trusted, empty := filepath.Join(dir, "nss"), filepath.Join(dir, "nss-empty")
	for _, db := range []string{trusted, empty} {
		if err := os.Mkdir(db, 0o700); err != nil {
			t.Fatal(err)
		}
		debtest.Run(t, "certutil", "-N", "-d", "sql:"+db, "--empty-password")
	}
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+trusted, "-n", "Sportello Hub CA", "-t", "C,C,C", "-i", ca)

	out := debtest.Run(t, "pdfsig", "-nssdir", "sql:"+trusted, in)
	t.Log(out)
	for _, want := range []string{
		"Signature Validation: Signature is Valid.",
		"Certificate Validation: Certificate is Trusted.",
		"Total document signed",
		"Signer Certificate Common Name: Sportello Hub Seal",
		"Signing Time: Nov 23 2026 09:30:00", /* sample.Issued, in UTC */
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q", want)
		}
	}
	raw, _ := exec.Command("pdfsig", "-nssdir", "sql:"+empty, in).CombinedOutput()
	if strings.Contains(string(raw), "Certificate is Trusted") {
		t.Errorf("pdfsig trusts the seal without the hub CA:\n%s", raw)
	}
	bad := bytes.Clone(b)
	bad[len(bad)/10] ^= 1
	if err := os.WriteFile(in, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ = exec.Command("pdfsig", "-nssdir", "sql:"+trusted, in).CombinedOutput()
	if strings.Contains(string(raw), "Signature is Valid") {
		t.Errorf("pdfsig accepts an altered file:\n%s", raw)
	}
}

func BenchmarkIssuePDF(b *testing.B) {
	k := testKeys(b)
	d := sample.StatoDiFamiglia()
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := k.IssuePDF(&d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkIssuePDFSerial(b *testing.B) {
	k := testKeys(b)
	d := sample.Residenza()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, _, err := k.IssuePDF(&d); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

func BenchmarkVerifyPDF(b *testing.B) {
	k := testKeys(b)
	pdf, _ := issue(b, k, sample.Residenza())
	trust := k.Trust()
	for b.Loop() {
		if r, err := seal.VerifyPDF(pdf, trust); err != nil || !r.Valid {
			b.Fatal(err, r.Summary)
		}
	}
}

// TestEveryByteCounts flips one bit at positions spread over the whole file,
// signature and embedded certificates included: no position may leave the
// certificate valid.
func TestEveryByteCounts(t *testing.T) {
	k := testKeys(t)
	pdf, _ := issue(t, k, sample.Residenza())
	step := len(pdf)/150 + 1
	for at := 0; at < len(pdf); at += step {
		bad := append([]byte(nil), pdf...)
		bad[at] ^= 0x04
		res, err := seal.VerifyPDF(bad, k.Trust())
		if err == nil && res.Valid {
			t.Errorf("byte %d of %d (%q) changed and the certificate still verifies", at, len(pdf), pdf[max(0, at-20):min(len(pdf), at+20)])
		}
	}
}

// TestEverySignatureByteCounts changes each hex digit of the signature value
// in turn: the signature checks must fail for every one.
func TestEverySignatureByteCounts(t *testing.T) {
	k := testKeys(t)
	pdf, _ := issue(t, k, sample.Residenza())
	start := bytes.LastIndex(pdf, []byte("/Contents<"))
	if start < 0 {
		t.Fatal("no signature value in the PDF")
	}
	start += len("/Contents<")
	end := start + bytes.IndexByte(pdf[start:], '>')
	// The DER ends where the zero padding starts.
	der := bytes.TrimRight(pdf[start:end], "0")
	failed := 0
	for i := range der {
		bad := append([]byte(nil), pdf...)
		if bad[start+i] == '1' {
			bad[start+i] = '2'
		} else {
			bad[start+i] = '1'
		}
		checks, err := seal.SignatureChecks(bad, k.Trust())
		ok := err == nil
		for _, c := range checks {
			ok = ok && c.OK
		}
		if ok && len(checks) > 0 {
			failed++
			if failed < 5 {
				t.Errorf("hex digit %d of the signature changed (%q → %q) and the signature still verifies", i, pdf[start+i], bad[start+i])
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d signature digits can change unnoticed", failed, len(der))
	}
}

// TestCompareDocumentPrintedParts: a section's sealed fact is its printed
// values, one per line (certificate.PrintedFact); each must be printed
// whole and in order after the subject's codice fiscale. A page printing
// the values apart (a label between them) matches; a page whose section
// shows another value does not, even when the sealed value is printed
// elsewhere — the birth date in the heading, a member's name in another
// row.
func TestCompareDocumentPrintedParts(t *testing.T) {
	c := seal.Claims{
		ID: "abcdefghijklmnop", Protocol: "2026/0000007", Name: "ROSSI MARIA", CF: "RSSMRA61M48C351X",
		Issued: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC),
		Facts: []certificate.Fact{
			{Key: "nome", Value: "ROSSI MARIA"}, {Key: "cf", Value: "RSSMRA61M48C351X"},
			{Key: "nascita", Value: "08/08/1961\nCATANIA (CT)"},
			{Key: "stato_di_famiglia", Value: "ROSSI MARIA\nVia Etnea 1, 95100 CATANIA (CT)\nROSSI MARIA\nBIANCHI LUCA"},
		},
	}
	head := "Certificato n. abcdefghijklmnop Protocollo n. 2026/0000007 del 23/11/2026 10:30 ROSSI MARIA nata a CATANIA (CT) l'08/08/1961 Codice fiscale RSSMRA61M48C351X "
	birth := "Nascita Data di nascita 08/08/1961 Luogo di nascita CATANIA (CT) "
	family := "La famiglia anagrafica è così composta Intestatario della scheda di famiglia ROSSI MARIA Residente in Via Etnea 1, 95100 CATANIA (CT) " +
		"Cognome e nome Data di nascita ROSSI MARIA 08/08/1961 CATANIA (CT) BIANCHI LUCA 02/02/1960 ROMA (RM)"
	failed := func(text string) []string {
		var bad []string
		for _, ch := range seal.CompareDocument(c, text) {
			if !ch.OK {
				bad = append(bad, ch.Name)
			}
		}
		return bad
	}
	if bad := failed(head + birth + family); len(bad) != 0 {
		t.Errorf("the printed page is refused: %v", bad)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"birth date", head + strings.Replace(birth, "08/08/1961", "09/08/1961", 1) + family, "fact:nascita"},
		{"birth place", head + strings.Replace(birth, "CATANIA (CT)", "PALERMO (PA)", 1) + family, "fact:nascita"},
		{"member", head + birth + strings.Replace(family, "BIANCHI LUCA", "VERDI LUCA", 1), "fact:stato_di_famiglia"},
		{"head", head + birth + strings.Replace(family, "famiglia ROSSI MARIA", "famiglia VERDI LUCA", 1), "fact:stato_di_famiglia"},
	} {
		// The birth date is printed again in the family table, after the
		// birth section: the search then finds it there and the family
		// fact, whose values it went past, is the one that fails.
		if bad := failed(tc.text); len(bad) != 1 || bad[0] != tc.want && bad[0] != "fact:stato_di_famiglia" {
			t.Errorf("%s changed on the page: failed checks %v, want [%s]", tc.name, bad, tc.want)
		}
		// Alone on the page, the birth section names itself.
		if tc.want == "fact:nascita" {
			only := c
			only.Facts = c.Facts[:3]
			var bad []string
			for _, ch := range seal.CompareDocument(only, strings.TrimSuffix(tc.text, family)) {
				if !ch.OK {
					bad = append(bad, ch.Name)
				}
			}
			if len(bad) != 1 || bad[0] != tc.want {
				t.Errorf("%s changed on a birth certificate: failed checks %v, want [%s]", tc.name, bad, tc.want)
			}
		}
	}
}

// TestUnterminatedStringRefused: a certificate whose page content has one
// string's ')' changed (the byte TestEveryByteCounts once hit with its
// random keys) made the PDF reader's lexer grow without bound — its
// end-of-stream reads never end the string. The verifier must refuse it.
// The test fails by panicking, rather than by using all the machine's
// memory, if the verifier ever hands such a stream to the reader again.
func TestUnterminatedStringRefused(t *testing.T) {
	k := testKeys(t)
	good, _ := issue(t, k, sample.Residenza())
	bad := breakPageString(t, good)
	done := make(chan struct{})
	defer close(done)
	go watchHeap(done, 1<<30)
	res, err := seal.VerifyPDF(bad, k.Trust())
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid {
		t.Fatal("a certificate with a broken page content verifies")
	}
	found := false
	for _, c := range res.Checks {
		if c.Name == "token-matches-text" {
			found = !c.OK && strings.Contains(c.Detail, "not terminated")
		}
	}
	if !found {
		t.Errorf("the broken page content is not named: %s", res.Summary)
	}
}

// breakPageString returns pdf with one string's ')' in the page content
// changed to '-', so the string no longer ends. The page content is
// compressed: it is decompressed, changed and compressed again into the
// same room (zlib readers ignore the zeros after the end), so every offset
// in the file stays right and only the content is broken.
func breakPageString(t *testing.T, pdf []byte) []byte {
	t.Helper()
	m := regexp.MustCompile(`<</Filter /FlateDecode /Length (\d+)>>\nstream\n`).FindSubmatchIndex(pdf)
	if m == nil {
		t.Fatal("no compressed page content")
	}
	n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
	room := pdf[m[1] : m[1]+n]
	zr, err := zlib.NewReader(bytes.NewReader(room))
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(content, []byte(")Tj"))
	if at < 0 {
		t.Fatal("no text operator in the page content")
	}
	content[at] ^= 0x04 // ')' → '-'
	for level := zlib.BestSpeed; level <= zlib.BestCompression; level++ {
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, level)
		w.Write(content)
		w.Close()
		if z.Len() <= n {
			bad := bytes.Clone(pdf)
			copy(bad[m[1]:], z.Bytes())
			clear(bad[m[1]+z.Len() : m[1]+n])
			return bad
		}
	}
	t.Fatal("the changed page content does not fit its room at any compression level")
	return nil
}

// watchHeap panics when the heap passes limit before done closes: a test
// whose code under test allocates without bound then fails at once
// instead of taking the machine's memory.
func watchHeap(done <-chan struct{}, limit uint64) {
	var ms runtime.MemStats
	for {
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > limit {
			panic(fmt.Sprintf("heap at %d bytes: the verifier allocates without bound", ms.HeapAlloc))
		}
	}
}

// TestPageTreeLoopRefused: one bit of the page list's Kids (3 0 R → 1 0 R)
// makes the page list its own child; the PDF reader's Page(1) then loops
// for ever. The verifier walks the tree itself, bounded, and refuses.
func TestPageTreeLoopRefused(t *testing.T) {
	k := testKeys(t)
	good, _ := issue(t, k, sample.Residenza())
	at := bytes.Index(good, []byte("/Type /Pages"))
	kids := bytes.Index(good[at:], []byte("/Kids ["))
	if at < 0 || kids < 0 {
		t.Fatal("no page list in the PDF")
	}
	ref := at + kids + len("/Kids [")
	self := regexp.MustCompile(`(?m)^(\d+) 0 obj\s*<</Type /Pages`).FindSubmatch(good)
	if self == nil || len(self[1]) != 1 || good[ref] == self[1][0] || good[ref+1] != ' ' {
		t.Fatalf("the page list's first kid %q is not a one-digit object other than the list", good[ref:ref+6])
	}
	bad := append([]byte(nil), good...)
	bad[ref] = self[1][0]
	res, err := seal.VerifyPDF(bad, k.Trust())
	if err == nil && res.Valid {
		t.Fatal("a certificate whose page list contains itself verifies")
	}
	if err == nil && !strings.Contains(res.Summary, "page tree") {
		t.Errorf("the looping page tree is not named: %s", res.Summary)
	}
}
