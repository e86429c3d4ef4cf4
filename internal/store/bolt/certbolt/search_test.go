package certbolt

import (
	"context"
	"errors"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

func ids(rs []certificate.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// A clerk finds certificates by the subject's or the requester's codice
// fiscale, newest first, and by protocol number.
func TestSearchByCFAndProtocol(t *testing.T) {
	s, _ := openStore(t, true)
	recs := issueDays(t, s, 3) // subject RSSMRA50B17A558W, requester VRDLGU70A01F205Z
	// One more, asked for by the subject itself: one index key with both roles.
	is := &issuer{seq: 10}
	self := request(certificate.Residenza)
	self.Requester.CF = subject().Person.CF
	own, _, err := s.Issue(context.Background(), at.AddDate(0, 0, 5), Idempotency{}, is.build(subject(), self, ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ByCF("rssmra50b17a558w ", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{own.ID, recs[2].ID, recs[1].ID, recs[0].ID}; !equal(ids(got), want) {
		t.Errorf("by the subject's CF: %v, want %v", ids(got), want)
	}
	got, _ = s.ByCF("VRDLGU70A01F205Z", 2)
	if want := []string{recs[2].ID, recs[1].ID}; !equal(ids(got), want) {
		t.Errorf("by the requester's CF, limit 2: %v, want %v", ids(got), want)
	}
	if got, _ := s.ByCF("BNCGVN80A01F205X", 0); len(got) != 0 {
		t.Errorf("a CF on no certificate finds %v", ids(got))
	}
	r, err := s.ByProtocol(protocol.Number{Year: 2026, Seq: 2})
	if err != nil || r.ID != recs[1].ID {
		t.Errorf("by protocol 2026/2: %s, %v", r.ID, err)
	}
	if _, err := s.ByProtocol(protocol.Number{Year: 2026, Seq: 99}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("an unused protocol number: %v", err)
	}
	// Retention's purge takes the record out of both indexes.
	if _, err := (Retention{DB: s.db}).PurgeRecords(at.AddDate(0, 0, 1), at.AddDate(3, 0, 0), 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ByCF("VRDLGU70A01F205Z", 0); !equal(ids(got), []string{recs[2].ID, recs[1].ID}) {
		t.Errorf("after purging the first: %v", ids(got))
	}
	if _, err := s.ByProtocol(protocol.Number{Year: 2026, Seq: 1}); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("a purged certificate's protocol number: %v", err)
	}
}

// A file written before the indexes existed gets them at the next open;
// read without them (an older process's file opened read-only), the
// look-ups scan and find the same.
func TestSearchIndexBuiltForOlderFiles(t *testing.T) {
	s, db := openStore(t, true)
	recs := issueDays(t, s, 3)
	drop := func() {
		if err := db.Update(func(tx *bbolt.Tx) error {
			for _, b := range [][]byte{bucketCFs, bucketProtocols} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	drop()
	got, err := s.ByCF("RSSMRA50B17A558W", 0)
	if err != nil || !equal(ids(got), []string{recs[2].ID, recs[1].ID, recs[0].ID}) {
		t.Errorf("scan without the index: %v, %v", ids(got), err)
	}
	if r, err := s.ByProtocol(protocol.Number{Year: 2026, Seq: 3}); err != nil || r.ID != recs[2].ID {
		t.Errorf("scan by protocol: %s, %v", r.ID, err)
	}
	// Opening the file again builds the index from the records.
	s2, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketCFs).Stats().KeyN != 6 || tx.Bucket(bucketProtocols).Stats().KeyN != 3 {
			t.Errorf("rebuilt index holds %d CF keys and %d protocol keys, want 6 and 3", tx.Bucket(bucketCFs).Stats().KeyN, tx.Bucket(bucketProtocols).Stats().KeyN)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.ByCF("VRDLGU70A01F205Z", 1); !equal(ids(got), []string{recs[2].ID}) {
		t.Errorf("rebuilt index by requester: %v", ids(got))
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
