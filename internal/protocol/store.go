package protocol

import (
	"context"
	"errors"
	"time"
)

// The register is kept by a store (internal/store: one bbolt file, or a
// PostgreSQL database several hubs share). Two interfaces make it up, for
// two kinds of work:
//
//   - Tx is the register seen from inside one hub transaction: the entry of
//     a document is written there together with the document's record and
//     its audit entries, so they commit together or not at all.
//   - Numbering hands out numbers outside any transaction, before the
//     document exists: a certificate prints its number, so the number is
//     reserved first, the document made, and then the entry written (Tx.Write)
//     and the number declared Registered, or the number Abandoned if the
//     document never came to be. Several hubs on one database number from
//     the database, so their numbers form one sequence.
//
// Every number Reserve returns ends in exactly one of: an entry written
// by Tx.Write and committed (then Registered), or Abandon. A number
// abandoned while no later number of its year is registered is given back
// (the next Reserve hands it out again, since nothing carries it); once a
// later one is registered it can only be annulled (Annulment, art. 54 DPR
// 445/2000), so the register never has a hole.

// Sentinel errors of the register's stores; the errors returned wrap them.
var (
	// ErrNotFound: no entry has that number.
	ErrNotFound = errors.New("protocol entry not found")
	// ErrImmutable: the number already has an entry, which is never
	// replaced. A write that fails with it after a commit reported as
	// failed means the entry reached the store after all.
	ErrImmutable = errors.New("protocol entries cannot be changed")
	// ErrNotReserved: Tx.Write of a number Numbering did not hand out, or
	// whose reservation ended (given back, annulled, or annulled by Recover
	// after ReservationTimeout).
	ErrNotReserved = errors.New("protocol number not reserved")
)

// Reasons of the annulments the numbering registers on its own, and the
// author that signs them.
const (
	// DefaultAuthor signs the annulments a store's numbering registers.
	DefaultAuthor = "procedura automatica del protocollo informatico (hub Sportello)"
	// ReasonRecovered is the reason of a number Recover annuls: reserved,
	// then left without an entry by a hub that stopped.
	ReasonRecovered = "numero assegnato a un documento non registrato prima dell'interruzione del servizio"
	// ReasonFailed leads the reason of a number whose document's issuance
	// failed.
	ReasonFailed = "numero assegnato a un documento la cui emissione non è riuscita"
)

// ReservationTimeout is how long a reservation may stay without an entry
// before Recover takes its hub for stopped and annuls the number (on a
// database several hubs share; a hub alone on its file knows its own
// reservations and annuls only those a crash left). An issuance makes its
// document in well under a second; two minutes leave room for a stalled
// disk or a garbage collection without annulling a number still in use,
// and bound how long a crashed hub's numbers stay open in the register.
const ReservationTimeout = 2 * time.Minute

// Tx is the register's view of one hub transaction. In a read-only
// transaction Write fails (store.ErrReadOnly).
type Tx interface {
	// Write registers e under its number, which Numbering.Reserve handed
	// out dated e.Time and which is still reserved (ErrNotReserved
	// otherwise). e must be valid (Entry.Validate: ErrInvalid), of the
	// year of its time in Rome, not an annulment (Numbering annuls), and
	// not dated in a closed day (ErrDayClosed: the day was closed while
	// its issuance was in flight; the issuance is retried under a new
	// number). A number that already has an entry is refused with
	// ErrImmutable.
	Write(e Entry) error
	// Get returns the entry numbered n (ErrNotFound). Only n's year and
	// progressive count (Number.Same).
	Get(n Number) (Entry, error)
	// Last returns the highest number of year that has an entry, zero if
	// none.
	Last(year int) (Number, error)
	// Day returns the entries dated on day d (in Rome), in number order:
	// the daily register.
	Day(d Day) ([]Entry, error)
	// Years lists the years that have entries, oldest first.
	Years() ([]int, error)
	// Floor is the earliest time the next entry may be dated: the latest
	// entry's time (or the latest time handed out, where the store knows
	// it), or the first instant after the last closed day if later.
	Floor() (time.Time, error)
	// Closed returns the closing of day d, if d is closed.
	Closed(d Day) (Closing, bool, error)
	// LastClosed returns the closing of the latest closed day, if any.
	LastClosed() (Closing, bool, error)
	// Closings lists every closing, oldest day first.
	Closings() ([]Closing, error)
}

// Numbering hands out the register's numbers. Its methods run their own
// short transactions, never inside a hub transaction; the times they are
// given are the caller's clock (the hub's injected clock), so the store
// keeps none of its own.
type Numbering interface {
	// Reserve hands out the next number and its registration time for an
	// entry made when the clock reads at: at itself, or the register's
	// latest time if at is a little behind it (Stamp: ErrClockBehind
	// further back). The number is of the registration time's year in
	// Rome and carries reg's codes (checked: ErrRegister); numbers are
	// handed out in time order, one sequence for every hub on the store.
	Reserve(ctx context.Context, at time.Time, reg Register) (Number, time.Time, error)
	// Registered tells the numbering that n's entry committed. Numbers
	// abandoned below n can no longer be given back: they are annulled,
	// dated at (or later, never before the register's latest entry), and
	// the annulments written now are returned so the caller can record
	// them (the audit log). An annulment that cannot be written now is
	// written by a later call or by Recover.
	Registered(ctx context.Context, n Number, at time.Time) ([]Entry, error)
	// Abandon ends reserved number n, whose document will not be
	// registered, for reason (ref names the document it was meant for,
	// if any). While no later number of its year is registered it is held
	// back and given back once every number above it is too; if a later
	// one is registered it is annulled, dated at (or the register's latest
	// time if later), and the annulment returned. An annulment that cannot
	// be written is retried by Registered or Recover: the error says so.
	Abandon(ctx context.Context, n Number, at time.Time, reason, ref string) (*Entry, error)
	// CloseDay closes the register of d, a day over when the clock reads
	// at: the SHA-256 of its CSV (WriteCSV) is fixed, and nothing is
	// filed into d or any day before it from then on (a registration in
	// flight dated in d fails with ErrDayClosed). It returns the closing
	// and the entries it covers. Closing a closed day changes nothing and
	// checks the day still gives the CSV it was closed with.
	CloseDay(ctx context.Context, d Day, at time.Time) (Closing, []Entry, error)
	// Recover annuls, dated at (or the register's latest time if later),
	// the numbers a stopped hub left reserved without an entry, and the
	// abandoned numbers waiting for an annulment, and returns the
	// annulments so the caller can record them (the audit log). Every hub
	// runs it at start and periodically. A reservation is taken for
	// left behind once it is ReservationTimeout old, or, on a store only
	// one process writes (bbolt), when that process started.
	Recover(ctx context.Context, at time.Time) ([]Entry, error)
}

// Importer is implemented by the Tx of a store that can take a register
// as another store kept it (hub migrate): entries, registrations and
// annulments alike, under their own numbers and times, and the closings
// of the days they fill. The numbering then goes on after the highest
// number of each year and no earlier than the latest time. An entry
// whose number the store already holds is refused (ErrImmutable), as is
// an invalid one (ErrInvalid).
type Importer interface {
	Import(entries []Entry, closings []Closing) error
}

// ErrAllocation marks an error of Numbering.Reserve as its callers return
// it: no number could be handed out, so the certificate or filing that
// needed one was refused. The hub counts these for its monitoring (an
// alert fires on them: a register that cannot number stops every desk).
var ErrAllocation = errors.New("no protocol number could be allocated")

// AllocationFailed marks err, from Numbering.Reserve, with ErrAllocation;
// its message stays err's and errors.Is and errors.As still find what err
// wraps. A nil err stays nil.
func AllocationFailed(err error) error {
	if err == nil {
		return nil
	}
	return allocationError{err}
}

type allocationError struct{ err error }

func (e allocationError) Error() string   { return e.err.Error() }
func (e allocationError) Unwrap() []error { return []error{ErrAllocation, e.err} }
