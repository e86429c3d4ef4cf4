package desk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// TestDelegateFilesWithinScope: a delegate files, for the delegator, the
// request kinds the delegation names and no other; the request is the
// delegator's, recorded under both names (the delegation's use, the
// delegate's audit entry, the history) and the delegator is notified. A
// person with no delegation, or a revoked one, files nothing for another.
func TestDelegateFilesWithinScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	var q *registry.Person
	for _, cf := range f.iss.Identifiable(t, 60) {
		c := f.person(cf)
		if c.Family != p.Family && c.BirthDate.AgeAt(registry.DateOf(now)) >= 25 {
			q = c
			break
		}
	}
	if q == nil {
		t.Fatal("no adult outside the delegator's famiglia")
	}
	g := delegation.Delegation{ID: "D00000000000000A1", DelegatorCF: p.CF, DelegatorName: p.FullName(), DelegateCF: q.CF,
		Scope: delegation.Scope{Requests: []string{string(request.Historical)}}, Until: registry.DateOf(now.AddDate(0, 2, 0)), Created: now, Channel: "office"}
	if err := f.desk.Stores.Update(ctx, func(tx store.Tx) error { return tx.Delegations().Put(g) }); err != nil {
		t.Fatal(err)
	}
	historical := func(by string) request.Form {
		return request.Form{Historical: &request.HistoricalForm{SubjectCF: p.CF, What: "residenza", Purpose: "pratica di successione"}}
	}
	fl := f.counter(q.CF)
	fl.Kind, fl.Form, fl.ForCF = request.Historical, historical(q.CF), p.CF
	rec, _, err := f.desk.File(ctx, fl)
	if err != nil {
		t.Fatalf("the delegate's filing within scope: %v", err)
	}
	if rec.RequesterCF != p.CF || rec.DelegateCF != q.CF || rec.DelegationID != g.ID || !strings.Contains(rec.History[0].Note, q.CF) {
		t.Errorf("filed as requester %s, delegate %s, delegation %s, history %q", rec.RequesterCF, rec.DelegateCF, rec.DelegationID, rec.History[0].Note)
	}
	var uses []delegation.Use
	err = f.desk.Stores.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses(g.ID); return err })
	if err != nil || len(uses) != 1 || uses[0].Ref != rec.Protocol {
		t.Fatalf("the delegation's uses: %+v (%v)", uses, err)
	}
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Subject: q.CF}, 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, e := range es {
		seen = seen || e.Request == rec.ID && strings.Contains(e.Data, p.CF)
	}
	if !seen {
		t.Errorf("no audit entry under the delegate's name for request %s", rec.ID)
	}
	r := reminder.Reminder{Kind: reminder.DelegationUsed, Key: g.ID + "/" + rec.ID}
	if it, err := store.NoticesOf(f.desk.Stores).Get(r.ID()); err != nil || it.Message.CF != p.CF {
		t.Errorf("the delegator's notice %s: %+v (%v)", r.ID(), it, err)
	}

	// Beyond scope: a correction is not delegated.
	out := f.counter(q.CF)
	out.Kind, out.ForCF = request.Correction, p.CF
	out.Files = []request.File{{Name: "documento.pdf", Data: []byte("%PDF-1.7 documento")}}
	out.Form = request.Form{Correction: &request.CorrectionForm{SubjectCF: p.CF, Field: request.FieldEmail, Correct: "x@example.org", Reason: "cambiato"}}
	if _, _, err := f.desk.File(ctx, out); reason(err) != delegation.ReasonOutOfScope {
		t.Errorf("a correction under a delegation for historical certificates: %v, want %s", err, delegation.ReasonOutOfScope)
	}
	// No delegation at all: the delegator's own household member is not
	// enough, a stranger even less.
	var stranger string
	for _, cf := range f.iss.Identifiable(t, 60) {
		if c := f.person(cf); cf != q.CF && cf != p.CF && c.Family != p.Family && c.BirthDate.AgeAt(registry.DateOf(now)) >= 25 {
			stranger = cf
			break
		}
	}
	none := f.counter(stranger)
	none.Kind, none.Form, none.ForCF = request.Historical, historical(stranger), p.CF
	if _, _, err := f.desk.File(ctx, none); reason(err) != delegation.ReasonNotFound {
		t.Errorf("a filing for another without a delegation: %v, want %s", err, delegation.ReasonNotFound)
	}
	// Revoked: refused, and no further use recorded.
	if err := f.desk.Stores.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke(g.ID, now, "citizen"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.desk.File(ctx, fl); reason(err) != delegation.ReasonNotFound {
		t.Errorf("a filing under a revoked delegation: %v, want %s", err, delegation.ReasonNotFound)
	}
	err = f.desk.Stores.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses(g.ID); return err })
	if err != nil || len(uses) != 1 {
		t.Errorf("uses after the refusals: %d (%v), want 1", len(uses), err)
	}
}
