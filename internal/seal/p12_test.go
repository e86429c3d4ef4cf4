package seal_test

import (
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/seal/sealtest"
)

// p12Keys are the shared test keys sealing with the comune's own seal from
// a PKCS#12 file made by sealtest.
func p12Keys(t *testing.T) (*seal.Keys, *sealtest.PKI, sealtest.Files) {
	t.Helper()
	pki := sealtest.New(t, clock())
	files := pki.Write(t, t.TempDir())
	s, err := seal.LoadPKCS12(files.P12, files.Password, clock())
	if err != nil {
		t.Fatal(err)
	}
	k := *testKeys(t)
	k.Seal = s
	return &k, pki, files
}

// TestPKCS12SealVerifiedByPdfsig is issue 14's "the seal from PKCS#12 with
// its chain verified by pdfsig": a certificate sealed with a key and
// certificate from a trust service's PKCS#12 file (root → intermediate →
// seal) is trusted by poppler's pdfsig whose NSS database holds only the
// root, so the intermediate must travel inside the signature; the hub's own
// verifier accepts it against the same root, and not against the hub's demo
// CA.
func TestPKCS12SealVerifiedByPdfsig(t *testing.T) {
	debtest.Need(t, "pdfsig", "certutil")
	k, pki, files := p12Keys(t)
	b, _ := issue(t, k, sample.Residenza())

	certs := signatureCertificates(t, b)
	if len(certs) != 2 || !certs[0].Equal(pki.Seal) || !certs[1].Equal(pki.Intermediate) {
		var names []string
		for _, c := range certs {
			names = append(names, c.Subject.CommonName)
		}
		t.Errorf("the signature carries %q, want the seal and its intermediate CA (the root stays with the verifier)", names)
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	nss := filepath.Join(dir, "nss")
	if err := os.Mkdir(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	debtest.Run(t, "certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+nss, "-n", "Prova Root", "-t", "C,C,C", "-i", files.RootPEM)
	out := debtest.Run(t, "pdfsig", "-nssdir", "sql:"+nss, in)
	t.Log(out)
	for _, want := range []string{
		"Signature Validation: Signature is Valid.",
		"Certificate Validation: Certificate is Trusted.",
		"Total document signed",
		"Signer Certificate Common Name: " + sealtest.SealName,
		"Signing Time: Nov 23 2026 09:30:00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q", want)
		}
	}

	root, err := seal.NewTrust(mustRead(t, files.RootPEM), jwks(t, k))
	if err != nil {
		t.Fatal(err)
	}
	res, err := seal.VerifyPDF(b, root)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid || res.Signer != sealtest.SealName {
		t.Errorf("hub verifier against the trust service's root: %s (signer %q)", res.Summary, res.Signer)
	}
	// The hub's Trust names the PKCS#12 root, so hub verify --data works.
	if res, _ := seal.VerifyPDF(b, k.Trust()); !res.Valid {
		t.Errorf("hub verifier with the hub's own trust: %s", res.Summary)
	}
	demo, err := seal.NewTrust(testKeys(t).CAPEM(), jwks(t, k))
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := seal.VerifyPDF(b, demo); res.Valid {
		t.Error("a seal from the trust service verifies against the hub's demo CA")
	}
	if by := k.SealedBy(); !strings.Contains(by, sealtest.SealName) || !strings.Contains(by, pki.Intermediate.Subject.CommonName) {
		t.Errorf("SealedBy = %q, want the seal and its issuer named", by)
	}
}

// TestPKCS12SealWithoutIntermediate: were the intermediate left out of the
// signature, pdfsig could not build the path to the root; this is what the
// embedded chain is for. A PKCS#12 file without it seals a PDF pdfsig does
// not trust, while the complete file's is trusted (above).
func TestPKCS12SealWithoutIntermediate(t *testing.T) {
	debtest.Need(t, "pdfsig", "certutil")
	pki := sealtest.New(t, clock())
	files := pki.WriteWith(t, t.TempDir(), pki.SealKey, []*x509.Certificate{pki.Root})
	s, err := seal.LoadPKCS12(files.P12, files.Password, clock())
	if err != nil {
		t.Fatal(err)
	}
	k := *testKeys(t)
	k.Seal = s
	b, _ := issue(t, &k, sample.Residenza())
	dir := t.TempDir()
	in := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	debtest.Run(t, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+dir, "-n", "Prova Root", "-t", "C,C,C", "-i", files.RootPEM)
	raw, _ := exec.Command("pdfsig", "-nssdir", "sql:"+dir, in).CombinedOutput()
	if !strings.Contains(string(raw), "Signature is Valid") || strings.Contains(string(raw), "Certificate is Trusted") {
		t.Errorf("pdfsig on a signature without its intermediate:\n%s", raw)
	}
}

func TestLoadPKCS12Refusals(t *testing.T) {
	pki := sealtest.New(t, clock())
	good := pki.Write(t, t.TempDir())
	wrongPassword := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(wrongPassword, []byte("not the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withSeal := func(p *sealtest.PKI) sealtest.Files { return p.Write(t, t.TempDir()) }
	other := sealtest.RSAKey(t, 2048)
	tests := []struct {
		name          string
		p12, password string
		at            func() sealtest.Files
		want          string
	}{
		{name: "wrong password", p12: good.P12, password: wrongPassword, want: "does not open with the password"},
		{name: "no such file", p12: good.P12 + ".missing", password: good.Password, want: "cannot be read"},
		{name: "not PKCS#12", p12: good.RootPEM, password: good.Password, want: "is not a PKCS#12 file"},
		{name: "key of another certificate", at: func() sealtest.Files {
			return pki.WriteWith(t, t.TempDir(), other, []*x509.Certificate{pki.Intermediate, pki.Root})
		}, want: "belongs to none of its certificates"},
		{name: "expired", at: func() sealtest.Files {
			return withSeal(pki.Reissue(t, other, func(c *x509.Certificate) { c.NotAfter = clock().AddDate(0, 0, -1) }))
		}, want: "expired on"},
		{name: "not yet valid", at: func() sealtest.Files {
			return withSeal(pki.Reissue(t, other, func(c *x509.Certificate) { c.NotBefore = clock().AddDate(0, 0, 1) }))
		}, want: "is not valid before"},
		{name: "key usage for encryption only", at: func() sealtest.Files {
			return withSeal(pki.Reissue(t, other, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }))
		}, want: "neither digital signature nor non-repudiation"},
		{name: "a TLS server certificate", at: func() sealtest.Files {
			return withSeal(pki.Reissue(t, other, func(c *x509.Certificate) {
				c.ExtKeyUsage, c.UnknownExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, nil
			}))
		}, want: "does not include document signing"},
		{name: "weak RSA key", at: func() sealtest.Files {
			return withSeal(pki.Reissue(t, sealtest.RSAKey(t, 1024)))
		}, want: "fewer than the 2048"},
		{name: "expired intermediate", at: func() sealtest.Files {
			return withSeal(pki.ExpireIntermediate(t, clock()))
		}, want: `the CA certificate "Prova Qualified eSeal CA"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p12, pw := tc.p12, tc.password
			if tc.at != nil {
				f := tc.at()
				p12, pw = f.P12, f.Password
			}
			_, err := seal.LoadPKCS12(p12, pw, clock())
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %q, want one sentence saying %q", err, tc.want)
			}
		})
	}
	// The good file loads, and the key signs for its certificate.
	s, err := seal.LoadPKCS12(good.P12, good.Password, clock())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Certificate().Equal(pki.Seal) || len(s.Chain()) != 2 || !s.Chain()[0].Equal(pki.Intermediate) || !s.Chain()[1].Equal(pki.Root) {
		t.Errorf("loaded seal %q with a chain of %d", s.Certificate().Subject.CommonName, len(s.Chain()))
	}
}

// signatureCertificates are the certificates the PDF's last signature carries.
func signatureCertificates(t *testing.T, b []byte) []*x509.Certificate {
	t.Helper()
	rdr, err := pdf.NewReader(strings.NewReader(string(b)), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	fields := rdr.Trailer().Key("Root").Key("AcroForm").Key("Fields")
	v := fields.Index(fields.Len() - 1).Key("V")
	contents := []byte(v.Key("Contents").RawString())
	// The reserved room is zero-padded after the DER.
	var p7 *pkcs7.PKCS7
	for n := len(contents); n > 0; n-- {
		if p7, err = pkcs7.Parse(contents[:n]); err == nil {
			break
		}
		if contents[n-1] != 0 {
			t.Fatalf("the signature does not parse: %v", err)
		}
	}
	return p7.Certificates
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jwks(t *testing.T, k *seal.Keys) []byte {
	t.Helper()
	b, err := jsonMarshal(k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPKCS12SealKinds: older trust-service files (RC2 and 3DES encryption,
// SHA-1 MAC) open as well as modern ones, and an ECDSA P-384 seal signs a
// PDF that the hub's verifier and pdfsig accept, its signature fitting the
// room reserved for it.
func TestPKCS12SealKinds(t *testing.T) {
	pki := sealtest.New(t, clock())
	for name, enc := range map[string]*pkcs12.Encoder{"legacy RC2": pkcs12.LegacyRC2, "legacy 3DES": pkcs12.LegacyDES, "modern 2026": pkcs12.Modern2026} {
		f := pki.WriteEncoded(t, t.TempDir(), enc)
		if s, err := seal.LoadPKCS12(f.P12, f.Password, clock()); err != nil || !s.Certificate().Equal(pki.Seal) {
			t.Errorf("%s: %v", name, err)
		}
	}

	debtest.Need(t, "pdfsig", "certutil")
	ec := pki.Reissue(t, sealtest.ECKey(t, elliptic.P384()))
	files := ec.Write(t, t.TempDir())
	s, err := seal.LoadPKCS12(files.P12, files.Password, clock())
	if err != nil {
		t.Fatal(err)
	}
	k := *testKeys(t)
	k.Seal = s
	b, _ := issue(t, &k, sample.StatoDiFamiglia())
	trust, err := k.Trust().WithRoots(mustRead(t, files.RootPEM))
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := seal.VerifyPDF(b, trust); !res.Valid {
		t.Errorf("P-384 seal: %s", res.Summary)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	debtest.Run(t, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+dir, "-n", "Prova Root", "-t", "C,C,C", "-i", files.RootPEM)
	out := debtest.Run(t, "pdfsig", "-nssdir", "sql:"+dir, in)
	if !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Certificate is Trusted") {
		t.Errorf("pdfsig on the P-384 seal:\n%s", out)
	}
}

// TestSealRefusesOutsideItsValidity: a hub running past its seal's expiry
// stops sealing, saying so, rather than issuing PDFs validators reject.
func TestSealRefusesOutsideItsValidity(t *testing.T) {
	k, pki, _ := p12Keys(t)
	d := sample.Residenza()
	d.Issued = pki.Seal.NotAfter.Add(time.Minute)
	if _, _, err := k.IssuePDF(&d); err == nil || !strings.Contains(err.Error(), "expired on") || !strings.Contains(err.Error(), "renew it") {
		t.Errorf("sealing after the seal expired: %v", err)
	}
	d.Issued = pki.Seal.NotAfter.Add(-time.Minute)
	if _, _, err := k.IssuePDF(&d); err != nil {
		t.Errorf("sealing a minute before expiry: %v", err)
	}
}
