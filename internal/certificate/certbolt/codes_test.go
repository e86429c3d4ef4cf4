package certbolt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// TestIssueInRegister: a certificate issued in a register with codes
// carries the register's whole identifier in its record and its entry; a
// change of codes takes effect from the next number, which continues the
// year's sequence; partly set codes are refused before a number is
// reserved; and a record with such a number is purged by retention like
// any other (its number reads back).
func TestIssueInRegister(t *testing.T) {
	s, db := openStore(t, true)
	is := &issuer{}
	d := subject()
	regA := protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}
	regB := protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERTANAG"}
	ctx := context.Background()
	a, _, err := s.IssueIn(ctx, regA, at, Idempotency{}, "", is.build(d, request(certificate.Residenza), "op-1"))
	if err != nil || a.Protocol != "c_f205.A1B2C3D.CERT.2026/0000001" {
		t.Fatalf("first: %q %v", a.Protocol, err)
	}
	if _, _, err := s.IssueIn(ctx, protocol.Register{IPA: "c_f205", Code: "CERT"}, at, Idempotency{}, "", is.build(d, request(certificate.Residenza), "op-1")); !errors.Is(err, protocol.ErrRegister) {
		t.Errorf("partly set codes: %v", err)
	}
	b, _, err := s.IssueIn(ctx, regB, at.Add(time.Minute), Idempotency{}, "", is.build(d, request(certificate.Residenza), "op-1"))
	if err != nil || b.Protocol != "c_f205.A1B2C3D.CERTANAG.2026/0000002" {
		t.Fatalf("after the change: %q %v", b.Protocol, err)
	}
	if got, _ := s.Get(a.ID); got.Protocol != a.Protocol {
		t.Errorf("the number given before the change became %q", got.Protocol)
	}
	es, _ := s.ProtocolDay(protocol.DayOf(at))
	if len(es) != 2 || es[0].Number.Register != regA || es[1].Number.Register != regB || es[1].Number.String() != b.Protocol {
		t.Errorf("entries %+v", es)
	}
	r := Retention{DB: db}
	if n, err := r.PurgeRecords(at.AddDate(0, 0, 1), at.AddDate(3, 0, 0), 10); n != 2 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	if rs, _ := s.ByDay(protocol.DayOf(at)); len(rs) != 0 {
		t.Errorf("the day index still lists %d records", len(rs))
	}
}
