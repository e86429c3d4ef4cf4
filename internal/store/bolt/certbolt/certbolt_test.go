package certbolt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

func openStore(t testing.TB, noSync bool) (*Store, *bbolt.DB) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, &bbolt.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func mustDate(s string) registry.Date { d, _ := registry.ParseDate(s); return d }

func subject() *certificate.SubjectData {
	res := registry.Residence{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"}, From: mustDate("2010-01-01")}
	p := &registry.Person{ID: 1, CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
		BirthDate: mustDate("1950-02-17"), BirthPlace: "F205", Citizenships: []string{registry.Italy},
		CivilStatus: registry.Single, Family: 1, Relationship: registry.Head, Residences: []registry.Residence{res}}
	return &certificate.SubjectData{Person: p, Family: &registry.Family{ID: 1, Kind: registry.Famiglia},
		Members: []*registry.Person{p}, Others: map[registry.PersonID]*registry.Person{}}
}

var names = places.Default()

// issuer plays the lead's handler: rules, fees, compose, a stand-in PDF.
type issuer struct {
	seq  int
	fail error // returned by the renderer when set
}

// build returns the renderer of a certificate, dated when its number is
// registered.
func (is *issuer) build(d *certificate.SubjectData, req certificate.Request, op string) func(protocol.Number, time.Time) (*Built, error) {
	return func(n protocol.Number, stamped time.Time) (*Built, error) {
		types, err := certificate.Check(d, req)
		if err != nil {
			return nil, err
		}
		b, err := certificate.Fees(certificate.FeeRequest{Types: types, ServiceCents: 200, Channel: certificate.Counter}, certificate.Policy{})
		if err != nil {
			return nil, err
		}
		is.seq++
		doc, err := certificate.Compose(d, types, names, certificate.Issue{ID: fmt.Sprintf("id%014d", is.seq), Protocol: n.String(), Issued: stamped, Fees: b})
		if err != nil {
			return nil, err
		}
		if is.fail != nil {
			return nil, is.fail
		}
		pdf, _ := json.Marshal(doc) // stands in for the rendered, signed PDF
		return &Built{Record: certificate.NewRecord(doc, d, req, op, b), PDF: pdf}, nil
	}
}

func request(types ...certificate.Type) certificate.Request {
	return certificate.Request{Types: types, Channel: certificate.Counter, Now: time.Now(),
		Requester: certificate.Requester{CF: "VRDLGU70A01F205Z"}}
}

var at = time.Date(2026, 11, 23, 10, 0, 0, 0, protocol.Rome)

func TestIssue(t *testing.T) {
	s, _ := openStore(t, true)
	is := &issuer{}
	d := subject()
	rec, replayed, err := s.Issue(context.Background(), at, Idempotency{"k1", "h1"}, is.build(d, request(certificate.Residenza), "op-1"))
	if err != nil || replayed {
		t.Fatalf("%v %v", err, replayed)
	}
	if rec.Protocol != "2026/0000001" || rec.Status != certificate.Valid || rec.TotalCents != 1852 || len(rec.Fees) != 3 ||
		rec.OperatorID != "op-1" || rec.Requester != certificate.RequesterOther || rec.SubjectCF != d.Person.CF {
		t.Errorf("record %+v", rec)
	}
	pdf, err := s.PDF(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != rec.DocSHA256 {
		t.Error("stored hash is not the PDF's")
	}
	es, _ := s.ProtocolDay(protocol.DayOf(at))
	if len(es) != 1 || es[0].Ref != rec.ID || hex.EncodeToString(es[0].DocSHA256[:]) != rec.DocSHA256 || es[0].Direction != protocol.Outgoing {
		t.Errorf("protocol %+v", es)
	}
	got, err := s.Get(rec.ID)
	if err != nil || got.Protocol != rec.Protocol || len(got.Facts) != 3 {
		t.Errorf("Get: %+v %v", got, err)
	}

	// A second certificate by the office (no operator), the next day.
	next := at.Add(24 * time.Hour)
	office := request(certificate.StatoDiFamiglia)
	office.Channel = certificate.Office
	rec2, _, err := s.Issue(context.Background(), next, Idempotency{}, is.build(d, office, ""))
	if err != nil || rec2.Protocol != "2026/0000002" {
		t.Fatalf("%+v %v", rec2, err)
	}
	if rs, _ := s.ByDay(protocol.DayOf(at)); len(rs) != 1 || rs[0].ID != rec.ID {
		t.Errorf("ByDay: %v", rs)
	}
	if rs, _ := s.ByOperator("op-1", protocol.DayOf(at), protocol.DayOf(next)); len(rs) != 1 || rs[0].ID != rec.ID {
		t.Errorf("ByOperator: %v", rs)
	}
	if rs, _ := s.ByOperator("op-1", protocol.DayOf(next), protocol.DayOf(next)); len(rs) != 0 {
		t.Errorf("ByOperator of a day without: %v", rs)
	}
	if rs, _ := s.ByOperator("op", protocol.DayOf(at), protocol.DayOf(next)); len(rs) != 0 {
		t.Errorf("an operator id prefix matched: %v", rs)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	s, _ := openStore(t, true)
	is := &issuer{}
	d := subject()
	first, _, err := s.Issue(context.Background(), at, Idempotency{"key", "hash-a"}, is.build(d, request(certificate.Residenza), "op-1"))
	if err != nil {
		t.Fatal(err)
	}
	called := false
	again, replayed, err := s.Issue(context.Background(), at.Add(time.Minute), Idempotency{"key", "hash-a"}, func(protocol.Number, time.Time) (*Built, error) {
		called = true
		return nil, errors.New("must not build")
	})
	if err != nil || !replayed || called || again.ID != first.ID || again.Protocol != first.Protocol {
		t.Fatalf("replay: %+v %v %v called=%v", again, replayed, err, called)
	}
	_, _, err = s.Issue(context.Background(), at, Idempotency{"key", "hash-b"}, is.build(d, request(certificate.StatoDiFamiglia), "op-1"))
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.ID != first.ID || !errors.Is(err, ErrIdempotency) {
		t.Fatalf("conflict: %v", err)
	}
	// Neither the replay nor the conflict used a number.
	rec, _, err := s.Issue(context.Background(), at, Idempotency{"other", "hash-b"}, is.build(d, request(certificate.StatoDiFamiglia), "op-1"))
	if err != nil || rec.Protocol != "2026/0000002" {
		t.Errorf("next issuance: %s %v", rec.Protocol, err)
	}
}

func TestFailedIssuanceLeavesNothing(t *testing.T) {
	s, db := openStore(t, true)
	d := subject()
	cases := []struct {
		name  string
		build func(protocol.Number, time.Time) (*Built, error)
		check func(error) bool
	}{
		{"refusal", (&issuer{}).build(d, request(certificate.ResidenzaAIRE), "op-1"),
			func(err error) bool { _, ok := certificate.AsRefusal(err); return ok }},
		{"render failure", (&issuer{fail: errors.New("font missing")}).build(d, request(certificate.Residenza), "op-1"),
			func(err error) bool { return err != nil && err.Error() == "font missing" }},
		{"wrong protocol on the document", func(n protocol.Number, stamped time.Time) (*Built, error) {
			b, err := (&issuer{}).build(d, request(certificate.Residenza), "op-1")(n, stamped)
			b.Record.Protocol = "2026/0000999"
			return b, err
		}, func(err error) bool { return err != nil }},
		{"no document", func(n protocol.Number, stamped time.Time) (*Built, error) {
			b, err := (&issuer{}).build(d, request(certificate.Residenza), "op-1")(n, stamped)
			b.PDF = nil
			return b, err
		}, func(err error) bool { return err != nil }},
	}
	for _, c := range cases {
		_, _, err := s.Issue(context.Background(), at, Idempotency{"k-" + c.name, "h"}, c.build)
		if !c.check(err) {
			t.Errorf("%s: got %v", c.name, err)
		}
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if n := protobolt.Last(tx, 2026); !n.IsZero() {
			t.Errorf("a failed issuance consumed %s", n)
		}
		for _, b := range allBuckets {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				t.Errorf("bucket %s holds %q", b, k)
			}
		}
		return nil
	})
	rec, _, err := s.Issue(context.Background(), at, Idempotency{"k", "h"}, (&issuer{}).build(d, request(certificate.Residenza), ""))
	if err != nil || rec.Protocol != "2026/0000001" {
		t.Errorf("after failures: %s %v", rec.Protocol, err)
	}
	// The same certificate id twice is refused and consumes nothing.
	_, _, err = s.Issue(context.Background(), at, Idempotency{}, (&issuer{}).build(d, request(certificate.Residenza), ""))
	if !errors.Is(err, ErrDuplicateID) {
		t.Errorf("duplicate id: %v", err)
	}
	if es, _ := s.ProtocolDay(protocol.DayOf(at)); len(es) != 1 {
		t.Errorf("the refused duplicate left %d entries", len(es))
	}
}

func TestRevoke(t *testing.T) {
	s, _ := openStore(t, true)
	rec, _, err := s.Issue(context.Background(), at, Idempotency{}, (&issuer{}).build(subject(), request(certificate.Residenza), ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ reason, by, code string }{
		{"  ", "Dott.ssa Laura Bianchi", certificate.ReasonRevocationNoReason},
		{"dati anagrafici rettificati", " ", certificate.ReasonRevocationNoAuthoriser},
		{"dati anagrafici rettificati", "Laura\nBianchi", certificate.ReasonRevocationBadText},
	} {
		_, err := s.Revoke(rec.ID, c.reason, c.by, at)
		if r, ok := certificate.AsRefusal(err); !ok || r.Reason != c.code {
			t.Errorf("revocation with reason %q by %q: %v, want refusal %s", c.reason, c.by, err, c.code)
		}
		if got, _ := s.Get(rec.ID); got.Status != certificate.Valid {
			t.Fatalf("a refused revocation changed the record: %+v", got)
		}
	}
	later := at.Add(time.Hour)
	r, err := s.Revoke(rec.ID, " dati anagrafici rettificati ", " Dott.ssa Laura Bianchi ", later)
	if err != nil || r.Status != certificate.Revoked || !r.RevokedAt.Equal(later) {
		t.Fatalf("%+v %v", r, err)
	}
	got, _ := s.Get(rec.ID)
	if got.Status != certificate.Revoked || got.RevokeReason != "dati anagrafici rettificati" || got.RevokedBy != "Dott.ssa Laura Bianchi" || got.Protocol != rec.Protocol {
		t.Errorf("stored %+v", got)
	}
	if _, err := s.Revoke(rec.ID, "again", "Laura Bianchi", later); !errors.Is(err, ErrAlreadyRevoked) {
		t.Errorf("second revocation: %v", err)
	}
	if _, err := s.Revoke("nope", "x", "Laura Bianchi", later); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
	if pdf, err := s.PDF(rec.ID); err != nil || len(pdf) == 0 {
		t.Error("revocation removed the document")
	}
}

// BenchmarkIssue measures rules, fees, compose and the bbolt transaction
// (protocol entry, record, a 40 kB stand-in PDF, indexes, key), without the
// PDF rendering and signing done elsewhere. With fsync unless -short.
func BenchmarkIssue(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			s, _ := openStore(b, noSync)
			d := subject()
			req := request(certificate.Residenza, certificate.StatoDiFamiglia)
			pdf := make([]byte, 40<<10)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				_, _, err := s.Issue(context.Background(), at, Idempotency{Key: fmt.Sprint("k", i), RequestHash: "h"}, func(n protocol.Number, stamped time.Time) (*Built, error) {
					types, err := certificate.Check(d, req)
					if err != nil {
						return nil, err
					}
					fb, err := certificate.Fees(certificate.FeeRequest{Types: types, ServiceCents: 200, Channel: certificate.Counter}, certificate.Policy{})
					if err != nil {
						return nil, err
					}
					doc, err := certificate.Compose(d, types, names, certificate.Issue{ID: fmt.Sprintf("b%015d", i), Protocol: n.String(), Issued: at, Fees: fb})
					if err != nil {
						return nil, err
					}
					return &Built{Record: certificate.NewRecord(doc, d, req, "op-1", fb), PDF: pdf}, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssueParallel shows what the group commit buys under load:
// with fsync, issuances from concurrent requests share commits.
func BenchmarkIssueParallel(b *testing.B) {
	s, _ := openStore(b, false)
	d := subject()
	req := request(certificate.Residenza)
	pdf := make([]byte, 40<<10)
	var ids atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := ids.Add(1)
			_, _, err := s.Issue(context.Background(), at, Idempotency{Key: fmt.Sprint("k", i), RequestHash: "h"}, func(n protocol.Number, stamped time.Time) (*Built, error) {
				types, err := certificate.Check(d, req)
				if err != nil {
					return nil, err
				}
				fb, _ := certificate.Fees(certificate.FeeRequest{Types: types, ServiceCents: 200, Channel: certificate.Counter}, certificate.Policy{})
				doc, err := certificate.Compose(d, types, names, certificate.Issue{ID: fmt.Sprintf("p%015d", i), Protocol: n.String(), Issued: at, Fees: fb})
				if err != nil {
					return nil, err
				}
				return &Built{Record: certificate.NewRecord(doc, d, req, "op-1", fb), PDF: pdf}, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
