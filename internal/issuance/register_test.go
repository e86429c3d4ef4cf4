package issuance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/seal"
)

// TestNumberCarriesTheCityRegister: the register codes in the city's
// settings at an issuance are in its number, on the sealed PDF's QR
// token and in the record; a change applies from the next certificate.
func TestNumberCarriesTheCityRegister(t *testing.T) {
	desk := issuancetest.New(t, 60, 5, now)
	d, cfs := desk.Service, desk.Residents
	st := issuance.Settings{Issuer: d.Issuer, PublicURL: d.PublicURL, Policy: d.Policy,
		Register: protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}}
	d.Current = func() (issuance.Settings, error) { return st, nil }
	req := issuance.Request{SubjectCF: cfs[0], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk}
	res, err := d.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.Protocol != "c_f205.A1B2C3D.CERT.2026/0000001" {
		t.Errorf("number %q", res.Record.Protocol)
	}
	v, err := seal.VerifyPDF(res.PDF, d.Keys.Trust())
	if err != nil || !v.Valid || v.Claims == nil || v.Claims.Protocol != res.Record.Protocol {
		t.Errorf("sealed token: %+v %v", v, err)
	}
	st.Register.Code = "CERTANAG"
	res2, err := d.Issue(context.Background(), req)
	if err != nil || res2.Record.Protocol != "c_f205.A1B2C3D.CERTANAG.2026/0000002" {
		t.Errorf("after the change: %q %v", res2.Record.Protocol, err)
	}
	st.Register.AOO = ""
	if _, err := d.Issue(context.Background(), req); err == nil || !strings.Contains(err.Error(), "AOO code is not set") {
		t.Errorf("partly set codes: %v", err)
	}
}
