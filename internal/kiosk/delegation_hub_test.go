package kiosk

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
)

// Issue 17's "a delegate obtains a certificate for the delegator and the
// delegator sees it", end to end through the signed client and the hub's
// real handler: the delegator gives a delegation at the self-service
// kiosk after CIE and PIN; someone outside their household, identified at
// a shop's counter by codice fiscale and document, obtains the
// delegator's residence certificate under it (and is refused another
// type); the delegator then sees the certificate and the delegation's use
// in their dossier and on the delegations screen, and has a notice queued
// that names the delegation. After the revocation the delegate is refused.
func TestDelegationThroughHub(t *testing.T) {
	ctx := context.Background()
	h := newRealHub(t)
	q, err := notifybolt.New(h.desk.Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	h.desk.Notices = issuance.QueueNotices{Now: h.desk.Now}
	// The delegate: an adult of another family with a valid document.
	var delegate *registry.Person
	var doc registry.Document
	h.desk.Store.View(ctx, func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			d, ok := p.ValidDocument(registry.DateOf(testNow))
			if _, res := p.CurrentResidence(); ok && res && p.Alive() && !p.AIRE && p.Family != h.who.Family && p.BirthDate.AgeAt(registry.DateOf(testNow)) >= 18 {
				delegate, doc = p, d
				return false, nil
			}
			return true, nil
		})
	})
	if delegate == nil {
		t.Fatal("no adult of another family with a document")
	}
	counterReq := func(key string, types ...string) api.CertificateRequest {
		return api.CertificateRequest{CF: h.who.CF, Types: types, Channel: api.ChannelCounter, IdempotencyKey: key,
			Requester: &api.RequesterEvidence{Method: api.EvidenceDocument, CF: delegate.CF, Document: doc.Number}}
	}
	if _, err := h.hub.C.IssueCertificate(ctx, counterReq("k0", "residenza")); !refusedWith(err, "not_requester_household") {
		t.Fatalf("before the delegation: %v", err)
	}

	r := newRig(t, SelfService)
	f, err := New(Config{Mode: SelfService, Shop: "Postazione Municipio 1"},
		Deps{Hub: h.hub, Reader: tapReader{t, h.cie.NIS, virtual.Genuine}, Printers: r.prn, Outbox: r.out, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	if err := f.ShowDelegations(ctx); err != nil {
		t.Fatal(err)
	}
	// To oneself: refused, with its sentence, on the same screen.
	if err := f.GiveDelegation(ctx, Delegation{DelegateCF: h.who.CF, Certificates: []string{"residenza"}, Until: "2027-03-31"}); err == nil ||
		f.View().Problem.Key != "hub_delegation_to_self" || f.View().Step != StepDelegations {
		t.Fatalf("a delegation to oneself: %v, problem %+v", err, f.View().Problem)
	}
	if err := f.GiveDelegation(ctx, Delegation{DelegateCF: delegate.CF, Certificates: []string{"residenza"}, Appointments: true, Until: "2027-03-31"}); err != nil {
		t.Fatalf("the delegation: %v (%+v)", err, f.View().Problem)
	}
	v := f.View()
	if v.Step != StepDelegations || v.Delegations == nil || len(v.Delegations.Given) != 1 || v.Delegations.Given[0].DelegateCF != delegate.CF {
		t.Fatalf("after giving it: step %s, %+v", v.Step, v.Delegations)
	}
	id := v.Delegations.Given[0].ID

	cert, err := h.hub.C.IssueCertificate(ctx, counterReq("k1", "residenza"))
	if err != nil {
		t.Fatalf("the delegate's certificate: %v", err)
	}
	if _, err := h.hub.C.IssueCertificate(ctx, counterReq("k2", "stato_civile")); !refusedWith(err, "delegation_out_of_scope") {
		t.Errorf("a type outside the delegation: %v", err)
	}

	if err := f.CloseRecords(); err != nil {
		t.Fatal(err)
	}
	if err := f.ShowDossier(ctx); err != nil {
		t.Fatalf("dossier: %v (%+v)", err, f.View().Problem)
	}
	d := f.View().Dossier
	found := false
	for _, c := range d.Certificates {
		if c.ID == cert.ID && c.Delegation == id && c.RequesterCF == delegate.CF {
			found = true
		}
	}
	if !found {
		t.Errorf("the dossier does not show certificate %s under delegation %s: %+v", cert.ID, id, d.Certificates)
	}
	if len(d.DelegationsGiven) != 1 || len(d.DelegationsGiven[0].Uses) != 1 || d.DelegationsGiven[0].Uses[0].Ref != cert.ID {
		t.Errorf("the dossier's delegations: %+v", d.DelegationsGiven)
	}
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	if s := Spoken(f.View(), cat, SpeakOptions{}); !strings.Contains(s.Title, h.who.Surname) || len(s.Lines) < 3 {
		t.Errorf("the dossier screen says: %+v", s)
	}
	items, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	notified := false
	for _, it := range items {
		if it.ID == "reminder/delegation-used/"+id+"/"+cert.ID && it.Message.CF == h.who.CF && strings.Contains(it.Message.Markdown, id) {
			notified = true
		}
	}
	if !notified {
		t.Errorf("no notice to the delegator naming the delegation: %+v", items)
	}

	if err := f.CloseRecords(); err != nil {
		t.Fatal(err)
	}
	if err := f.ShowDelegations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.RevokeDelegation(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st := f.View().Delegations.Given[0].State; st != "revocata" {
		t.Errorf("after the revocation the delegation is %q", st)
	}
	if _, err := h.hub.C.IssueCertificate(ctx, counterReq("k3", "residenza")); !refusedWith(err, "not_requester_household") {
		t.Errorf("after the revocation: %v", err)
	}
}

func refusedWith(err error, reason string) bool {
	r, ok := api.Refused(err)
	return ok && r.Reason == reason
}
