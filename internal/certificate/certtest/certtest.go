// Package certtest is the conformance suite of the issued certificates'
// view of the hub's store (certificate.Tx): every backend (bbolt,
// PostgreSQL) runs it from its own tests, so the issuance path, the
// console and retention behave the same on each.
package certtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"PutGet", testPutGet},
		{"DuplicateID", testDuplicateID},
		{"Idempotency", testIdempotency},
		{"Contrassegno", testContrassegno},
		{"Listings", testListings},
		{"ByProtocol", testByProtocol},
		{"Revoke", testRevoke},
		{"ExpiredPDFs", testExpiredPDFs},
		{"Purge", testPurge},
		{"OrphanDocuments", testOrphanDocuments},
		{"FailedUpdateLeavesNothing", testAtomic},
		{"ViewRefusesWrites", testReadOnly},
		{"ConcurrentKeyOnce", testConcurrentKey},
		{"ConcurrentContrassegnoOnce", testConcurrentContrassegno},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Base is the suite's first day of issue, 10:00 in Rome.
var Base = time.Date(2026, 3, 2, 10, 0, 0, 0, protocol.Rome)

const (
	subjectCF   = "RSSMRA50B17A558W"
	requesterCF = "VRDLGU70A01F205Z"
)

// Sample is a representative record of a certificate issued seq minutes
// after day's 10:00 with protocol progressive seq, about the suite's
// subject at the suite's requester's request: the size and shape of the
// records a hub keeps (a contestuale of two types with its facts and fees).
func Sample(seq uint64, day int) certificate.Record {
	issued := Base.AddDate(0, 0, day).Add(time.Duration(seq) * time.Minute)
	n := protocol.Number{Year: 2026, Seq: seq}
	return certificate.Record{
		ID:          fmt.Sprintf("C%015d", seq),
		Protocol:    n.String(),
		Types:       []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia},
		Title:       "Certificato contestuale di residenza e di stato di famiglia",
		SubjectCF:   subjectCF,
		SubjectName: "MARIO ROSSI",
		RequesterCF: requesterCF,
		Requester:   certificate.RequesterOther,
		Channel:     certificate.Counter,
		OperatorID:  "op-tabacchi-12",
		ClerkID:     "clerk-3",
		ClerkName:   "Giulia Verdi",
		Fees: []fees.Line{
			{Kind: fees.Bollo, Label: "Imposta di bollo (assolta in modo virtuale, aut. n. 12345/2020)", Cents: 1600},
			{Kind: fees.Diritti, Label: "Diritti di segreteria", Cents: 52},
		},
		TotalCents: 1652,
		Facts: []certificate.Fact{
			{Key: "Cognome e nome", Value: "ROSSI MARIO"},
			{Key: "Nato a", Value: "ALBA (CN) il 17/02/1950"},
			{Key: "Residente in", Value: "MILANO, VIA DELLE ROSE 12, SCALA B, INTERNO 7"},
			{Key: "Cittadinanza", Value: "ITALIANA"},
			{Key: "Famiglia anagrafica", Value: "ROSSI MARIO (intestatario), BIANCHI ANNA (coniuge), ROSSI LUCA (figlio)"},
		},
		Issued:         issued,
		DocSHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Status:         certificate.Valid,
		IdempotencyKey: fmt.Sprintf("k-%d-%d", day, seq),
		RequestHash:    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		Signatory:      "L'Ufficiale d'Anagrafe delegato Maria Grazia Colombo",
		Seal:           "Comune di Milano, CA di prova",
	}
}

func put(t *testing.T, s store.Store, rs ...certificate.Record) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.Certificates().Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func view[T any](t *testing.T, s store.Store, fn func(certificate.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = fn(tx.Certificates())
		return err
	})
	return v, err
}

func update[T any](s store.Store, fn func(certificate.Tx) (T, error)) (T, error) {
	var v T
	err := s.Update(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = fn(tx.Certificates())
		return err
	})
	return v, err
}

func get(t *testing.T, s store.Store, id string) (certificate.Record, error) {
	t.Helper()
	return view(t, s, func(c certificate.Tx) (certificate.Record, error) { return c.Get(id) })
}

// same compares records as stored (JSON), since a backend may give times
// back in another location.
func same(t *testing.T, got, want certificate.Record) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	gj, _ := json.Marshal(gv)
	wj, _ := json.Marshal(wv)
	if string(gj) != string(wj) || !got.Issued.Equal(want.Issued) {
		t.Errorf("record differs:\n got %s\nwant %s", g, w)
	}
}

func ids(rs []certificate.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func wantIDs(t *testing.T, what string, rs []certificate.Record, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if fmt.Sprint(ids(rs)) != fmt.Sprint(append([]string{}, want...)) {
		t.Errorf("%s: %v, want %v", what, ids(rs), want)
	}
}

func testPutGet(t *testing.T, s store.Store) {
	if _, err := get(t, s, "nope"); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("an unknown id in an empty store: %v, want ErrNotFound", err)
	}
	r := Sample(1, 0)
	r.Contrassegno = "01234567890123"
	r.Forced = true
	put(t, s, r)
	got, err := get(t, s, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, r)
	if _, err := get(t, s, "nope"); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("an unknown id: %v, want ErrNotFound", err)
	}
	bad := Sample(2, 0)
	bad.Protocol = "not a number"
	if _, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(bad) }); err == nil {
		t.Error("a record whose protocol number does not parse was stored")
	}
	bad = Sample(2, 0)
	bad.ID = ""
	if _, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(bad) }); err == nil {
		t.Error("a record without id was stored")
	}
}

func testDuplicateID(t *testing.T, s store.Store) {
	first := Sample(1, 0)
	put(t, s, first)
	dup := Sample(2, 0)
	dup.ID = first.ID
	dup.Contrassegno = "01234567890123"
	_, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(dup) })
	if !errors.Is(err, certificate.ErrDuplicateID) {
		t.Fatalf("a second record with id %s: %v, want ErrDuplicateID", first.ID, err)
	}
	got, _ := get(t, s, first.ID)
	same(t, got, first)
	owner, _ := view(t, s, func(c certificate.Tx) (string, error) { return c.ContrassegnoOwner(dup.Contrassegno) })
	if owner != "" {
		t.Errorf("the refused record's contrassegno is used by %q", owner)
	}
	if _, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByIdempotencyKey(dup.IdempotencyKey, dup.RequestHash)
	}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("the refused record's idempotency key: %v, want ErrNotFound", err)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	first := Sample(1, 0)
	put(t, s, first)
	again := Sample(2, 0)
	again.IdempotencyKey = first.IdempotencyKey
	_, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(again) })
	var replay *certificate.ReplayError
	if !errors.As(err, &replay) || !errors.Is(err, certificate.ErrReplay) {
		t.Fatalf("the same key and request again: %v, want a *ReplayError", err)
	}
	same(t, replay.Record, first)
	other := Sample(3, 0)
	other.IdempotencyKey, other.RequestHash = first.IdempotencyKey, "another request"
	_, err = update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(other) })
	var conflict *certificate.ConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, certificate.ErrIdempotency) || conflict.ID != first.ID {
		t.Fatalf("the same key with another request: %v, want a *ConflictError naming %s", err, first.ID)
	}
	for _, r := range []certificate.Record{again, other} {
		if _, err := get(t, s, r.ID); !errors.Is(err, certificate.ErrNotFound) {
			t.Errorf("refused record %s was stored: %v", r.ID, err)
		}
	}
	got, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByIdempotencyKey(first.IdempotencyKey, first.RequestHash)
	})
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, first)
	if _, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByIdempotencyKey(first.IdempotencyKey, "another request")
	}); !errors.As(err, &conflict) {
		t.Errorf("looking the key up with another hash: %v, want a *ConflictError", err)
	}
	if _, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByIdempotencyKey("never-used", "h")
	}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("an unused key: %v, want ErrNotFound", err)
	}
	// Requests without a key (staff's command line) are never replays.
	a, b := Sample(4, 0), Sample(5, 0)
	a.IdempotencyKey, a.RequestHash, b.IdempotencyKey, b.RequestHash = "", "", "", ""
	put(t, s, a, b)
}

func testContrassegno(t *testing.T, s store.Store) {
	const marca = "01234567890123"
	if owner, err := view(t, s, func(c certificate.Tx) (string, error) { return c.ContrassegnoOwner(marca) }); err != nil || owner != "" {
		t.Fatalf("an unused contrassegno: %q, %v", owner, err)
	}
	first := Sample(1, 0)
	first.Contrassegno = marca
	put(t, s, first)
	second := Sample(2, 0)
	second.Contrassegno = marca
	_, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(second) })
	if r, ok := certificate.AsRefusal(err); !ok || r.Reason != certificate.ReasonContrassegnoUsed {
		t.Fatalf("a second certificate on one contrassegno: %v, want refusal %s", err, certificate.ReasonContrassegnoUsed)
	}
	if _, err := get(t, s, second.ID); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("the refused certificate was stored: %v", err)
	}
	if owner, _ := view(t, s, func(c certificate.Tx) (string, error) { return c.ContrassegnoOwner(marca) }); owner != first.ID {
		t.Errorf("the contrassegno's owner is %q, want %s", owner, first.ID)
	}
	// Revoked, the certificate still bears the marca: it stays used.
	if _, err := update(s, func(c certificate.Tx) (certificate.Record, error) {
		return c.Revoke(first.ID, "errore materiale", "ufficiale Colombo", Base.Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(second) }); err == nil {
		t.Error("the contrassegno of a revoked certificate was used again")
	}
}

func testListings(t *testing.T, s store.Store) {
	// Put out of order: listings are in protocol order whatever the order
	// of the writes.
	d0a, d0b, d1, d2 := Sample(2, 0), Sample(1, 0), Sample(3, 1), Sample(4, 2)
	d1.OperatorID = "op-other"
	d2.SubjectCF, d2.RequesterCF = requesterCF, ""
	self := Sample(5, 3)
	self.SubjectCF, self.RequesterCF = requesterCF, requesterCF
	office := Sample(6, 3)
	office.OperatorID, office.SubjectCF, office.RequesterCF = "", "BNCGVN80A01F205X", ""
	put(t, s, d0a, d1)
	put(t, s, d2, d0b, self, office)

	day := func(d int) protocol.Day { return protocol.DayOf(Base.AddDate(0, 0, d)) }
	rs, err := view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByDay(day(0)) })
	wantIDs(t, "by day 0", rs, err, d0b.ID, d0a.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByDay(day(5)) })
	wantIDs(t, "by a day without certificates", rs, err)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) {
		return c.ByOperator("op-tabacchi-12", day(0), day(2))
	})
	wantIDs(t, "by operator over days 0-2", rs, err, d0b.ID, d0a.ID, d2.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) {
		return c.ByOperator("op-tabacchi-12", day(1), day(3))
	})
	wantIDs(t, "by operator over days 1-3", rs, err, d2.ID, self.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) {
		return c.ByOperator("op-tabacchi-1", day(0), day(9))
	})
	wantIDs(t, "by an operator whose id prefixes another's", rs, err)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByCF(" rssmra50b17a558w", 0) })
	wantIDs(t, "by the subject's CF", rs, err, d1.ID, d0a.ID, d0b.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByCF(requesterCF, 0) })
	wantIDs(t, "by a CF as subject and requester", rs, err, self.ID, d2.ID, d1.ID, d0a.ID, d0b.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByCF(requesterCF, 2) })
	wantIDs(t, "by CF, at most 2", rs, err, self.ID, d2.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByCF("BNCGVN80A01F205Y", 0) })
	wantIDs(t, "by a CF on nothing", rs, err)
}

func testByProtocol(t *testing.T, s store.Store) {
	plain := Sample(1, 0)
	coded := Sample(2, 0)
	reg := protocol.Register{IPA: "c_f205", AOO: "A1B2C3", Code: "CERT"}
	coded.Protocol = protocol.Number{Year: 2026, Seq: 2, Register: reg}.String()
	put(t, s, plain, coded)
	for _, tc := range []struct {
		n    protocol.Number
		want string
	}{
		{protocol.Number{Year: 2026, Seq: 1}, plain.ID},
		{protocol.Number{Year: 2026, Seq: 2}, coded.ID},
		{protocol.Number{Year: 2026, Seq: 2, Register: reg}, coded.ID},
		{protocol.Number{Year: 2026, Seq: 2, Register: protocol.Register{IPA: "C_F205", AOO: "a1b2c3", Code: "cert"}}, coded.ID},
		{protocol.Number{Year: 2026, Seq: 2, Register: protocol.Register{IPA: "c_h501", AOO: "A1B2C3", Code: "CERT"}}, ""},
		{protocol.Number{Year: 2025, Seq: 1}, ""},
		{protocol.Number{Year: 2026, Seq: 3}, ""},
	} {
		r, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) { return c.ByProtocol(tc.n) })
		switch {
		case tc.want == "" && !errors.Is(err, certificate.ErrNotFound):
			t.Errorf("by protocol %s: %s, %v, want ErrNotFound", tc.n, r.ID, err)
		case tc.want != "" && (err != nil || r.ID != tc.want):
			t.Errorf("by protocol %s: %s, %v, want %s", tc.n, r.ID, err, tc.want)
		}
	}
}

func testRevoke(t *testing.T, s store.Store) {
	r := Sample(1, 0)
	put(t, s, r)
	at := Base.Add(2 * time.Hour)
	if _, err := update(s, func(c certificate.Tx) (certificate.Record, error) { return c.Revoke(r.ID, " ", "Colombo", at) }); err == nil {
		t.Error("a revocation without a reason was accepted")
	}
	if got, _ := get(t, s, r.ID); got.Status != certificate.Valid {
		t.Errorf("a refused revocation changed the status to %s", got.Status)
	}
	rev, err := update(s, func(c certificate.Tx) (certificate.Record, error) {
		return c.Revoke(r.ID, " errore materiale ", "ufficiale Colombo", at)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, s, r.ID)
	if got.Status != certificate.Revoked || !got.RevokedAt.Equal(at) || got.RevokeReason != "errore materiale" || got.RevokedBy != "ufficiale Colombo" {
		t.Errorf("revoked record: %+v", got)
	}
	same(t, got, rev)
	if _, err := update(s, func(c certificate.Tx) (certificate.Record, error) {
		return c.Revoke(r.ID, "again", "Colombo", at)
	}); !errors.Is(err, certificate.ErrAlreadyRevoked) {
		t.Errorf("revoking twice: %v, want ErrAlreadyRevoked", err)
	}
	if _, err := update(s, func(c certificate.Tx) (certificate.Record, error) {
		return c.Revoke("nope", "x", "y", at)
	}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("revoking an unknown id: %v, want ErrNotFound", err)
	}
}

func testExpiredPDFs(t *testing.T, s store.Store) {
	rs := []certificate.Record{Sample(1, 0), Sample(2, 0), Sample(3, 1), Sample(4, 2)}
	put(t, s, rs[3], rs[1], rs[0], rs[2])
	// The cutoff falls on day 1 after its certificate: days 0 and 1.
	cutoff := rs[2].Issued.Add(time.Minute)
	got, err := view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ExpiredPDFs(cutoff, 0) })
	wantIDs(t, "expired PDFs", got, err, rs[0].ID, rs[1].ID, rs[2].ID)
	got, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ExpiredPDFs(rs[2].Issued, 0) })
	wantIDs(t, "expired PDFs, the cutoff at a certificate's time", got, err, rs[0].ID, rs[1].ID)
	got, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ExpiredPDFs(cutoff, 2) })
	wantIDs(t, "expired PDFs, at most 2", got, err, rs[0].ID, rs[1].ID)
	at := Base.AddDate(0, 1, 0)
	if _, err := update(s, func(c certificate.Tx) (int, error) {
		return 0, errors.Join(c.PDFDeleted(rs[0].ID, at), c.PDFDeleted(rs[1].ID, at))
	}); err != nil {
		t.Fatal(err)
	}
	got, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ExpiredPDFs(cutoff, 0) })
	wantIDs(t, "expired PDFs after deleting two", got, err, rs[2].ID)
	r, _ := get(t, s, rs[0].ID)
	if !r.PDFDeleted.Equal(at) || r.DocSHA256 != rs[0].DocSHA256 {
		t.Errorf("the record of a deleted PDF: deleted %v, hash %s", r.PDFDeleted, r.DocSHA256)
	}
	if _, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.PDFDeleted("nope", at) }); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("deleting the PDF of an unknown certificate: %v, want ErrNotFound", err)
	}
}

func testPurge(t *testing.T, s store.Store) {
	old, kept := Sample(1, 0), Sample(2, 1)
	old.Contrassegno = "01234567890123"
	put(t, s, old, kept)
	if ts, ok, err := view2(t, s, func(c certificate.Tx) (time.Time, bool, error) { return c.OldestIssued(Base.AddDate(-1, 0, 0)) }); err != nil || !ok || !ts.Equal(old.Issued) {
		t.Errorf("oldest issued: %v, %v, %v, want %v", ts, ok, err, old.Issued)
	}
	if ts, ok, err := view2(t, s, func(c certificate.Tx) (time.Time, bool, error) { return c.OldestIssued(old.Issued.Add(time.Second)) }); err != nil || !ok || !ts.Equal(kept.Issued) {
		t.Errorf("oldest issued after the first: %v, %v, %v, want %v", ts, ok, err, kept.Issued)
	}
	if _, ok, err := view2(t, s, func(c certificate.Tx) (time.Time, bool, error) { return c.OldestIssued(Base.AddDate(1, 0, 0)) }); err != nil || ok {
		t.Errorf("oldest issued after all: %v, %v", ok, err)
	}
	cutoff := Base.AddDate(0, 0, 1)
	n, err := view(t, s, func(c certificate.Tx) (int, error) { return c.ExpiredRecords(cutoff) })
	if err != nil || n != 1 {
		t.Errorf("expired records: %d, %v, want 1", n, err)
	}
	at := Base.AddDate(3, 0, 0)
	purged, err := update(s, func(c certificate.Tx) ([]certificate.Record, error) { return c.PurgeRecords(cutoff, at, 10) })
	wantIDs(t, "purged", purged, err, old.ID)
	_, err = get(t, s, old.ID)
	var pe *certificate.PurgedError
	if !errors.Is(err, certificate.ErrNotFound) || !errors.As(err, &pe) || !errors.Is(err, certificate.ErrPurged) || pe.ID != old.ID || !pe.At.Equal(at) {
		t.Fatalf("a purged certificate: %v, want ErrNotFound wrapping a *PurgedError", err)
	}
	if want := protocol.DayOf(old.Issued).String(); pe.Issued.String() != want {
		t.Errorf("the purged certificate's day: %s, want %s", pe.Issued, want)
	}
	rs, err := view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByDay(protocol.DayOf(old.Issued)) })
	wantIDs(t, "the purged day", rs, err)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByCF(subjectCF, 0) })
	wantIDs(t, "by CF after the purge", rs, err, kept.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) {
		return c.ByOperator(old.OperatorID, protocol.DayOf(old.Issued), protocol.DayOf(kept.Issued))
	})
	wantIDs(t, "by operator after the purge", rs, err, kept.ID)
	rs, err = view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ExpiredPDFs(at, 0) })
	wantIDs(t, "expired PDFs after the purge", rs, err, kept.ID)
	if _, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByProtocol(protocol.Number{Year: 2026, Seq: 1})
	}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("the purged certificate's number: %v", err)
	}
	if _, err := view(t, s, func(c certificate.Tx) (certificate.Record, error) {
		return c.ByIdempotencyKey(old.IdempotencyKey, old.RequestHash)
	}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("the purged certificate's idempotency key: %v, want ErrNotFound", err)
	}
	if owner, _ := view(t, s, func(c certificate.Tx) (string, error) { return c.ContrassegnoOwner(old.Contrassegno) }); owner != old.ID {
		t.Errorf("the purged certificate's contrassegno is free (%q): a marca pays one document for ever", owner)
	}
	if purged, err := update(s, func(c certificate.Tx) ([]certificate.Record, error) { return c.PurgeRecords(cutoff, at, 10) }); err != nil || len(purged) != 0 {
		t.Errorf("purging again: %v, %v", ids(purged), err)
	}
	// A purged id is not issued again.
	again := Sample(3, 2)
	again.ID = old.ID
	if _, err := update(s, func(c certificate.Tx) (int, error) { return 0, c.Put(again) }); !errors.Is(err, certificate.ErrDuplicateID) {
		t.Errorf("the id of a purged certificate again: %v, want ErrDuplicateID", err)
	}
	// Many at once, in batches.
	var many []certificate.Record
	for i := range 25 {
		many = append(many, Sample(uint64(10+i), 4))
	}
	put(t, s, many...)
	cutoff = Base.AddDate(0, 0, 5)
	total := 0
	for {
		p, err := update(s, func(c certificate.Tx) ([]certificate.Record, error) { return c.PurgeRecords(cutoff, at, 10) })
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		if len(p) > 10 {
			t.Fatalf("a batch of 10 purged %d", len(p))
		}
		total += len(p)
	}
	if total != 26 {
		t.Errorf("purged %d in batches, want 26", total)
	}
}

func view2[A, B any](t *testing.T, s store.Store, fn func(certificate.Tx) (A, B, error)) (A, B, error) {
	t.Helper()
	var a A
	var b B
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		a, b, err = fn(tx.Certificates())
		return err
	})
	return a, b, err
}

func testAtomic(t *testing.T, s store.Store) {
	r := Sample(1, 0)
	r.Contrassegno = "01234567890123"
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Certificates().Put(r); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing update: %v", err)
	}
	if _, err := get(t, s, r.ID); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("the record of a failed update: %v, want ErrNotFound", err)
	}
	if owner, _ := view(t, s, func(c certificate.Tx) (string, error) { return c.ContrassegnoOwner(r.Contrassegno) }); owner != "" {
		t.Errorf("the contrassegno of a failed update is used by %q", owner)
	}
	// The same record goes in afterwards: nothing of the failed one is left.
	put(t, s, r)
}

func testReadOnly(t *testing.T, s store.Store) {
	r := Sample(1, 0)
	put(t, s, r)
	writes := map[string]func(certificate.Tx) error{
		"Put":          func(c certificate.Tx) error { return c.Put(Sample(2, 0)) },
		"Revoke":       func(c certificate.Tx) error { _, err := c.Revoke(r.ID, "x", "y", Base); return err },
		"PDFDeleted":   func(c certificate.Tx) error { return c.PDFDeleted(r.ID, Base) },
		"PurgeRecords": func(c certificate.Tx) error { _, err := c.PurgeRecords(Base.AddDate(1, 0, 0), Base, 10); return err },
	}
	for name, w := range writes {
		err := s.View(context.Background(), func(tx store.Tx) error { return w(tx.Certificates()) })
		if !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s in a View: %v, want store.ErrReadOnly", name, err)
		}
	}
	got, _ := get(t, s, r.ID)
	same(t, got, r)
}

// Concurrent requests with one idempotency key, each in its own
// transaction (two hubs on one database do this): one certificate, the
// others told it is a replay of it.
func testConcurrentKey(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := Sample(uint64(i+1), 0)
			r.IdempotencyKey = "same-key"
			errs[i] = s.Update(context.Background(), func(tx store.Tx) error { return tx.Certificates().Put(r) })
		})
	}
	wg.Wait()
	stored, replays := "", 0
	for i, err := range errs {
		var replay *certificate.ReplayError
		switch {
		case err == nil:
			if stored != "" {
				t.Errorf("two certificates for one key: %s and %s", stored, Sample(uint64(i+1), 0).ID)
			}
			stored = Sample(uint64(i+1), 0).ID
		case errors.As(err, &replay):
			replays++
		default:
			t.Errorf("request %d: %v", i, err)
		}
	}
	if stored == "" || replays != n-1 {
		t.Fatalf("stored %q, %d replays, want one and %d", stored, replays, n-1)
	}
	rs, err := view(t, s, func(c certificate.Tx) ([]certificate.Record, error) { return c.ByDay(protocol.DayOf(Base)) })
	wantIDs(t, "the day", rs, err, stored)
}

func testConcurrentContrassegno(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := Sample(uint64(i+1), 0)
			r.Contrassegno = "01234567890123"
			errs[i] = s.Update(context.Background(), func(tx store.Tx) error { return tx.Certificates().Put(r) })
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
		} else if r, isRef := certificate.AsRefusal(err); !isRef || r.Reason != certificate.ReasonContrassegnoUsed {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d certificates on one contrassegno", ok)
	}
}
