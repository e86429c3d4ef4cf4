// Package certbolt keeps issued certificates in the hub's bbolt file: the
// record of each issuance, its PDF for re-download, the idempotency keys of
// the requests, and indexes by day and by operator for settlements.
//
// An issuance reserves its protocol number in memory (protobolt.Allocator),
// renders outside any transaction, so a hub's cores render in parallel, and
// then commits the protocol entry, the record, the PDF, the indexes and the
// idempotency key in one transaction, shared with the other issuances ready
// at that moment (a group commit: one fsync for many, and no waiting when
// the hub is idle). A number whose issuance fails after its reservation is
// given back or annulled in the register, never left as a hole; see Issue.
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
// retention's two (retention.go), cert_purged and cert_retention, and the
// staff's search indexes (search.go), cert_cfs and cert_protocols.
//
// The protocol register lives in the same file (protocol/protobolt).
package certbolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

var (
	bucketCerts = []byte("certs")
	bucketPDF   = []byte("cert_pdf")
	bucketIdem  = []byte("cert_idem")
	bucketDays  = []byte("cert_days")
	bucketOps   = []byte("cert_ops")
	allBuckets  = [][]byte{bucketCerts, bucketPDF, bucketIdem, bucketDays, bucketOps, bucketContrassegni}
)

// Errors; returned errors wrap them.
var (
	ErrNotFound       = certificate.ErrNotFound
	ErrAlreadyRevoked = certificate.ErrAlreadyRevoked
	ErrDuplicateID    = certificate.ErrDuplicateID
	ErrNotInitialised = errors.New("certificate store not initialised")
	ErrIdempotency    = certificate.ErrIdempotency
)

// ConflictError is certificate.ConflictError: an idempotency key came back
// with a different request.
type ConflictError = certificate.ConflictError

// Init creates this package's buckets and the protocol register's. Call it
// once in a write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the certificates' bucket %q: %w", name, err)
		}
	}
	if err := initRetention(tx); err != nil {
		return err
	}
	if err := initSearch(tx); err != nil {
		return err
	}
	if err := initKept(tx); err != nil {
		return err
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
	// Also, when set, makes further writes that must commit with the
	// issuance or not at all, such as the audit entry of the read.
	Also func(tx *bbolt.Tx) error
}

type idemValue struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
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
	v, err := certificate.EncodeRecord(r)
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
		if err := purged(tx, id); err != nil {
			return certificate.Record{}, err
		}
		return certificate.Record{}, fmt.Errorf("%w: no certificate has id %q", ErrNotFound, id)
	}
	r, err := certificate.DecodeRecord(v)
	if err != nil {
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
		r, err := Get(tx, id)
		if err == nil && !r.PDFDeleted.IsZero() {
			return nil, fmt.Errorf("%w: the document of certificate %s was deleted on %s, at the end of the re-download window; the record is kept and the certificate can still be verified",
				certificate.ErrPDFExpired, id, r.PDFDeleted.In(protocol.Rome).Format("02/01/2006"))
		}
		return nil, fmt.Errorf("%w: no document for certificate %q", ErrNotFound, id)
	}
	return v, nil
}

// Revoke marks certificate id revoked at at, for reason, as authorised by
// the staff member authorisedBy; an empty reason or authoriser is refused
// with a *certificate.Refusal (certificate.CheckRevocation) and nothing is
// written. The protocol entry and the PDF stay: revocation is recorded,
// never erased.
func Revoke(tx *bbolt.Tx, id, reason, authorisedBy string, at time.Time) (certificate.Record, error) {
	if err := certificate.CheckRevocation(reason, authorisedBy); err != nil {
		return certificate.Record{}, err
	}
	r, err := Get(tx, id)
	if err != nil {
		return r, err
	}
	if r.Status == certificate.Revoked {
		return r, fmt.Errorf("%w: certificate %s was revoked on %s", ErrAlreadyRevoked, id, r.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04"))
	}
	r.Status, r.RevokedAt = certificate.Revoked, at
	r.RevokeReason, r.RevokedBy = strings.TrimSpace(reason), strings.TrimSpace(authorisedBy)
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

// Revoke marks certificate id revoked at at, for reason, as authorised by
// the staff member authorisedBy (see Revoke). The console and the command
// line both call it.
func (s *Store) Revoke(id, reason, authorisedBy string, at time.Time) (rec certificate.Record, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { rec, err = Revoke(tx, id, reason, authorisedBy, at); return err })
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

// CloseDay closes the protocol register of d, a day that is over, and
// returns its closing and entries; see protobolt.Allocator.CloseDay.
func (s *Store) CloseDay(d protocol.Day) (protocol.Closing, []protocol.Entry, error) {
	return s.numbers.CloseDay(d)
}
