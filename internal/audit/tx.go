package audit

import (
	"errors"
	"time"
)

// Tx is the audit log's view of one hub transaction (store.Tx.Audit), on
// whichever backend keeps it. An entry appended in a transaction commits
// with the rest of the transaction's work, or not at all: a read whose
// record did not commit is not served.
//
// Appends are serialised by the backend across every process sharing the
// store, so the chain never forks: the first Append of a transaction
// holds the chain's head until the transaction ends.
type Tx interface {
	// Append numbers e after the current head, chains it and stores it
	// with its search keys. It returns the entry as stored: Seq set,
	// Subject upper case, Time in UTC. An entry that fails Validate is
	// refused with an error wrapping ErrInvalid. The first entry of a
	// new day (in Rome) closes the day before: its last entry becomes
	// that day's anchor. In a read-only transaction it fails.
	Append(e Entry) (Entry, error)
	// Head is the recorded chain head; the zero Head for an empty log.
	Head() (Head, error)
	// Get returns entry seq; an error wrapping ErrNotFound when there is
	// no such entry (never written, or removed by retention).
	Get(seq uint64) (Entry, error)
	// Point returns entry seq's number and stored hash, as Get finds it.
	Point(seq uint64) (Head, error)
	// Search calls fn with the entries q selects, in number order, until
	// fn returns false or an error. fn must not use the transaction.
	Search(q Query, fn func(Entry) (bool, error)) error
	// Count is the number of entries stored (retention's removals are not
	// counted).
	Count() (int, error)
	// Anchors are the anchors of the closed days, oldest first.
	Anchors() ([]Anchor, error)
	// Verify walks the whole kept chain and checks it against the
	// recorded head, the retention checkpoint, the stored anchors and the
	// anchors given (published ones: the stronger check), and that every
	// entry can be found by a search. It returns the verified head, or
	// an error wrapping ErrBroken (the first *Break).
	Verify(published ...Anchor) (Head, error)
	// Oldest returns the first entry kept, and false for an empty log.
	Oldest() (Entry, bool, error)
	// Expired returns the run of entries recorded before cutoff at the
	// start of the kept chain: how many there are and the last of them
	// (the zero Head when the first kept entry is not older).
	Expired(cutoff time.Time) (n int, last Head, err error)
	// Pruned returns the retention checkpoint; the zero Pruned when no
	// entry was ever removed.
	Pruned() (Pruned, error)
	// Prune removes at most limit entries from the start of the kept
	// chain, none beyond at (a point a signed anchor recorded), and moves
	// the retention checkpoint past them. It checks every entry it
	// removes as Verify would and that entry at.Seq has at's hash: a
	// broken or rewritten chain is not pruned. It returns how many
	// entries went and whether the chain now starts after at. The daily
	// anchors stay.
	Prune(at Head, limit int) (removed int, done bool, err error)
}

// Sentinel errors of the stores; returned errors wrap them.
var (
	// ErrNotFound: no such entry.
	ErrNotFound = errors.New("audit entry not found")
	// ErrStoreDamaged: the store's own bookkeeping (head, checkpoint,
	// anchors) cannot be read: the data was edited behind the log's back.
	ErrStoreDamaged = errors.New("audit log metadata damaged")
	// ErrBehindAnchor means the store's chain does not reach, or does not
	// match, the last signed anchor: its tail was cut, it was rewritten, or
	// it is a backup older than the anchor file beside it.
	ErrBehindAnchor = errors.New("audit log behind its last anchor")
)
