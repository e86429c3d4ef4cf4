package seal_test

import (
	"testing"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
	"github.com/sportello/sportello/internal/seal"
)

// FuzzVerifyPDF feeds altered certificate PDFs to the verifier: it must
// never panic, and never call an altered file valid.
func FuzzVerifyPDF(f *testing.F) {
	k := testKeys(f)
	d := sample.Residenza()
	good, _, err := k.IssuePDF(&d)
	if err != nil {
		f.Fatal(err)
	}
	trust := k.Trust()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("%PDF-1.4\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := seal.VerifyPDF(b, trust)
		if err == nil && r.Valid && string(b) != string(good) {
			t.Errorf("altered PDF (%d bytes) accepted: %s", len(b), r.Summary)
		}
	})
}

// FuzzVerifyToken: scanned QR contents are untrusted input.
func FuzzVerifyToken(f *testing.F) {
	k := testKeys(f)
	d := sample.Residenza()
	tok, err := k.SignToken(seal.ClaimsOf(&d))
	if err != nil {
		f.Fatal(err)
	}
	ks := k.JWKS()
	f.Add(tok)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := seal.VerifyToken(s, ks); err == nil && s != tok {
			t.Errorf("altered token accepted: %q", s)
		}
	})
}
