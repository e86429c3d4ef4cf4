package certbolt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// issueDays issues one certificate a day for n days from at, each with an
// idempotency key, and returns them oldest first.
func issueDays(t *testing.T, s *Store, n int) []certificate.Record {
	t.Helper()
	is := &issuer{}
	var recs []certificate.Record
	for i := range n {
		rec, _, err := s.Issue(context.Background(), at.AddDate(0, 0, i), Idempotency{fmt.Sprintf("op-1/k%d", i), "h"}, is.build(subject(), request(certificate.Residenza), "op-1"))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// PDFs past the window go in bounded batches; the records, with their
// hashes, stay and say when; the PDF look-up then says the document is no
// longer kept, distinctly from an id that never existed.
func TestDeletePDFs(t *testing.T) {
	s, db := openStore(t, true)
	recs := issueDays(t, s, 5)
	r := Retention{DB: db}
	cutoff := at.AddDate(0, 0, 3) // the first three days' PDFs go
	now := at.AddDate(0, 2, 0)
	if n, err := r.ExpiredPDFs(cutoff); n != 3 || err != nil {
		t.Fatalf("expired PDFs: %d, %v", n, err)
	}
	var batches []int
	for {
		n, err := r.DeletePDFs(cutoff, now, 2)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n == 0 {
			break
		}
	}
	if fmt.Sprint(batches) != "[2 1 0]" {
		t.Errorf("batches %v, want [2 1 0]", batches)
	}
	for i, rec := range recs {
		got, err := s.Get(rec.ID)
		if err != nil || got.DocSHA256 != rec.DocSHA256 {
			t.Fatalf("record %d after: %+v, %v", i, got, err)
		}
		_, err = s.PDF(rec.ID)
		switch {
		case i < 3 && (!errors.Is(err, certificate.ErrPDFExpired) || errors.Is(err, ErrNotFound) || !got.PDFDeleted.Equal(now)):
			t.Errorf("PDF %d: %v, deleted %v", i, err, got.PDFDeleted)
		case i >= 3 && (err != nil || !got.PDFDeleted.IsZero()):
			t.Errorf("PDF %d past the cutoff: %v", i, err)
		}
	}
	if n, _ := r.ExpiredPDFs(cutoff); n != 0 {
		t.Errorf("%d expired PDFs left", n)
	}
}

// Records past the period go with their PDF, index keys and idempotency
// key; the look-up then answers with what is kept of a purged certificate
// (its id and issue day: no personal data), still as not found to every
// caller that knows nothing of retention; the protocol register is whole.
func TestPurgeRecords(t *testing.T) {
	s, db := openStore(t, true)
	recs := issueDays(t, s, 4)
	r := Retention{DB: db}
	cutoff := at.AddDate(0, 0, 2)
	now := at.AddDate(3, 1, 0)
	if n, err := r.ExpiredRecords(cutoff); n != 2 || err != nil {
		t.Fatalf("expired records: %d, %v", n, err)
	}
	if n, err := r.PurgeRecords(cutoff, now, 1); n != 1 || err != nil {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	if n, err := r.PurgeRecords(cutoff, now, 1); n != 1 || err != nil {
		t.Fatalf("second batch: %d, %v", n, err)
	}
	if n, err := r.PurgeRecords(cutoff, now, 1); n != 0 || err != nil {
		t.Fatalf("third batch: %d, %v", n, err)
	}
	for i, rec := range recs[:2] {
		_, err := s.Get(rec.ID)
		var gone *certificate.PurgedError
		if !errors.As(err, &gone) || !errors.Is(err, ErrNotFound) || !errors.Is(err, certificate.ErrPurged) {
			t.Fatalf("record %d: %v", i, err)
		}
		wantDay := registry.DateOf(rec.Issued.In(protocol.Rome))
		if gone.ID != rec.ID || gone.Issued != wantDay || !gone.At.Equal(now) {
			t.Errorf("kept of record %d: %+v", i, gone.Purged)
		}
		if _, err := s.PDF(rec.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("PDF of purged record %d: %v", i, err)
		}
		if rs, _ := s.ByDay(protocol.DayOf(rec.Issued)); len(rs) != 0 {
			t.Errorf("day index still lists %v", rs)
		}
		// The key can be used again: it no longer replays a record.
		if _, found, err := s.replay(Idempotency{Key: rec.IdempotencyKey, RequestHash: "other"}); found || err != nil {
			t.Errorf("idempotency key %q after purge: found %v, %v", rec.IdempotencyKey, found, err)
		}
		if es, _ := s.ProtocolDay(protocol.DayOf(rec.Issued)); len(es) != 1 || es[0].Ref != rec.ID {
			t.Errorf("protocol register of day %d: %+v", i, es)
		}
	}
	if rs, err := s.ByOperator("op-1", protocol.DayOf(at), protocol.DayOf(at.AddDate(0, 0, 5))); err != nil || len(rs) != 2 || rs[0].ID != recs[2].ID {
		t.Errorf("operator index after purge: %v, %v", rs, err)
	}
	if got, ok, err := r.OldestIssued(cutoff); !ok || err != nil || !got.Equal(recs[2].Issued) {
		t.Errorf("oldest kept: %v %v %v, want %v", got, ok, err, recs[2].Issued)
	}
	if _, ok, _ := r.OldestIssued(at.AddDate(0, 0, 10)); ok {
		t.Errorf("a record issued after the last one")
	}
}

// Over more certificates than the index walk reads at a time, batches
// still take every one exactly once, whether they keep the index keys
// (PDFs) or delete them as they go (records).
func TestRetentionBatchesOverManyCertificates(t *testing.T) {
	s, db := openStore(t, true)
	is := &issuer{}
	for i := range 300 {
		when := at.AddDate(0, 0, i/100).Add(time.Duration(i%100) * time.Minute)
		if _, _, err := s.Issue(context.Background(), when, Idempotency{}, is.build(subject(), request(certificate.Residenza), "op-1")); err != nil {
			t.Fatal(err)
		}
	}
	r := Retention{DB: db}
	cutoff := at.AddDate(0, 0, 5)
	var batches []int
	for {
		n, err := r.DeletePDFs(cutoff, cutoff, 120)
		if err != nil {
			t.Fatal(err)
		}
		if batches = append(batches, n); n == 0 {
			break
		}
	}
	if fmt.Sprint(batches) != "[120 120 60 0]" {
		t.Errorf("PDF batches %v", batches)
	}
	if n, err := r.ExpiredRecords(cutoff); n != 300 || err != nil {
		t.Fatalf("expired records: %d %v", n, err)
	}
	if n, err := r.PurgeRecords(cutoff, cutoff, 1000); n != 300 || err != nil {
		t.Errorf("purged %d in one batch, %v", n, err)
	}
	if n, _ := r.ExpiredRecords(cutoff); n != 0 {
		t.Errorf("%d records left", n)
	}
}
