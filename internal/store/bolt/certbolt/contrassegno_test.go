package certbolt

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// withMarca makes build's certificate carry contrassegno id.
func withMarca(id string, build func(protocol.Number, time.Time) (*Built, error)) func(protocol.Number, time.Time) (*Built, error) {
	return func(n protocol.Number, at time.Time) (*Built, error) {
		b, err := build(n, at)
		if b != nil {
			b.Record.Contrassegno = id
		}
		return b, err
	}
}

// TestContrassegnoOnce: a contrassegno is stored with its certificate and
// refused on a second one before any number is reserved; the check in the
// issuing transaction refuses it too (another process that passed the
// first check meanwhile), and the number goes back.
func TestContrassegnoOnce(t *testing.T) {
	s, db := openStore(t, true)
	is := &issuer{}
	d := subject()
	const marca = "01234567890123"
	first, _, err := s.IssueWithContrassegno(context.Background(), at, Idempotency{}, marca, withMarca(marca, is.build(d, request(certificate.Residenza), "op-1")))
	if err != nil || first.Contrassegno != marca {
		t.Fatalf("%+v %v", first, err)
	}
	if owner, err := s.ContrassegnoUsedBy(marca); err != nil || owner != first.ID {
		t.Errorf("owner %q %v", owner, err)
	}
	built := false
	_, _, err = s.IssueWithContrassegno(context.Background(), at, Idempotency{}, marca, func(n protocol.Number, t time.Time) (*Built, error) {
		built = true
		return withMarca(marca, is.build(d, request(certificate.Residenza), "op-1"))(n, t)
	})
	if r, ok := certificate.AsRefusal(err); !ok || r.Reason != certificate.ReasonContrassegnoUsed || built {
		t.Fatalf("second use: %v (built %v)", err, built)
	}
	// Another process on the file would pass its own claim while the
	// first issuance is in flight, so only the transaction can refuse:
	// commit a prepared issuance without the claim.
	other, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	n, stamped, err := other.numbers.Reserve(at)
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(n, stamped, Idempotency{}, withMarca(marca, is.build(d, request(certificate.Residenza), "op-1")))
	if err != nil {
		t.Fatal(err)
	}
	err = other.group.commit(db, p)
	if r, ok := certificate.AsRefusal(err); !ok || r.Reason != certificate.ReasonContrassegnoUsed {
		t.Fatalf("in the transaction: %v", err)
	}
	if _, err := other.numbers.Abandon(n, "test", ""); err != nil {
		t.Fatal(err)
	}
	next, _, err := s.Issue(context.Background(), at, Idempotency{}, is.build(d, request(certificate.StatoDiFamiglia), "op-1"))
	if err != nil || next.Protocol != "2026/0000002" {
		t.Errorf("next %s %v", next.Protocol, err)
	}
}
