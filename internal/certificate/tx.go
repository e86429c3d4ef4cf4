package certificate

import (
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// Tx is the issued certificates seen from one transaction of the hub's
// store (store.Tx.Certificates), on whichever backend: the records, the
// idempotency keys of the requests that issued them, the contrassegni they
// used, and what retention keeps of purged ones.
//
// PDFs are not here: they are kept by content in a blob.Store, outside the
// transaction, and a record names its document by Record.DocSHA256. Writes
// in a read-only transaction fail with store.ErrReadOnly.
type Tx interface {
	// Put stores the record of a newly issued certificate. Its Protocol
	// must parse (protocol.ParseNumber) and its Issued be set: the
	// indexes are by the day in Rome and the protocol progressive. It
	// refuses, writing nothing: an id already used (ErrDuplicateID); an
	// idempotency key (r.IdempotencyKey) already used, with a
	// *ReplayError carrying the stored record when r.RequestHash is the
	// stored one and a *ConflictError when it differs; a contrassegno
	// already on a certificate, with ContrassegnoUsed's refusal.
	Put(r Record) error
	// Get returns the record of certificate id (ErrNotFound, wrapping a
	// *PurgedError when retention purged it).
	Get(id string) (Record, error)
	// ByIdempotencyKey returns the certificate issued for the request
	// with idempotency key key: ErrNotFound when none was, a
	// *ConflictError when that request's hash was not requestHash.
	ByIdempotencyKey(key, requestHash string) (Record, error)
	// ContrassegnoOwner returns the id of the certificate contrassegno
	// is on, "" when it is unused. A contrassegno stays used when its
	// certificate is revoked or purged.
	ContrassegnoOwner(contrassegno string) (string, error)
	// ByDay lists the certificates issued on day d, in protocol order.
	ByDay(d protocol.Day) ([]Record, error)
	// ByOperator lists what operator op issued from day from through day
	// to, in day and protocol order: the basis of a settlement.
	ByOperator(op string, from, to protocol.Day) ([]Record, error)
	// ByCF lists the certificates whose subject or requester has codice
	// fiscale cf (any case), newest first, at most limit (0: all).
	ByCF(cf string, limit int) ([]Record, error)
	// ByProtocol returns the certificate registered with number n
	// (ErrNotFound when none is). A number with register codes finds
	// only the certificate under those codes (compared without case); a
	// bare one finds the year's progressive whatever its codes.
	ByProtocol(n protocol.Number) (Record, error)
	// Revoke marks certificate id revoked at at, for reason, as
	// authorised by the staff member authorisedBy; CheckRevocation's
	// refusal and ErrAlreadyRevoked write nothing.
	Revoke(id, reason, authorisedBy string, at time.Time) (Record, error)

	// ExpiredPDFs lists, oldest first, at most limit (0: all) of the
	// certificates issued before cutoff whose PDF is still kept.
	ExpiredPDFs(cutoff time.Time, limit int) ([]Record, error)
	// PDFDeleted notes on record id that its PDF was deleted at at, at
	// the end of the re-download window; the record and its hash stay.
	PDFDeleted(id string, at time.Time) error
	// ExpiredRecords counts the records of certificates issued before
	// cutoff.
	ExpiredRecords(cutoff time.Time) (int, error)
	// PurgeRecords purges at most limit records of certificates issued
	// before cutoff, oldest first, at instant at, and returns them (their
	// PDFs, if still kept, are the caller's to delete). Of each it keeps
	// a Purged; the record, its indexes and its idempotency key go; its
	// contrassegno stays used.
	PurgeRecords(cutoff, at time.Time, limit int) ([]Record, error)
	// OldestIssued is when the oldest certificate issued at or after
	// since was issued; false when there is none.
	OldestIssued(since time.Time) (time.Time, bool, error)
}

// Errors of the certificates' stores (besides ErrNotFound,
// ErrAlreadyRevoked, ErrPurged and ErrPDFExpired); returned errors wrap
// them.
var (
	ErrDuplicateID = errors.New("certificate id already used")
	// ErrIdempotency: an idempotency key came back with a different
	// request (*ConflictError).
	ErrIdempotency = errors.New("idempotency key reused with a different request")
	// ErrReplay: an idempotency key came back with the same request
	// (*ReplayError), whose certificate is already issued.
	ErrReplay = errors.New("request already served")
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

// ReplayError is Put's answer to a record whose idempotency key and
// request hash are already stored: the request was served, and Record is
// its certificate, to give back in place of a new one.
type ReplayError struct{ Record Record }

func (e *ReplayError) Error() string {
	return fmt.Sprintf("the request with idempotency key %q was already served by certificate %s", e.Record.IdempotencyKey, e.Record.ID)
}

func (e *ReplayError) Unwrap() error { return ErrReplay }
