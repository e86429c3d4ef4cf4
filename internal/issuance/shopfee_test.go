package issuance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

// TestShopFeeOnlyOnReceipt: a certificate issued at a shop that charges a
// service fee keeps the fee in its record (which the shop's receipt and the
// monthly settlement print) but its PDF, the comune's document, names only
// the comune's bollo and diritti.
func TestShopFeeOnlyOnReceipt(t *testing.T) {
	debtest.Need(t, "pdftotext")
	desk := issuancetest.New(t, 60, 5, now)
	d, cfs := desk.Service, desk.Residents
	d.Current = func() (issuance.Settings, error) {
		return issuance.Settings{Issuer: d.Issuer, PublicURL: "https://hub.example", Policy: certificate.Policy{ServiceCapCents: 200}}, nil
	}
	res, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[0], Evidence: desk.Evidence(t, cfs[0]), Types: []string{"residenza"},
		Channel: certificate.Counter, Actor: clerk, Operator: issuance.Operator{ID: "op-0001", ServiceCents: 180}})
	if err != nil {
		t.Fatal(err)
	}
	var service int64
	for _, l := range res.Record.Fees {
		if l.Kind == fees.Service {
			service += l.Cents
		}
	}
	if service != 180 {
		t.Errorf("the record (what the receipt prints) holds a service fee of %d cents, want 180", service)
	}
	path := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(path, res.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	text := debtest.Run(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-")
	if !strings.Contains(text, "Diritti di segreteria") {
		t.Fatalf("the PDF has no fee lines at all:\n%s", text)
	}
	for _, never := range []string{"Servizio", "esercente", "1,80"} {
		if strings.Contains(text, never) {
			t.Errorf("the certificate PDF mentions the shop's fee (%q):\n%s", never, text)
		}
	}
}
