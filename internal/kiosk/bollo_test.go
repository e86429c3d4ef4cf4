package kiosk

import (
	"errors"
	"slices"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
)

// TestContrassegnoFromScan: what a USB barcode reader types (an AIM
// symbology prefix, the digits, Enter) or a clerk types with spaces is
// reduced to the identifier's digits.
func TestContrassegnoFromScan(t *testing.T) {
	for in, want := range map[string]string{
		"01234567890123":        "01234567890123",
		"]C001234567890123\r\n": "01234567890123",
		" 0123 4567 8901 23 ":   "01234567890123",
		"0123-456789-0123\n":    "01234567890123",
		"":                      "",
	} {
		if got := ContrassegnoFromScan(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestCounterContrassegnoAndUse: at a counter the scanned marca and the
// declared use reach the hub with the request and the preview states the
// bollo paid by the marca; a self-service kiosk refuses a marca and offers
// only the exemptions a person may claim there.
func TestCounterContrassegnoAndUse(t *testing.T) {
	r := newRig(t, Operator)
	if err := r.logIn(); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(r.flow.View().Exempt, func(x fees.Reason) bool { return x.Code == 10 || x.Code == 4 }) {
		t.Errorf("the counter offers exemptions only the registry office grants: %v", r.flow.View().Exempt)
	}
	err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Use: "giudiziario"})
	var p *Problem
	if !errors.As(err, &p) || p.Key != "fee_"+certificate.ReasonUseConflictsExemption {
		t.Fatalf("court use in bollo: %v", err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Contrassegno: "]C001234567890123\n", Use: "estero"}); err != nil {
		t.Fatal(err)
	}
	v := r.flow.View()
	if v.Preview.Contrassegno != "01234567890123" || v.Preview.Lines[0].Contrassegno != "01234567890123" || v.Preview.Lines[0].Cents != fees.BolloCents {
		t.Errorf("preview %+v", v.Preview)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.hub.issued) != 1 || r.hub.issued[0].Contrassegno != "01234567890123" || r.hub.issued[0].Use != "estero" {
		t.Errorf("hub got %+v", r.hub.issued)
	}

	s := newRig(t, SelfService)
	if err := s.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	err = s.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Contrassegno: "01234567890123"})
	if !errors.As(err, &p) || p.Key != "fee_"+certificate.ReasonContrassegnoNotAtCounter {
		t.Errorf("marca at self-service: %v", err)
	}
}

// TestSummaryContrassegno: the day's account does not count a bollo paid
// by a marca the shop sold as owed to the State through the city.
func TestSummaryContrassegno(t *testing.T) {
	b, err := certificate.Fees(certificate.FeeRequest{Types: []certificate.Type{certificate.Residenza}, ServiceCents: 150, Channel: certificate.Counter, Contrassegno: "01234567890123"}, certificate.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarise(testNow, []Sale{{Time: testNow, Protocol: "2026/0000001", Types: []string{"residenza"}, Fees: b.Lines, Total: b.TotalCents}})
	if s.State != 0 || s.Contrassegno != fees.BolloCents || s.City != fees.DirittiCents || s.Shop != 150 || s.Collected != b.TotalCents {
		t.Errorf("summary %+v", s)
	}
}
