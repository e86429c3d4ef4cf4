package issuance_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
)

// widowed finds, in the desk's seeded city, a deceased person and a living
// adult who lived in the same famiglia on the day of the death and holds a
// valid document: the survivor who asks for the death certificate.
func widowed(t *testing.T, d *issuancetest.Desk) (dead, survivor *registry.Person) {
	t.Helper()
	today := registry.DateOf(now)
	err := d.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if p.Alive() {
				return true, nil
			}
			m, ok := p.MembershipOn(p.DeathDate)
			if !ok {
				return true, nil
			}
			members, err := r.Members(m.Family)
			if err != nil {
				return false, err
			}
			for _, o := range members {
				om, ok := o.MembershipOn(p.DeathDate)
				_, doc := o.ValidDocument(today)
				if ok && om.Family == m.Family && doc && o.BirthDate.AgeAt(today) >= 18 {
					dead, survivor = p, o
					return false, nil
				}
			}
			return true, nil
		})
	})
	if err != nil || dead == nil {
		t.Fatalf("the synthetic city has no deceased person with a surviving member of their famiglia (%v)", err)
	}
	return dead, survivor
}

// TestMorteAtTheCounter: the survivor who lived with the deceased obtains
// the death certificate at a counter, sealed so that it verifies; a
// stranger is refused as for anyone outside their household; a living
// subject is refused; refusals use no protocol number.
func TestMorteAtTheCounter(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	dead, survivor := widowed(t, d)
	req := counter(dead.CF, d.Evidence(t, survivor.CF))
	req.Types = []string{"morte"}
	res, err := d.Issue(ctx, req)
	if err != nil {
		t.Fatalf("the survivor %s asking for the death certificate of %s: %v", survivor.CF, dead.CF, err)
	}
	if res.Record.Title != "CERTIFICATO DI MORTE" || !strings.Contains(factOf(res.Record, "morte"), dead.DeathDate.Italian()) {
		t.Errorf("record %q with facts %+v", res.Record.Title, res.Record.Facts)
	}
	if v, err := seal.VerifyPDF(res.PDF, d.Keys.Trust()); err != nil || !v.Valid {
		t.Errorf("the death certificate does not verify: %v %+v", err, v.Checks)
	}
	first := res.Record.Protocol

	stranger := counter(dead.CF, d.Evidence(t, c.Stranger))
	stranger.Types = []string{"morte"}
	_, err = d.Issue(ctx, stranger)
	wantRefusal(t, "a stranger asking for a death certificate", err, certificate.ReasonNotRequesterHousehold)
	alive := counter(c.Requester, d.Evidence(t, c.Requester))
	alive.Types = []string{"morte"}
	_, err = d.Issue(ctx, alive)
	wantRefusal(t, "a death certificate of a living person", err, certificate.ReasonNotDeceased)

	next, err := d.Issue(ctx, counter(c.Requester, d.Evidence(t, c.Requester)))
	if err != nil {
		t.Fatal(err)
	}
	if want := nextProtocol(t, first); next.Record.Protocol != want {
		t.Errorf("after two refusals the next number is %s, want %s", next.Record.Protocol, want)
	}
}

// TestHistoricalAtTheDesk: the two historical certificates issue at a date
// and verify; a missing, future or too early date is refused with its
// reason and uses no protocol number.
func TestHistoricalAtTheDesk(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	var subject *registry.Person
	if err := d.Store.View(ctx, func(r registry.Reader) error {
		p, err := r.PersonByCF(c.Requester)
		subject = p
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(subject.Memberships) == 0 {
		t.Fatalf("%s has no family history in the synthetic city", subject.CF)
	}
	at := subject.Memberships[0].From
	ev := d.Evidence(t, c.Requester)
	ask := func(typ string, at registry.Date) (issuance.Result, error) {
		req := counter(c.Requester, ev)
		req.Types, req.At = []string{typ}, at
		return d.Issue(ctx, req)
	}
	var last string
	for _, typ := range []string{"residenza_storica", "stato_di_famiglia_storico"} {
		res, err := ask(typ, at)
		if err != nil {
			t.Fatalf("%s at %s: %v", typ, at, err)
		}
		if v, err := seal.VerifyPDF(res.PDF, d.Keys.Trust()); err != nil || !v.Valid {
			t.Errorf("%s does not verify: %v %+v", typ, err, v.Checks)
		}
		if factOf(res.Record, "data_di_riferimento") != at.Italian() {
			t.Errorf("%s seals the date %q, want %s", typ, factOf(res.Record, "data_di_riferimento"), at.Italian())
		}
		last = res.Record.Protocol
	}
	dayBefore := registry.DateOf(at.Time().AddDate(0, 0, -1))
	for _, c := range []struct {
		typ    string
		at     registry.Date
		reason string
	}{
		{"stato_di_famiglia_storico", dayBefore, certificate.ReasonDateBeforeRecords},
		{"residenza_storica", registry.Date{}, certificate.ReasonDateRequired},
		{"residenza_storica", registry.DateOf(now.AddDate(0, 0, 2)), certificate.ReasonDateInFuture},
		{"residenza", at, certificate.ReasonDateNotAllowed},
	} {
		_, err := ask(c.typ, c.at)
		wantRefusal(t, c.typ+" at "+c.at.String(), err, c.reason)
	}
	res, err := ask("residenza", registry.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if want := nextProtocol(t, last); res.Record.Protocol != want {
		t.Errorf("after the refusals the next number is %s, want %s", res.Record.Protocol, want)
	}
}

func factOf(rec certificate.Record, key string) string {
	for _, f := range rec.Facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// nextProtocol is the register number after p, in the same form.
func nextProtocol(t *testing.T, p string) string {
	t.Helper()
	i := strings.LastIndexAny(p, "/-")
	digits := p[i+1:]
	n := 0
	for _, r := range digits {
		if r < '0' || r > '9' {
			t.Fatalf("protocol %q does not end in its number", p)
		}
		n = n*10 + int(r-'0')
	}
	s := strings.Repeat("0", len(digits)) + strconv.Itoa(n+1)
	return p[:i+1] + s[len(s)-len(digits):]
}
