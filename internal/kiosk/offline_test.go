package kiosk

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/outbox"
)

// offlineRig is a kiosk whose sales go through the real outbox, delivered
// to the fake hub by the outbox's own sender.
func offlineRig(t *testing.T, mode Mode) (*rig, *outbox.Outbox) {
	t.Helper()
	r := newRig(t, mode)
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	cfg := Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
	r.flow, err = New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: &Queue{Outbox: ob, Hub: r.hub, Payments: r.pay}, Journal: r.journal, Clock: r.clock,
		Payments: r.pay})
	if err != nil {
		t.Fatal(err)
	}
	return r, ob
}

func wantProblem(t *testing.T, what string, err error, key string) {
	t.Helper()
	var p *Problem
	if !errors.As(err, &p) || p.Key != key {
		t.Fatalf("%s: %v, want the problem %s", what, err, key)
	}
}

// TestNewCustomerServedOffline: with the hub unreachable, a customer the
// hub was never asked about is identified at the counter by codice fiscale
// and a document number the kiosk checks itself; they may ask only for
// themselves and only for the types every resident can have; the request
// is queued with its evidence and a claim receipt saying the certificate
// waits for the Comune to confirm the identity. When the hub returns the
// outbox's sender delivers it, evidence and all, and the certificate and
// its receipt are spooled. Before, the look-up's failure ended the visit.
func TestNewCustomerServedOffline(t *testing.T) {
	ctx := context.Background()
	r, ob := offlineRig(t, Operator)
	if err := r.logIn(); err != nil {
		t.Fatal(err)
	}
	r.hub.offline = true
	wantProblem(t, "a mistyped document", r.flow.IdentifyByCF(ctx, cfOther, "CA1234AB"), "offline_document_format")
	if err := r.flow.IdentifyByCF(ctx, cfOther, " cb98765xy "); err != nil {
		t.Fatalf("IdentifyByCF offline: %v", err)
	}
	r.step(t, StepChoose)
	v := r.flow.View()
	if v.Person.Provisional != api.EvidenceDocument || v.Person.CF != cfOther || len(v.Person.Family) != 0 || v.Subject != cfOther {
		t.Errorf("person %+v, subject %q: want a provisional person, no family", v.Person, v.Subject)
	}
	if want := OfflineTypes(certificate.Types()); !slices.Equal(v.Types, want) || slices.Contains(v.Types, certificate.StatoLibero) {
		t.Errorf("types offered offline %v, want %v", v.Types, want)
	}
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	if said := Spoken(v, cat, SpeakOptions{}).Text(cat); !strings.Contains(said, "Nuovo cliente") || !strings.Contains(said, cfOther) {
		t.Errorf("speech mode reads the offline choice as %q", said)
	}
	wantProblem(t, "someone else", r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}), "offline_self_only")
	wantProblem(t, "stato libero", r.flow.Choose(Choice{SubjectCF: cfOther, Types: []certificate.Type{certificate.StatoLibero}}), "offline_type_not_allowed")
	if err := r.flow.Choose(Choice{SubjectCF: cfOther, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatalf("Confirm offline: %v", err)
	}
	v = r.flow.View()
	if v.Result == nil || v.Result.Claim == "" || len(r.prn.claims) != 1 {
		t.Fatalf("result %+v, %d claim receipts: want a claim code printed", v.Result, len(r.prn.claims))
	}
	if c := r.prn.claims[0]; !c.IdentityPending || c.Code != v.Result.Claim {
		t.Errorf("claim receipt %+v: want it to say the identity is to be confirmed", c)
	}
	if len(r.hub.issued) != 0 {
		t.Fatal("issued while the hub was away")
	}
	// The customer leaves; the hub comes back; the sender delivers.
	r.flow.Next()
	r.hub.offline = false
	if _, err := ob.NewSender(Deliverer(r.hub, r.flow.Render()), outbox.SenderOptions{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.hub.issued) != 1 {
		t.Fatalf("%d requests reached the hub, want 1", len(r.hub.issued))
	}
	got := r.hub.issued[0]
	if got.SubjectCF != cfOther || got.Requester == nil || got.Requester.Method != api.EvidenceDocument ||
		got.Requester.CF != cfOther || got.Requester.Document != "CB98765XY" || got.Channel != certificate.Counter {
		t.Errorf("the hub got %+v (requester %+v): want the evidence the counter checked", got, got.Requester)
	}
	if jobs, _ := ob.Jobs(); len(jobs) != 2 {
		t.Errorf("%d jobs spooled after delivery, want the certificate and its receipt", len(jobs))
	}
	c, err := r.flow.deps.Outbox.Lookup(ctx, v.Result.Claim)
	if err != nil || c.State != ClaimIssued {
		t.Errorf("claim %s after delivery: %+v %v", v.Result.Claim, c, err)
	}
}

// TestNewCustomerServedOfflineByCIE: in self-service a new customer taps
// the CIE (its chip verified by the reader) and types the PIN while the
// hub is away: served for themselves, the request carries no codice
// fiscale (the hub takes the tap's person) and the tap with the PIN
// proved; delivered once the hub is back.
func TestNewCustomerServedOfflineByCIE(t *testing.T) {
	ctx := context.Background()
	r, ob := offlineRig(t, SelfService)
	r.reader.nis = "099999999999"
	r.hub.offline = true
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatalf("EnterPIN offline: %v", err)
	}
	r.step(t, StepChoose)
	v := r.flow.View()
	if v.Person.Provisional != api.EvidenceCIE || v.Person.CF != "" || v.Person.NIS != "099999999999" || !strings.HasSuffix(v.Subject, "9999") {
		t.Errorf("person %+v, subject %q", v.Person, v.Subject)
	}
	if err := r.flow.Choose(Choice{Types: []certificate.Type{certificate.StatoDiFamiglia}}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatalf("Confirm offline: %v", err)
	}
	// Self-service: nothing paid yet, collected here with the code and
	// the card once the Comune confirmed it (collect.go).
	if len(r.prn.claims) != 1 || !r.prn.claims[0].Collect {
		t.Fatalf("claim receipts %+v", r.prn.claims)
	}
	r.flow.Next()
	r.hub.offline = false
	if _, err := ob.NewSender(SelfServiceDeliverer(r.hub, r.pay, nil), outbox.SenderOptions{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// The hub confirms it by making its payment; nothing is issued
	// before it is paid.
	if len(r.pay.created) != 1 || len(r.hub.issued) != 0 {
		t.Fatalf("%d payments asked, %d requests issued: want the payment alone", len(r.pay.created), len(r.hub.issued))
	}
	got := r.pay.created[0]
	if got.SubjectCF != "" || got.Requester == nil || got.Requester.Method != api.EvidenceCIE || got.Requester.NIS != "099999999999" ||
		!got.Requester.PINProved || len(got.Requester.Response) == 0 || got.Channel != certificate.SelfService {
		t.Errorf("the hub got %+v (requester %+v): want the tap, PIN proved, no subject", got, got.Requester)
	}
}

// TestOfflineProblemsHaveSentences: every refusal of the offline
// identification reads as a sentence in both languages.
func TestOfflineProblemsHaveSentences(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"offline_document_format", "offline_no_types", "offline_self_only", "offline_type_not_allowed"} {
		for _, l := range Langs {
			if !cat.Has(l, key) {
				t.Errorf("%s has no %s sentence", key, l)
			}
		}
	}
	for _, ok := range []string{"CA12345AB", "AA1234567", "YA7654321", "U1A123456B", "MI1234567A"} {
		if err := CheckDocumentNumber(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "CA1234AB", "12345", "CA12345A", "CA 12345AB", "ca12345ab"} {
		if CheckDocumentNumber(bad) == nil {
			t.Errorf("%q taken for a document number", bad)
		}
	}
}

// TestNewCustomerNotConfirmed: when the hub, back, does not confirm the
// identity the counter checked offline (a document the registry does not
// hold for that codice fiscale), nothing is issued: the request is set
// aside for the operator with the hub's reason, and the claim code tells
// the returning citizen it was refused and that the amount is theirs.
func TestNewCustomerNotConfirmed(t *testing.T) {
	ctx := context.Background()
	r, ob := offlineRig(t, Operator)
	if err := r.logIn(); err != nil {
		t.Fatal(err)
	}
	r.hub.offline = true
	if err := r.flow.IdentifyByCF(ctx, cfOther, "CB98765XY"); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfOther, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	claim := r.flow.View().Result.Claim
	r.flow.Next()
	r.hub.offline = false
	r.hub.refuse = &Refusal{Status: 403, Reason: api.ReasonIdentificationFailed, Message: "the requester could not be identified"}
	if _, err := ob.NewSender(Deliverer(r.hub, r.flow.Render()), outbox.SenderOptions{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := ob.Stats(); st.Refused != 1 || st.Pending != 0 {
		t.Errorf("outbox %+v: want the request set aside for the operator", st)
	}
	if len(r.hub.issued) != 0 {
		t.Errorf("issued %d", len(r.hub.issued))
	}
	if err := r.flow.Redeem(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Step != StepClaim || v.Claimed.State != ClaimRefused || v.Claimed.Reason != api.ReasonIdentificationFailed {
		t.Errorf("the claim code after the refusal: step %s, %+v", v.Step, v.Claimed)
	}
	if err := r.flow.Back(); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.ShowSummary(); err != nil {
		t.Fatal(err)
	}
	if s := r.flow.View().Summary; s.Refused != 1 || s.RefusedCents == 0 || s.Collected != 0 {
		t.Errorf("the day's account: %+v, want the amount to give back", s)
	}
}
