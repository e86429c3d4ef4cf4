// Package certbolt keeps issued certificates in the hub's bbolt file: the
// record of each issuance, its PDF for re-download, the idempotency keys of
// the requests, and indexes by day and by operator for settlements.
//
// Issuance is one transaction: the protocol number, the certificate record
// with its fee lines, the PDF and the idempotency key commit together or not
// at all, so a refused or failed issuance consumes no protocol number.
//
// Layout (all keys are byte strings; days are YYYYMMDD in Rome; seq is the
// protocol progressive, 8 bytes big-endian, so indexes list certificates in
// protocol order):
//
//	certs       id → record (JSON)
//	cert_pdf    id → PDF bytes
//	cert_idem   idempotency key → {"id", "hash"} (JSON)
//	cert_days   YYYYMMDD ‖ seq ‖ id → ∅
//	cert_ops    operator id ‖ 0x00 ‖ YYYYMMDD ‖ seq ‖ id → ∅
//
// The protocol register lives in the same file (protocol/protobolt).
package certbolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/protocol/protobolt"
)

var (
	bucketCerts = []byte("certs")
	bucketPDF   = []byte("cert_pdf")
	bucketIdem  = []byte("cert_idem")
	bucketDays  = []byte("cert_days")
	bucketOps   = []byte("cert_ops")
	allBuckets  = [][]byte{bucketCerts, bucketPDF, bucketIdem, bucketDays, bucketOps}
)

// Errors; returned errors wrap them.
var (
	ErrNotFound       = errors.New("certificate not found")
	ErrAlreadyRevoked = errors.New("certificate already revoked")
	ErrDuplicateID    = errors.New("certificate id already used")
	ErrNotInitialised = errors.New("certificate store not initialised")
	ErrIdempotency    = errors.New("idempotency key reused with a different request")
)

// ConflictError is returned when an idempotency key comes back with a
// different request: the client must use a new key for a new request.
type ConflictError struct {
	Key string
	ID  string // the certificate the key was first used for
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the idempotency key %q was already used for a different request (certificate %s); use a new key for a new request.", e.Key, e.ID)
}

func (e *ConflictError) Unwrap() error { return ErrIdempotency }

// Init creates this package's buckets and the protocol register's. Call it
// once in a write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the certificates' bucket %q: %w", name, err)
		}
	}
	return protobolt.Init(tx)
}

// Idempotency identifies a client request: its key and the hash of its
// body (computed by the caller over what makes the request what it is).
// A zero Key turns idempotency off (staff command line).
type Idempotency struct {
	Key         string
	RequestHash string
}

// Built is what the caller produces once it knows the protocol number: the
// record (certificate.NewRecord) and the signed PDF.
type Built struct {
	Record certificate.Record
	PDF    []byte
	// DocType is the protocol register's document type; default
	// "certificato anagrafico".
	DocType string
}

type idemValue struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
}

// Issue runs one issuance in tx. If idem.Key was seen before with the same
// request hash it returns the stored record and replayed = true without
// calling build; with another hash it returns a *ConflictError. Otherwise it
// assigns the next protocol number for at, calls build with it, and stores
// the protocol entry, the record, the PDF and the key. Any error from build
// (a refusal, a rendering failure) leaves nothing behind once the caller
// rolls tx back, which bbolt does when the Update function returns it.
func Issue(tx *bbolt.Tx, at time.Time, idem Idempotency, build func(protocol.Number) (*Built, error)) (rec certificate.Record, replayed bool, err error) {
	if tx.Bucket(bucketCerts) == nil {
		return rec, false, fmt.Errorf("%w: call certbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	if idem.Key != "" {
		if v := tx.Bucket(bucketIdem).Get([]byte(idem.Key)); v != nil {
			var iv idemValue
			if err := json.Unmarshal(v, &iv); err != nil {
				return rec, false, fmt.Errorf("the idempotency record of key %q is damaged: %w", idem.Key, err)
			}
			if iv.Hash != idem.RequestHash {
				return rec, false, &ConflictError{Key: idem.Key, ID: iv.ID}
			}
			rec, err := Get(tx, iv.ID)
			return rec, err == nil, err
		}
	}

	var built *Built
	var sum [32]byte
	entry, err := protobolt.Register(tx, at, func(n protocol.Number) (protocol.Entry, error) {
		b, err := build(n)
		if err != nil {
			return protocol.Entry{}, err
		}
		if b == nil || b.Record.ID == "" {
			return protocol.Entry{}, errors.New("the issued certificate has no id")
		}
		if b.Record.Protocol != n.String() {
			return protocol.Entry{}, fmt.Errorf("the certificate carries protocol number %q but was assigned %s", b.Record.Protocol, n)
		}
		if tx.Bucket(bucketCerts).Get([]byte(b.Record.ID)) != nil {
			return protocol.Entry{}, fmt.Errorf("%w: %s", ErrDuplicateID, b.Record.ID)
		}
		if len(b.PDF) == 0 {
			return protocol.Entry{}, errors.New("the issued certificate has no document")
		}
		built, sum = b, sha256.Sum256(b.PDF)
		docType := b.DocType
		if docType == "" {
			docType = "certificato anagrafico"
		}
		return protocol.Entry{
			Direction:     protocol.Outgoing,
			Correspondent: correspondent(&b.Record),
			Subject:       fmt.Sprintf("%s, %s (%s)", b.Record.Title, b.Record.SubjectName, b.Record.SubjectCF),
			DocType:       docType,
			DocSHA256:     sum,
			Ref:           b.Record.ID,
		}, nil
	})
	if err != nil {
		return rec, false, err
	}

	rec = built.Record
	rec.Issued = entry.Time
	rec.DocSHA256 = hex.EncodeToString(sum[:])
	rec.Status = certificate.Valid
	rec.RevokedAt, rec.RevokeReason = time.Time{}, ""
	rec.IdempotencyKey, rec.RequestHash = idem.Key, idem.RequestHash
	if err := put(tx, &rec); err != nil {
		return rec, false, err
	}
	if err := tx.Bucket(bucketPDF).Put([]byte(rec.ID), built.PDF); err != nil {
		return rec, false, err
	}
	day := protocol.DayOf(entry.Time)
	if err := tx.Bucket(bucketDays).Put(indexKey(nil, day, entry.Number, rec.ID), nil); err != nil {
		return rec, false, err
	}
	if rec.OperatorID != "" {
		if err := tx.Bucket(bucketOps).Put(indexKey(opPrefix(rec.OperatorID), day, entry.Number, rec.ID), nil); err != nil {
			return rec, false, err
		}
	}
	if idem.Key != "" {
		v, _ := json.Marshal(idemValue{ID: rec.ID, Hash: idem.RequestHash})
		if err := tx.Bucket(bucketIdem).Put([]byte(idem.Key), v); err != nil {
			return rec, false, err
		}
	}
	return rec, false, nil
}

// correspondent is the protocol register's recipient of an outgoing
// certificate: the requester, by codice fiscale, and the operator's shop.
func correspondent(r *certificate.Record) string {
	who := r.RequesterCF
	if who == "" {
		who = r.Requester.String()
	}
	if r.OperatorID != "" {
		who += " presso esercente " + r.OperatorID
	}
	return who
}

func opPrefix(op string) []byte { return append([]byte(op), 0) }

func indexKey(prefix []byte, d protocol.Day, n protocol.Number, id string) []byte {
	k := append(prefix, d.Key()...)
	k = binary.BigEndian.AppendUint64(k, n.Seq)
	return append(k, id...)
}

func put(tx *bbolt.Tx, r *certificate.Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCerts).Put([]byte(r.ID), v)
}

// Get returns the record of certificate id.
func Get(tx *bbolt.Tx, id string) (certificate.Record, error) {
	b := tx.Bucket(bucketCerts)
	if b == nil {
		return certificate.Record{}, fmt.Errorf("%w: call certbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	v := b.Get([]byte(id))
	if v == nil {
		return certificate.Record{}, fmt.Errorf("%w: no certificate has id %q", ErrNotFound, id)
	}
	var r certificate.Record
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("the record of certificate %s is damaged: %w", id, err)
	}
	return r, nil
}

// PDF returns the issued PDF of certificate id. The slice is valid only
// during tx: copy it to keep it.
func PDF(tx *bbolt.Tx, id string) ([]byte, error) {
	b := tx.Bucket(bucketPDF)
	if b == nil {
		return nil, fmt.Errorf("%w: call certbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: no document for certificate %q", ErrNotFound, id)
	}
	return v, nil
}

// Revoke marks certificate id revoked at at, for reason. The protocol entry
// and the PDF stay: revocation is recorded, never erased.
func Revoke(tx *bbolt.Tx, id, reason string, at time.Time) (certificate.Record, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return certificate.Record{}, errors.New("a revocation needs a reason, which the verification page shows")
	}
	r, err := Get(tx, id)
	if err != nil {
		return r, err
	}
	if r.Status == certificate.Revoked {
		return r, fmt.Errorf("%w: certificate %s was revoked on %s", ErrAlreadyRevoked, id, r.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04"))
	}
	r.Status, r.RevokedAt, r.RevokeReason = certificate.Revoked, at, reason
	return r, put(tx, &r)
}

// ByDay returns the certificates issued on day d, in protocol order.
func ByDay(tx *bbolt.Tx, d protocol.Day) ([]certificate.Record, error) {
	return scan(tx, bucketDays, d.Key(), nil)
}

// ByOperator returns the certificates operator op issued from day from to
// day to inclusive, in day and protocol order: the basis of a settlement.
func ByOperator(tx *bbolt.Tx, op string, from, to protocol.Day) ([]certificate.Record, error) {
	if op == "" {
		return nil, errors.New("an operator id is needed to list its certificates")
	}
	p := opPrefix(op)
	return scan(tx, bucketOps, append(append([]byte(nil), p...), from.Key()...), append(append([]byte(nil), p...), to.Key()...))
}

// scan walks index keys starting at start; with end nil it stops when keys
// no longer have start as prefix, else after the keys whose day part (the 8
// bytes after end's prefix) exceeds end's.
func scan(tx *bbolt.Tx, bucket, start, end []byte) ([]certificate.Record, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, fmt.Errorf("%w: call certbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	var out []certificate.Record
	c := b.Cursor()
	for k, _ := c.Seek(start); k != nil; k, _ = c.Next() {
		if end == nil {
			if !bytes.HasPrefix(k, start) {
				break
			}
		} else if len(k) < len(end) || bytes.Compare(k[:len(end)], end) > 0 {
			break
		}
		id := string(k[len(start)+8:])
		if end != nil {
			id = string(k[len(end)+8:])
		}
		r, err := Get(tx, id)
		if err != nil {
			return nil, fmt.Errorf("index %s names certificate %q: %w", bucket, id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Store wraps a *bbolt.DB for callers that need no other work in the same
// transaction. The hub opens one file for everything; pass its handle.
type Store struct{ db *bbolt.DB }

// New initialises the buckets in db and returns the store.
func New(db *bbolt.DB) (*Store, error) {
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Issue runs Issue in its own write transaction.
func (s *Store) Issue(ctx context.Context, at time.Time, idem Idempotency, build func(protocol.Number) (*Built, error)) (rec certificate.Record, replayed bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, false, err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		rec, replayed, err = Issue(tx, at, idem, build)
		return err
	})
	if err != nil {
		return certificate.Record{}, false, err
	}
	return rec, replayed, nil
}

// IssueBatched is Issue through bbolt's Batch: concurrent issuances share
// one commit and one fsync, which is what lets a busy hub go past the disk's
// fsync rate. The price: build may run more than once (bbolt retries the
// other members of a batch alone when one fails, with a fresh transaction
// and so possibly another protocol number), so it must have no effect
// outside its return value; and a lone request waits up to the DB's
// MaxBatchDelay (set it to a millisecond or two on the hub).
func (s *Store) IssueBatched(ctx context.Context, at time.Time, idem Idempotency, build func(protocol.Number) (*Built, error)) (rec certificate.Record, replayed bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, false, err
	}
	err = s.db.Batch(func(tx *bbolt.Tx) error {
		var err error
		rec, replayed, err = Issue(tx, at, idem, build)
		return err
	})
	if err != nil {
		return certificate.Record{}, false, err
	}
	return rec, replayed, nil
}

// Get returns the record of certificate id.
func (s *Store) Get(id string) (rec certificate.Record, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { rec, err = Get(tx, id); return err })
	return rec, err
}

// PDF returns a copy of the issued PDF of certificate id.
func (s *Store) PDF(id string) (pdf []byte, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		v, err := PDF(tx, id)
		pdf = bytes.Clone(v)
		return err
	})
	return pdf, err
}

// Revoke marks certificate id revoked.
func (s *Store) Revoke(id, reason string, at time.Time) (rec certificate.Record, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { rec, err = Revoke(tx, id, reason, at); return err })
	return rec, err
}

// ByDay lists one day's certificates.
func (s *Store) ByDay(d protocol.Day) (rs []certificate.Record, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { rs, err = ByDay(tx, d); return err })
	return rs, err
}

// ByOperator lists an operator's certificates over a range of days.
func (s *Store) ByOperator(op string, from, to protocol.Day) (rs []certificate.Record, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { rs, err = ByOperator(tx, op, from, to); return err })
	return rs, err
}

// ProtocolDay returns the daily protocol register of d, for
// protocol.WriteCSV.
func (s *Store) ProtocolDay(d protocol.Day) (es []protocol.Entry, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { es, err = protobolt.Day(tx, d); return err })
	return es, err
}
