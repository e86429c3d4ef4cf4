package issuance_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
)

// A delegate obtains, at a counter, a certificate about a stranger to their
// household who delegated them for it: the record names the delegation,
// the delegation counts the use, the audit log has the act under both
// names and the delegator's notice says a delegation was used. A type the
// delegation does not cover is refused as out of scope, and after the
// revocation the household rule refuses again.
func TestDelegateObtainsCertificate(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	q, err := notifybolt.New(d.Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	d.Notices = issuance.QueueNotices{Now: d.Now}
	delegate, delegator := c.Requester, c.Stranger
	ev := d.Evidence(t, delegate)
	req := func(key string, types ...string) issuance.Request {
		r := counter(delegator, ev)
		r.Types, r.IdempotencyKey, r.Operator.Name = types, key, "Edicola Centrale"
		return r
	}
	_, err = d.Issue(ctx, req("k0", "residenza"))
	wantRefusal(t, "before any delegation", err, certificate.ReasonNotRequesterHousehold)

	var from *registry.Person
	if err := d.Store.View(ctx, func(r registry.Reader) (err error) { from, err = r.PersonByCF(delegator); return err }); err != nil {
		t.Fatal(err)
	}
	g, err := delegation.New(delegation.Grant{Delegator: from, DelegateCF: delegate, Scope: delegation.Scope{Certificates: []string{"residenza", "stato_di_famiglia"}},
		Until: registry.Date{Year: 2027, Month: 1, Day: 31}, Channel: "counter"}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Stores.Update(ctx, func(tx store.Tx) error { return tx.Delegations().Put(g) }); err != nil {
		t.Fatal(err)
	}

	res, err := d.Issue(ctx, req("k1", "residenza"))
	if err != nil {
		t.Fatalf("the delegate's request: %v", err)
	}
	if res.Record.DelegationID != g.ID || res.Record.RequesterCF != delegate || res.Record.SubjectCF != delegator {
		t.Errorf("record: delegation %q requester %q subject %q", res.Record.DelegationID, res.Record.RequesterCF, res.Record.SubjectCF)
	}
	if _, err := d.Issue(ctx, req("k1", "residenza")); err != nil {
		t.Fatalf("the replay: %v", err)
	}
	var uses []delegation.Use
	var got delegation.Delegation
	err = d.Stores.View(ctx, func(tx store.Tx) (err error) {
		if got, err = tx.Delegations().Get(g.ID); err != nil {
			return err
		}
		uses, err = tx.Delegations().Uses(g.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Uses != 1 || len(uses) != 1 || uses[0].Ref != res.Record.ID || uses[0].Place != "Edicola Centrale" {
		t.Errorf("after one certificate and its replay: %d uses counted, %+v", got.Uses, uses)
	}

	for _, who := range []struct{ cf, want string }{{delegator, "per delega " + g.ID}, {delegate, "atto per delega"}} {
		es, err := d.Audit.Search(audit.Query{Subject: who.cf}, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range es {
			if e.Request == res.Record.ID && strings.Contains(e.Purpose+" "+e.Data, who.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry of %s saying %q for %s: %+v", who.cf, who.want, res.Record.ID, es)
		}
	}
	items, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != "reminder/delegation-used/"+g.ID+"/"+res.Record.ID || items[0].Message.CF != delegator ||
		!strings.Contains(items[0].Message.Markdown, g.ID) {
		t.Errorf("the delegator's notices: %+v", items)
	}

	// A delegator who turned these reminders off is not told of the next
	// use, which is still recorded.
	err = d.Stores.Update(ctx, func(tx store.Tx) error {
		return tx.Reminders().SetPreference(delegator, reminder.DelegationUsed, reminder.None, "citizen:test", now)
	})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := d.Issue(ctx, req("k1b", "stato_di_famiglia"))
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := q.List(); len(items) != 1 {
		t.Errorf("after choosing no reminders of delegations' use: %d notices, want still 1", len(items))
	}
	if res2.Record.DelegationID != g.ID {
		t.Errorf("second certificate under delegation %q", res2.Record.DelegationID)
	}

	_, err = d.Issue(ctx, req("k2", "stato_civile"))
	wantRefusal(t, "a type the delegation does not cover", err, delegation.ReasonOutOfScope)

	if err := d.Stores.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Delegations().Revoke(g.ID, now, "self_service:"+delegator)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, err = d.Issue(ctx, req("k3", "residenza"))
	wantRefusal(t, "after the revocation", err, certificate.ReasonNotRequesterHousehold)
	var fe *fault.Error
	if errors.As(err, &fe) {
		t.Errorf("the refusal is a fault %v, want the certificate refusal", fe)
	}
}
