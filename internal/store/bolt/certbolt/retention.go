package certbolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Retention's buckets:
//
//	cert_purged     id → certificate.Purged (JSON): what is kept of a
//	                certificate whose record was purged, no personal data
//	cert_retention  "pdf_through": no longer written (cert_pdf_kept, tx.go,
//	                took its place); the bucket stays for older files
//
// The protocol register (protobolt) is not touched: it is the register of
// the documents the comune issued, kept under the archival rules of DPR
// 445/2000 and the comune's conservation plan, not the record of a read.
var (
	bucketPurged    = []byte("cert_purged")
	bucketRetention = []byte("cert_retention")
)

func initRetention(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketPurged, bucketRetention} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the certificates' bucket %q: %w", name, err)
		}
	}
	return nil
}

var _ certificate.PurgedCopier = view{}

// AllPurged lists the purged certificates' markers by id
// (certificate.PurgedCopier).
func (v view) AllPurged() ([]certificate.Purged, error) {
	b := v.tx.Bucket(bucketPurged)
	if b == nil {
		return nil, nil
	}
	var out []certificate.Purged
	err := b.ForEach(func(k, raw []byte) error {
		var p certificate.Purged
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("what is kept of the purged certificate %s is damaged: %w", k, err)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// RestorePurged writes ps as they are (certificate.PurgedCopier).
func (v view) RestorePurged(ps []certificate.Purged) error {
	if err := v.ready(); err != nil {
		return err
	}
	b := v.tx.Bucket(bucketPurged)
	for _, p := range ps {
		if p.ID == "" {
			return fmt.Errorf("a purged certificate's marker has no id")
		}
		if b.Get([]byte(p.ID)) != nil || v.tx.Bucket(bucketCerts).Get([]byte(p.ID)) != nil {
			return fmt.Errorf("%w: %s", certificate.ErrDuplicateID, p.ID)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(p.ID), raw); err != nil {
			return err
		}
	}
	return nil
}

// purged returns the error of a look-up of a purged certificate, or nil
// when id was never purged.
func purged(tx *bbolt.Tx, id string) error {
	b := tx.Bucket(bucketPurged)
	if b == nil {
		return nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil
	}
	var p certificate.Purged
	if err := json.Unmarshal(v, &p); err != nil {
		return fmt.Errorf("what is kept of the purged certificate %s is damaged: %w", id, err)
	}
	return fmt.Errorf("%w: %w", ErrNotFound, &certificate.PurgedError{Purged: p})
}

// dayIndex walks cert_days from the first day (or from, when set) through
// day last, calling fn with each certificate's index key until fn says
// stop. It reads the keys a chunk at a time and seeks past the last one
// handled, so fn may change the buckets (even delete the key) and a walk
// over years of certificates holds only a chunk of keys.
func dayIndex(tx *bbolt.Tx, from []byte, last protocol.Day, fn func(key []byte) (more bool, err error)) error {
	b := tx.Bucket(bucketDays)
	if b == nil {
		return nil // a file that never held a certificate: nothing to walk
	}
	end := last.Key()
	var after []byte
	for {
		c := b.Cursor()
		var k []byte
		switch {
		case after != nil:
			if k, _ = c.Seek(after); bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		case from != nil:
			k, _ = c.Seek(from)
		default:
			k, _ = c.First()
		}
		var keys [][]byte
		for ; k != nil && len(keys) < 256 && len(k) > 16 && bytes.Compare(k[:8], end) <= 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		if len(keys) == 0 {
			return nil
		}
		for _, key := range keys {
			more, err := fn(key)
			if err != nil || !more {
				return err
			}
		}
		after = keys[len(keys)-1]
	}
}

// idOf is the certificate id in a cert_days key.
func idOf(key []byte) string { return string(key[16:]) }

// expired walks the certificates issued before cutoff, by day from from
// (all days when nil) through cutoff's day, calling fn with each one's
// index key and record until fn says stop; with pdfs, only those whose PDF
// is still kept. The counts and the batches of a run walk alike, so what a
// dry run counts is what the run deletes.
func expired(tx *bbolt.Tx, from []byte, cutoff time.Time, pdfs bool, fn func(key []byte, r *certificate.Record) (more bool, err error)) error {
	pdf := tx.Bucket(bucketPDF)
	return dayIndex(tx, from, protocol.DayOf(cutoff), func(key []byte) (bool, error) {
		id := idOf(key)
		if pdfs && pdf.Get([]byte(id)) == nil {
			return true, nil
		}
		r, err := Get(tx, id)
		if err != nil {
			return false, err
		}
		if !r.Issued.Before(cutoff) {
			return true, nil
		}
		return fn(key, &r)
	})
}

// ExpiredPDFs counts the PDFs still kept of certificates issued before
// cutoff.
func ExpiredPDFs(tx *bbolt.Tx, cutoff time.Time) (n int, err error) {
	err = keptBefore(tx, cutoff, func([]byte, *certificate.Record) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// DeletePDFs deletes at most limit PDFs of certificates issued before
// cutoff, noting on each record when (at); it returns how many went, and
// 0 once none is left. The record, with the document's hash, stays.
func DeletePDFs(tx *bbolt.Tx, cutoff, at time.Time, limit int) (n int, err error) {
	if err := Init(tx); err != nil {
		return 0, err
	}
	err = keptBefore(tx, cutoff, func(_ []byte, r *certificate.Record) (bool, error) {
		if n == limit {
			return false, nil
		}
		n++
		return true, pdfDeleted(tx, r, at)
	})
	return n, err
}

// ExpiredRecords counts the records of certificates issued before cutoff.
func ExpiredRecords(tx *bbolt.Tx, cutoff time.Time) (n int, err error) {
	err = expired(tx, nil, cutoff, false, func([]byte, *certificate.Record) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// PurgeRecords purges at most limit records of certificates issued before
// cutoff, at instant at, and returns how many went (0 once none is left).
// Of each it removes the record, the PDF if still kept, the index keys and
// the idempotency key, and keeps a certificate.Purged: the id and the day,
// no personal data. The protocol register's entry stays.
func PurgeRecords(tx *bbolt.Tx, cutoff, at time.Time, limit int) (int, error) {
	rs, err := purgeRecords(tx, cutoff, at, limit)
	return len(rs), err
}

func purgeRecords(tx *bbolt.Tx, cutoff, at time.Time, limit int) (out []certificate.Record, err error) {
	if err := Init(tx); err != nil {
		return nil, err
	}
	err = expired(tx, nil, cutoff, false, func(_ []byte, r *certificate.Record) (bool, error) {
		if len(out) == limit {
			return false, nil
		}
		if err := purge(tx, r, at); err != nil {
			return false, err
		}
		out = append(out, *r)
		return true, nil
	})
	return out, err
}

func purge(tx *bbolt.Tx, r *certificate.Record, at time.Time) error {
	n, err := protocol.ParseNumber(r.Protocol)
	if err != nil {
		return fmt.Errorf("the record of certificate %s has a protocol number that cannot be read: %w", r.ID, err)
	}
	day := protocol.DayOf(r.Issued)
	v, err := json.Marshal(certificate.Purged{ID: r.ID, Issued: registry.DateOf(r.Issued.In(protocol.Rome)), At: at.UTC()})
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketPurged).Put([]byte(r.ID), v); err != nil {
		return err
	}
	deletes := []struct {
		bucket, key []byte
	}{
		{bucketCerts, []byte(r.ID)},
		{bucketPDF, []byte(r.ID)},
		{bucketDays, indexKey(nil, day, n, r.ID)},
		{bucketKept, indexKey(nil, day, n, r.ID)},
	}
	if r.OperatorID != "" {
		deletes = append(deletes, struct{ bucket, key []byte }{bucketOps, indexKey(opPrefix(r.OperatorID), day, n, r.ID)})
	}
	if r.IdempotencyKey != "" {
		deletes = append(deletes, struct{ bucket, key []byte }{bucketIdem, []byte(r.IdempotencyKey)})
	}
	for _, d := range deletes {
		if err := tx.Bucket(d.bucket).Delete(d.key); err != nil {
			return err
		}
	}
	return unindexSearch(tx, r, day, n)
}

// OldestIssued is when the oldest certificate issued at or after since was
// issued; false when there is none.
func OldestIssued(tx *bbolt.Tx, since time.Time) (t time.Time, ok bool, err error) {
	b := tx.Bucket(bucketDays)
	if b == nil {
		return t, false, nil
	}
	c := b.Cursor()
	for k, _ := c.Seek(protocol.DayOf(since).Key()); k != nil && len(k) > 16; k, _ = c.Next() {
		r, err := Get(tx, string(k[16:]))
		if err != nil {
			return t, false, err
		}
		if !r.Issued.Before(since) {
			return r.Issued, true, nil
		}
	}
	return t, false, nil
}

// Retention is the certificates' side of retention (retention.Certificates)
// on db: each batch its own transaction, so a large hub never holds one
// huge transaction, and a dry run only reads.
type Retention struct{ DB *bbolt.DB }

func (s Retention) ExpiredPDFs(cutoff time.Time) (n int, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error { n, err = ExpiredPDFs(tx, cutoff); return err })
	return n, err
}

func (s Retention) DeletePDFs(cutoff, at time.Time, limit int) (n int, err error) {
	err = s.DB.Update(func(tx *bbolt.Tx) error { n, err = DeletePDFs(tx, cutoff, at, limit); return err })
	return n, err
}

func (s Retention) ExpiredRecords(cutoff time.Time) (n int, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error { n, err = ExpiredRecords(tx, cutoff); return err })
	return n, err
}

func (s Retention) PurgeRecords(cutoff, at time.Time, limit int) (n int, err error) {
	err = s.DB.Update(func(tx *bbolt.Tx) error { n, err = PurgeRecords(tx, cutoff, at, limit); return err })
	return n, err
}

func (s Retention) OldestIssued(since time.Time) (t time.Time, ok bool, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error { t, ok, err = OldestIssued(tx, since); return err })
	return t, ok, err
}
