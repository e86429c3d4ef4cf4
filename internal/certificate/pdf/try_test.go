package pdf

import (
	"os"
	"testing"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
)

func TestTry(t *testing.T) {
	for name, d := range map[string]func() interface{}{} {
		_, _ = name, d
	}
	d := sample.Residenza()
	b, err := Render(&d, Seal{Token: "abc", QR: d.VerifyURL + "#t=" + "eyJhbGciOiJFZERTQSJ9.eyJpZCI6IkM3UTJNOVhLNFQifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/probe/r.pdf", b, 0o644)
	d = sample.StatoDiFamiglia()
	b, err = Render(&d, Seal{Token: "abc", QR: d.VerifyURL + "#t=xyz"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/probe/f.pdf", b, 0o644)
}
