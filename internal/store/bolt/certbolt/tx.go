package certbolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// bucketKept indexes the certificates whose PDF is still kept, so
// retention finds the expired ones without reading every record of the
// records' retention period (36 months, millions in a large city):
//
//	cert_pdf_kept   YYYYMMDD ‖ seq ‖ id → ∅
//
// Put adds a key, PDFDeleted and purge remove it. A file made before the
// index gets it built once, in Init, from the PDFs the file holds.
var bucketKept = []byte("cert_pdf_kept")

// In returns the certificates' view of the bbolt transaction tx (the
// hub's store.Tx.Certificates on bbolt). In a read-only transaction its
// writes fail with store.ErrReadOnly; a file that never held a
// certificate reads as empty, and its buckets are made on the first write.
func In(tx *bbolt.Tx) certificate.Tx { return view{tx: tx} }

type view struct{ tx *bbolt.Tx }

var _ certificate.Tx = view{}

// ready makes sure a write transaction has the buckets.
func (v view) ready() error {
	if !v.tx.Writable() {
		return store.ErrReadOnly
	}
	if v.tx.Bucket(bucketKept) == nil || v.tx.Bucket(bucketCFs) == nil || v.tx.Bucket(bucketPurged) == nil {
		return Init(v.tx)
	}
	return nil
}

// empty says the file has no certificates' buckets (never written).
func (v view) empty() bool { return v.tx.Bucket(bucketCerts) == nil }

func initKept(tx *bbolt.Tx) error {
	if tx.Bucket(bucketKept) != nil {
		return nil
	}
	kept, err := tx.CreateBucket(bucketKept)
	if err != nil {
		return fmt.Errorf("cannot create the certificates' bucket %q: %w", bucketKept, err)
	}
	days, pdfs := tx.Bucket(bucketDays), tx.Bucket(bucketPDF)
	if days == nil || pdfs == nil {
		return nil
	}
	c := days.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > 16 && pdfs.Get(k[16:]) != nil {
			if err := kept.Put(bytes.Clone(k), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v view) Put(r certificate.Record) error {
	if err := v.ready(); err != nil {
		return err
	}
	if strings.TrimSpace(r.ID) == "" {
		return errors.New("a certificate record needs an id")
	}
	if r.Issued.IsZero() {
		return fmt.Errorf("the record of certificate %s has no time of issue", r.ID)
	}
	n, err := protocol.ParseNumber(r.Protocol)
	if err != nil {
		return fmt.Errorf("the record of certificate %s has a protocol number that cannot be read: %w", r.ID, err)
	}
	tx := v.tx
	if r.IdempotencyKey != "" {
		if v := tx.Bucket(bucketIdem).Get([]byte(r.IdempotencyKey)); v != nil {
			first, err := replayOf(tx, r.IdempotencyKey, r.RequestHash, v)
			if err != nil {
				return err
			}
			return &certificate.ReplayError{Record: first}
		}
	}
	if tx.Bucket(bucketCerts).Get([]byte(r.ID)) != nil || tx.Bucket(bucketPurged).Get([]byte(r.ID)) != nil {
		return fmt.Errorf("%w: %s", ErrDuplicateID, r.ID)
	}
	if owner := contrassegnoOwner(tx, r.Contrassegno); owner != "" {
		return certificate.ContrassegnoUsed(r.Contrassegno, owner)
	}
	return writeRecord(tx, &r, protocol.DayOf(r.Issued), n)
}

// writeRecord stores r and its indexes; the checks are the caller's.
func writeRecord(tx *bbolt.Tx, r *certificate.Record, day protocol.Day, n protocol.Number) error {
	if err := put(tx, r); err != nil {
		return err
	}
	dayKey := indexKey(nil, day, n, r.ID)
	if err := tx.Bucket(bucketDays).Put(dayKey, nil); err != nil {
		return err
	}
	if r.PDFDeleted.IsZero() {
		if err := tx.Bucket(bucketKept).Put(dayKey, nil); err != nil {
			return err
		}
	}
	if r.OperatorID != "" {
		if err := tx.Bucket(bucketOps).Put(indexKey(opPrefix(r.OperatorID), day, n, r.ID), nil); err != nil {
			return err
		}
	}
	if err := indexSearch(tx, r, day, n); err != nil {
		return err
	}
	if r.Contrassegno != "" {
		if err := tx.Bucket(bucketContrassegni).Put([]byte(r.Contrassegno), []byte(r.ID)); err != nil {
			return err
		}
	}
	if r.IdempotencyKey != "" {
		v, err := json.Marshal(idemValue{ID: r.ID, Hash: r.RequestHash})
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketIdem).Put([]byte(r.IdempotencyKey), v); err != nil {
			return err
		}
	}
	return nil
}

// replayOf reads the idempotency record v of key: the first record, or a
// conflict when hash is not the first request's.
func replayOf(tx *bbolt.Tx, key, hash string, v []byte) (certificate.Record, error) {
	var iv idemValue
	if err := json.Unmarshal(v, &iv); err != nil {
		return certificate.Record{}, fmt.Errorf("the idempotency record of key %q is damaged: %w", key, err)
	}
	if iv.Hash != hash {
		return certificate.Record{}, &certificate.ConflictError{Key: key, ID: iv.ID}
	}
	return Get(tx, iv.ID)
}

func (v view) Get(id string) (certificate.Record, error) {
	if v.empty() {
		return certificate.Record{}, fmt.Errorf("%w: no certificate has id %q", ErrNotFound, id)
	}
	return Get(v.tx, id)
}

func (v view) ByIdempotencyKey(key, requestHash string) (certificate.Record, error) {
	if b := v.tx.Bucket(bucketIdem); b != nil && key != "" {
		if iv := b.Get([]byte(key)); iv != nil {
			return replayOf(v.tx, key, requestHash, iv)
		}
	}
	return certificate.Record{}, fmt.Errorf("%w: no certificate was issued for idempotency key %q", ErrNotFound, key)
}

func (v view) ContrassegnoOwner(id string) (string, error) { return contrassegnoOwner(v.tx, id), nil }

func (v view) ByDay(d protocol.Day) ([]certificate.Record, error) {
	if v.empty() {
		return nil, nil
	}
	return ByDay(v.tx, d)
}

func (v view) ByOperator(op string, from, to protocol.Day) ([]certificate.Record, error) {
	if v.empty() && op != "" {
		return nil, nil
	}
	return ByOperator(v.tx, op, from, to)
}

func (v view) ByCF(cf string, limit int) ([]certificate.Record, error) {
	if v.empty() && strings.TrimSpace(cf) != "" {
		return nil, nil
	}
	return ByCF(v.tx, cf, limit)
}

func (v view) ByProtocol(n protocol.Number) (certificate.Record, error) {
	if v.empty() {
		return certificate.Record{}, fmt.Errorf("%w: no certificate has protocol number %s", ErrNotFound, n)
	}
	return ByProtocol(v.tx, n)
}

func (v view) Revoke(id, reason, authorisedBy string, at time.Time) (certificate.Record, error) {
	if err := v.ready(); err != nil {
		return certificate.Record{}, err
	}
	return Revoke(v.tx, id, reason, authorisedBy, at)
}

func (v view) ExpiredPDFs(cutoff time.Time, limit int) ([]certificate.Record, error) {
	var out []certificate.Record
	err := keptBefore(v.tx, cutoff, func(_ []byte, r *certificate.Record) (bool, error) {
		out = append(out, *r)
		return limit == 0 || len(out) < limit, nil
	})
	return out, err
}

// keptBefore walks, oldest first, the certificates issued before cutoff
// whose PDF is kept, until fn says stop. It reads the keys a chunk at a
// time, so fn may change the buckets (PDFDeleted removes the key).
func keptBefore(tx *bbolt.Tx, cutoff time.Time, fn func(key []byte, r *certificate.Record) (bool, error)) error {
	b := tx.Bucket(bucketKept)
	if b == nil {
		return nil
	}
	end := protocol.DayOf(cutoff).Key()
	var after []byte
	for {
		c := b.Cursor()
		var k []byte
		if after == nil {
			k, _ = c.First()
		} else if k, _ = c.Seek(after); bytes.Equal(k, after) {
			k, _ = c.Next()
		}
		var keys [][]byte
		for ; k != nil && len(keys) < 256 && len(k) > 16 && bytes.Compare(k[:8], end) <= 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		if len(keys) == 0 {
			return nil
		}
		for _, key := range keys {
			r, err := Get(tx, idOf(key))
			if err != nil {
				return fmt.Errorf("index %s names certificate %q: %w", bucketKept, idOf(key), err)
			}
			if !r.Issued.Before(cutoff) {
				// The cutoff's own day, after the cutoff's time: the
				// keys after it are later still.
				return nil
			}
			if more, err := fn(key, &r); err != nil || !more {
				return err
			}
		}
		after = keys[len(keys)-1]
	}
}

func (v view) PDFDeleted(id string, at time.Time) error {
	if err := v.ready(); err != nil {
		return err
	}
	r, err := Get(v.tx, id)
	if err != nil {
		return err
	}
	return pdfDeleted(v.tx, &r, at)
}

func pdfDeleted(tx *bbolt.Tx, r *certificate.Record, at time.Time) error {
	n, err := protocol.ParseNumber(r.Protocol)
	if err != nil {
		return fmt.Errorf("the record of certificate %s has a protocol number that cannot be read: %w", r.ID, err)
	}
	if err := tx.Bucket(bucketKept).Delete(indexKey(nil, protocol.DayOf(r.Issued), n, r.ID)); err != nil {
		return err
	}
	// A file written before PDFs moved to the blob store keeps them here.
	if err := tx.Bucket(bucketPDF).Delete([]byte(r.ID)); err != nil {
		return err
	}
	if !r.PDFDeleted.IsZero() {
		return nil
	}
	r.PDFDeleted = at.UTC()
	return put(tx, r)
}

func (v view) ExpiredRecords(cutoff time.Time) (int, error) {
	if v.empty() {
		return 0, nil
	}
	return ExpiredRecords(v.tx, cutoff)
}

func (v view) PurgeRecords(cutoff, at time.Time, limit int) ([]certificate.Record, error) {
	if err := v.ready(); err != nil {
		return nil, err
	}
	return purgeRecords(v.tx, cutoff, at, limit)
}

func (v view) OldestIssued(since time.Time) (time.Time, bool, error) {
	if v.empty() {
		return time.Time{}, false, nil
	}
	return OldestIssued(v.tx, since)
}

// LegacyPDF returns a copy of the PDF of certificate id kept in the file
// by a hub from before PDFs moved to the blob store (store.LegacyPDFs).
func (v view) LegacyPDF(id string) ([]byte, bool) {
	b := v.tx.Bucket(bucketPDF)
	if b == nil {
		return nil, false
	}
	pdf := b.Get([]byte(id))
	return bytes.Clone(pdf), pdf != nil
}
