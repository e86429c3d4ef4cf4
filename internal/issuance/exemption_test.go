package issuance_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/issuance"
)

// TestExemption10OnlyForAdministrations: exemption 10 (exchanges between
// public administrations) claimed at a shop or by a
// private person at the office is refused before anything is numbered; a
// public administration at the office gets it, bollo and diritti waived.
func TestExemption10OnlyForAdministrations(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	ev := d.Evidence(t, c.Requester)
	ten := fees.Exemption{Code: 10}

	shop := counter(c.Requester, ev)
	shop.Exemption = ten
	private := issuance.Request{SubjectCF: c.Requester, Types: []string{"residenza"}, Channel: certificate.Office, Exemption: ten, Actor: clerk}
	for name, req := range map[string]issuance.Request{"counter": shop, "private person at the office": private} {
		_, err := d.Issue(ctx, req)
		ref := wantRefusal(t, name, err, certificate.ReasonExemptionNotAllowed)
		if ref.Message == "" {
			t.Errorf("%s: refusal without a sentence", name)
		}
	}
	pa := private
	pa.Administration = "Tribunale di Milano, prot. 123/2026"
	res, err := d.Issue(ctx, pa)
	if err != nil {
		t.Fatalf("a public administration at the office: %v", err)
	}
	if res.Record.Protocol != "2026/0000001" {
		t.Errorf("protocol %s: the refusals consumed numbers", res.Record.Protocol)
	}
	if res.Record.TotalCents != 0 || res.Record.Requester != certificate.RequesterPA {
		t.Errorf("administration's certificate: total %d, requester %v", res.Record.TotalCents, res.Record.Requester)
	}
}
