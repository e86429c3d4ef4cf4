package certbolt

import (
	"context"
	"errors"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

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
	// Found by the whole number, or the bare year and progressive; not by
	// the same progressive under other codes, another register's number.
	for _, scan := range []bool{false, true} {
		if scan { // a file whose search index is not built: the look-up scans
			if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketProtocols) }); err != nil {
				t.Fatal(err)
			}
		}
		// A clerk typing the printed number in capitals finds it too: the
		// codes identify the register whatever their case.
		for number, want := range map[string]string{a.Protocol: a.ID, "C_F205.A1B2C3D.CERT.2026/0000001": a.ID, "2026/0000002": b.ID, b.Protocol: b.ID, "c_f205.A1B2C3D.REG_UFF.2026/0000001": "", "c_f205.A1B2C3D.CERTANAG.2026/0000001": ""} {
			n, err := protocol.ParseNumber(number)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.ByProtocol(n)
			if want == "" && !errors.Is(err, ErrNotFound) || want != "" && (err != nil || got.ID != want) {
				t.Errorf("scan %v: ByProtocol(%s) = %s, %v; want %q", scan, number, got.ID, err, want)
			}
		}
	}
	r := Retention{DB: db}
	if n, err := r.PurgeRecords(at.AddDate(0, 0, 1), at.AddDate(3, 0, 0), 10); n != 2 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	if rs, _ := s.ByDay(protocol.DayOf(at)); len(rs) != 0 {
		t.Errorf("the day index still lists %d records", len(rs))
	}
}
