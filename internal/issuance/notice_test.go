package issuance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
)

// queueNotices is the hub's wiring of issuance.Notices to the queue, the
// notices' view of the issuing transaction.
type queueNotices struct {
	now func() time.Time
}

func (n queueNotices) Notice(tx store.Tx, in issuance.Notice) error {
	return tx.Notices().Enqueue(notify.Issued(in).Item(n.now()))
}

// household finds two living residents of one famiglia anagrafica.
func household(t *testing.T, d *issuancetest.Desk) (a, b *registry.Person) {
	t.Helper()
	resident := map[string]bool{}
	for _, cf := range d.Residents {
		resident[cf] = true
	}
	err := d.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, ok := p.ValidDocument(registry.DateOf(d.Now())); p.Family == 0 || !resident[p.CF] || !ok {
				return true, nil // a requester shows a valid document
			}
			if f, err := r.Family(p.Family); err != nil || f.Kind != registry.Famiglia {
				return true, err // a convivenza is not a household
			}
			ms, err := r.Members(p.Family)
			if err != nil {
				return false, err
			}
			for _, m := range ms {
				if m.ID != p.ID && resident[m.CF] {
					a, b = p, m
					return false, nil
				}
			}
			return true, nil
		})
	})
	if err != nil || a == nil {
		t.Fatalf("no household of two residents: %v", err)
	}
	return a, b
}

// A certificate about a household member obtained by another member queues
// one notice to the subject, in the issuing transaction; one about oneself
// queues none, and a replay does not queue a second.
func TestNoticeQueuedWithCertificate(t *testing.T) {
	d := issuancetest.New(t, 200, 5, now)
	q, err := notifybolt.New(d.Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	d.Notices = queueNotices{d.Now}
	requester, subject := household(t, d)
	err = d.Store.Update(context.Background(), func(w registry.Writer) error {
		p, err := w.PersonByCF(subject.CF)
		if err != nil {
			return err
		}
		p.Email = "subject@example.org"
		return w.PutPerson(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	op := issuance.Operator{ID: "op-1", Name: "Edicola Centrale"}
	self := issuance.Request{SubjectCF: requester.CF, Evidence: d.Evidence(t, requester.CF), Types: []string{"residenza"}, Channel: certificate.Counter, Operator: op, Actor: clerk, IdempotencyKey: "k0"}
	if _, err := d.Issue(context.Background(), self); err != nil {
		t.Fatal(err)
	}
	if items, _ := q.List(); len(items) != 0 {
		t.Fatalf("a certificate about oneself queued %d notices", len(items))
	}
	other := issuance.Request{SubjectCF: subject.CF, Evidence: d.Evidence(t, requester.CF), Types: []string{"residenza"}, Channel: certificate.Counter, Operator: op, Actor: clerk, IdempotencyKey: "k1"}
	res, err := d.Issue(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Issue(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	items, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d notices queued, want 1", len(items))
	}
	m := items[0].Message
	if items[0].ID != res.Record.ID || m.CF != subject.CF || m.Email != "subject@example.org" {
		t.Fatalf("notice %+v", items[0])
	}
	for _, want := range []string{requester.FullName(), "Edicola Centrale", res.Record.Protocol} {
		if !strings.Contains(m.Markdown, want) {
			t.Errorf("the notice does not say %q:\n%s", want, m.Markdown)
		}
	}
}
