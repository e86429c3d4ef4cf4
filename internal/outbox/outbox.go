// Package outbox is the kiosk's durable queue of writes for the hub.
//
// Every write the kiosk makes (an issuance request, a fee record, an audit
// event) is committed here together with its idempotency key, in one fsynced
// bbolt transaction, before the screen says "done" or "queued". A Sender
// drains the queue in order whenever the hub answers. Delivery is
// at-least-once: a crash between the hub's answer and the local commit sends
// the operation again, and the hub's idempotency-key check makes the repeat
// harmless. Limits on age, count and amount of queued operations follow what
// payment terminals do offline (Square refuses offline payments older than
// 24 hours; Stripe Terminal caps the offline amount).
//
// Personal data in payloads is encrypted at rest with a key derived from the
// outbox key (which the kiosk keeps sealed, see internal/keystore), removed from the B+tree in the same transaction that records
// its delivery, and scrubbed from the file's free pages by compaction (see
// Outbox.Compact). What stays after delivery is a tombstone with no personal
// data, so a citizen who comes back with a claim code can be told what
// happened; tombstones are purged after Options.Retention.
package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxAge    = 24 * time.Hour
	DefaultMaxCount  = 500
	DefaultRetention = 30 * 24 * time.Hour
	MaxPayload       = 1 << 20
	MaxKeyLen        = 255
)

// Clock is the outbox's source of time; tests pass a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// Options configures Open. Zero values take the defaults above; a negative
// MaxAge or MaxCount switches that limit off.
type Options struct {
	// Key is the outbox key, at least MinKeyLen random bytes the kiosk
	// keeps sealed with its device key (internal/keystore), never beside
	// the file in the clear. Operations with personal data are refused
	// without one; once an outbox has been opened with a key, it must be
	// opened with the same key.
	Key            []byte
	Clock          Clock
	MaxAge         time.Duration // refuse new operations while the oldest queued one is older
	MaxCount       int           // refuse new operations while this many are queued
	MaxAmountCents int64         // refuse an operation that would bring the queued amount above this; 0: no cap
	// MaxOperationCents refuses an operation that collects more than this
	// by itself; 0: no cap.
	MaxOperationCents int64
	Retention         time.Duration // how long tombstones of delivered or dismissed operations are kept
	Logger            *slog.Logger
}

// Limits are the offline limits in force, for showing to the operator.
type Limits struct {
	MaxAge            time.Duration // 0: no limit
	MaxCount          int           // 0: no limit
	MaxAmountCents    int64         // all queued operations together; 0: no limit
	MaxOperationCents int64         // any one operation; 0: no limit
}

// Op is one write for the hub.
type Op struct {
	Kind           string // what the hub should do, e.g. "certificate.request"
	IdempotencyKey string // unique per operation; must not contain personal data
	Payload        []byte
	PersonalData   bool  // the payload names or identifies a person: encrypt it at rest
	AmountCents    int64 // fees the operation collects, counted against MaxAmountCents
	// Now marks an operation its caller sends at once itself with
	// Outbox.Deliver, as the kiosk does for the citizen at the counter: it
	// is written before the first byte goes to the hub, and the Sender
	// leaves it alone until that delivery ends. The caller must call
	// Deliver; a process that stops first leaves it to the next one, whose
	// Sender (or its own Deliver) sends it under the same key.
	Now bool
	// Online says the hub answered just before the operation was written.
	// The offline limits bound what a kiosk takes while it cannot reach
	// the hub, so they are not applied to it; should its delivery fail it
	// waits like any other (the hub may have acted on it) and counts
	// against the limits of the operations after it.
	Online bool
}

// State is where an operation is in its life.
type State string

const (
	Pending   State = "pending"   // queued, not yet accepted by the hub
	Refused   State = "refused"   // the hub refused it; waiting for the operator to see it
	Delivered State = "delivered" // the hub accepted it; only the tombstone is left
	Dismissed State = "dismissed" // refused, seen by the operator and dropped; only the tombstone is left
)

// Entry is an operation as the outbox knows it. Payload is filled only where
// a caller needs it (the Sender's Deliver and the Refused list); for
// delivered or dismissed operations it is gone for good.
type Entry struct {
	ID uint64
	Op
	ClaimCode   string
	State       State
	EnqueuedAt  time.Time
	Attempts    int       // deliveries tried and failed with a retryable error
	Failures    int       // of those, the latest in a row where the hub failed on the operation itself
	LastError   string    // the latest of those failures
	LastAttempt time.Time // when it happened
	Refusal     *Refusal  // why the hub refused it (Refused, Dismissed)
	DoneAt      time.Time // when it was delivered, refused or dismissed
	ResultRef   string    // the hub's reference for the result (Delivered)
	// Kept says a delivered operation's payload is kept until Release
	// (Result.Keep); KeptPayload reads it.
	Kept bool
}

// Stats summarises the queue for the status bar.
type Stats struct {
	Pending     int
	Refused     int
	AmountCents int64     // total of pending operations
	Oldest      time.Time // enqueue time of the oldest pending operation; zero when none
	OldestAge   time.Duration
	Limits      Limits
}

// LimitKind names an offline limit.
type LimitKind string

const (
	LimitAge    LimitKind = "max_age"
	LimitCount  LimitKind = "max_count"
	LimitAmount LimitKind = "max_amount"
	// LimitOperationAmount is the cap on what one operation collects.
	LimitOperationAmount LimitKind = "max_operation_amount"
)

// ErrLimit is matched by every *LimitError with errors.Is.
var ErrLimit = errors.New("offline limit reached")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("the outbox is closed")

// ErrKeyConflict is matched with errors.Is when an idempotency key is
// enqueued again with a different operation.
var ErrKeyConflict = errors.New("idempotency key reused for a different operation")

// LimitError refuses an operation because queuing it would exceed an
// offline limit; the kiosk must reach the hub before accepting more.
type LimitError struct {
	Kind    LimitKind
	Limits  Limits
	Stats   Stats // the queue when the operation was refused
	message string
}

func (e *LimitError) Error() string        { return e.message }
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Outbox is the durable queue. It is safe for concurrent use; one process
// at a time can hold the file.
type Outbox struct {
	path   string
	opts   Options
	limits Limits // under lc.mu: SetLimits changes them while the kiosk runs
	lc     struct {
		mu   sync.Mutex
		at   time.Time // the limit clock (limits.go)
		wall time.Time // the wall clock when at was read
		kept time.Time // the limit clock as last written to the file
	}
	clock Clock
	log   *slog.Logger
	seal  *sealer // nil without an outbox key

	mu      sync.RWMutex // write-held only while Compact swaps the file
	db      *bbolt.DB
	wake    chan struct{}
	sending bool
	sendMu  sync.Mutex

	heldMu sync.Mutex
	held   map[uint64]bool // operations being delivered by Outbox.Deliver, in this process only
}

var (
	bMeta    = []byte("meta")
	bPending = []byte("pending")  // id → record, in enqueue order
	bRefused = []byte("refused")  // id → record
	bDone    = []byte("done")     // id → tombstone
	bPayload = []byte("payloads") // id → payload, sealed when personal; apart from the record so it is stored as is
	bClaims  = []byte("claims")   // claim code → id
	bKeys    = []byte("keys")     // idempotency key → id
	kSalt    = []byte("salt")     // HKDF salt, random per file
	kCheck   = []byte("keycheck") // proves the outbox key is the one the file was written with
	kCount   = []byte("count")    // pending operations
	kAmount  = []byte("amount")   // pending amount in cents
	kDirty   = []byte("dirty")    // personal data was deleted since the last compaction
	bJobs    = []byte("jobs")     // print job id → sealed job, committed with the delivery it prints (print.go)
	buckets  = [][]byte{bMeta, bPending, bRefused, bDone, bPayload, bClaims, bKeys, bJobs}
)

// record is the stored form of a pending or refused operation.
type record struct {
	ID          uint64    `json:"id"`
	Kind        string    `json:"kind"`
	Key         string    `json:"key"`
	Claim       string    `json:"claim"`
	Amount      int64     `json:"amount,omitempty"`
	Personal    bool      `json:"personal,omitempty"`
	Enqueued    time.Time `json:"enqueued"`
	Stamp       time.Time `json:"stamp,omitzero"` // the limit clock when it was queued (limits.go)
	Payload     []byte    `json:"-"`              // sealed when Personal; loaded from bPayload by loadPayload
	Fingerprint []byte    `json:"fp"`
	Attempts    int       `json:"attempts,omitempty"`
	Failures    int       `json:"failures,omitempty"` // the hub's own failures on it in a row (RetryableError.SetAside)
	LastError   string    `json:"last_error,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	Refusal     *Refusal  `json:"refusal,omitempty"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

// tombstone is what stays of a delivered or dismissed operation: nothing
// that identifies a person.
type tombstone struct {
	ID       uint64    `json:"id"`
	Kind     string    `json:"kind"`
	Key      string    `json:"key"`
	Claim    string    `json:"claim"`
	Amount   int64     `json:"amount,omitempty"`
	State    State     `json:"state"`
	Enqueued time.Time `json:"enqueued"`
	DoneAt   time.Time `json:"done_at"`
	Ref      string    `json:"ref,omitempty"`
	Reason   string    `json:"reason,omitempty"` // the refusal's machine code; its message may name the person
	// Kept: the payload stays in bPayload, sealed when Personal, until
	// Release (Result.Keep).
	Kept     bool `json:"kept,omitempty"`
	Personal bool `json:"personal,omitempty"`
}

// Open opens or creates the outbox file at path.
func Open(path string, opts Options) (*Outbox, error) {
	o := &Outbox{path: path, opts: opts, clock: opts.Clock, log: opts.Logger, wake: make(chan struct{}, 1), held: map[uint64]bool{}}
	if o.clock == nil {
		o.clock = SystemClock
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if o.limits, err = normalizeLimits(Limits{MaxAge: opts.MaxAge, MaxCount: opts.MaxCount,
		MaxAmountCents: opts.MaxAmountCents, MaxOperationCents: opts.MaxOperationCents}); err != nil {
		return nil, err
	}
	if o.opts.Retention <= 0 {
		o.opts.Retention = DefaultRetention
	}
	if opts.Key != nil && len(opts.Key) < MinKeyLen {
		return nil, fmt.Errorf("the outbox key has %d bytes, fewer than the %d needed to protect personal data", len(opts.Key), MinKeyLen)
	}

	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	// A compaction that died before its rename leaves this behind; the
	// file lock we now hold means no compaction is running.
	if err := os.Remove(path + ".compact"); err != nil && !errors.Is(err, os.ErrNotExist) {
		db.Close()
		return nil, err
	}
	var dirty bool
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if meta.Get(kSalt) == nil {
			salt := make([]byte, 32)
			if _, err := rand.Read(salt); err != nil {
				return err
			}
			if err := meta.Put(kSalt, salt); err != nil {
				return err
			}
		}
		dirty = meta.Get(kDirty) != nil
		stored := meta.Get(kCheck)
		if opts.Key == nil {
			if stored != nil {
				return fmt.Errorf("the outbox %s holds data encrypted with an outbox key, but no outbox key was given", path)
			}
			return nil
		}
		s, err := newSealer(opts.Key, meta.Get(kSalt))
		if err != nil {
			return err
		}
		if stored == nil {
			if err := meta.Put(kCheck, s.check); err != nil {
				return err
			}
		} else if !bytes.Equal(stored, s.check) {
			return fmt.Errorf("the outbox key does not match the one the outbox %s was written with", path)
		}
		o.seal = s
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	o.db = db
	if dirty {
		// The previous run died before scrubbing deleted personal data.
		o.mu.Lock()
		err := o.compactLocked()
		o.mu.Unlock()
		if err != nil {
			o.Close()
			return nil, err
		}
	}
	if _, err := o.Purge(); err != nil {
		o.Close()
		return nil, err
	}
	if err := o.startLimitClock(); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// openDB opens the file after checking it whole (boltfile): a file cut
// short or with a changed bit is refused with a *boltfile.DamageError
// rather than crashing the kiosk. The outbox is small, so the check costs
// little.
func openDB(path string) (*bbolt.DB, error) {
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the outbox %s: %w", path, err)
	}
	return db, nil
}

// Close compacts the file if personal data was deleted since the last
// compaction, then closes it.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.db == nil {
		return nil
	}
	var dirty bool
	o.db.View(func(tx *bbolt.Tx) error {
		dirty = tx.Bucket(bMeta).Get(kDirty) != nil
		return nil
	})
	var cerr error
	if dirty {
		cerr = o.compactLocked()
	}
	var err error
	if o.db != nil {
		err = o.db.Close()
		o.db = nil
	}
	return errors.Join(cerr, err)
}

// Wake is signalled after each Enqueue; the Sender waits on it when idle.
func (o *Outbox) wakeup() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) update(fn func(tx *bbolt.Tx) error) error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.db == nil {
		return ErrClosed
	}
	return o.db.Update(fn)
}

func (o *Outbox) view(fn func(tx *bbolt.Tx) error) error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.db == nil {
		return ErrClosed
	}
	return o.db.View(fn)
}

func validate(op Op) error {
	switch {
	case op.Kind == "":
		return errors.New("the operation has no kind, so the hub would not know what to do with it")
	case op.IdempotencyKey == "":
		return errors.New("the operation has no idempotency key, so a repeated delivery could act twice")
	case len(op.IdempotencyKey) > MaxKeyLen:
		return fmt.Errorf("the idempotency key has %d bytes, more than the %d allowed", len(op.IdempotencyKey), MaxKeyLen)
	case len(op.Payload) > MaxPayload:
		return fmt.Errorf("the payload has %d bytes, more than the %d an outbox entry holds", len(op.Payload), MaxPayload)
	case op.AmountCents < 0:
		return fmt.Errorf("the amount is %d cents; a queued operation cannot pay money out", op.AmountCents)
	}
	return nil
}

// Enqueue stores op and its idempotency key in one fsynced transaction and
// returns the queued entry with its claim code. When it returns nil the
// operation survives a crash or power cut; only then may the screen say
// "done" or "queued".
//
// Enqueuing an idempotency key again with the same operation returns the
// existing entry, so a caller unsure whether its first call committed can
// simply call again. A different operation under a used key is refused with
// ErrKeyConflict. An operation that would exceed an offline limit is refused
// with a *LimitError.
func (o *Outbox) Enqueue(ctx context.Context, op Op) (Entry, error) {
	if err := validate(op); err != nil {
		return Entry{}, err
	}
	if op.PersonalData && o.seal == nil {
		return Entry{}, errors.New("the operation carries personal data, but the outbox has no key to encrypt it with")
	}
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	fp := fingerprint(o.seal, op)
	now := o.clock.Now()
	stamp := o.limitNow()
	var e Entry
	err := o.update(func(tx *bbolt.Tx) error {
		if idb := tx.Bucket(bKeys).Get([]byte(op.IdempotencyKey)); idb != nil {
			id := binary.BigEndian.Uint64(idb)
			if r := getRecord(tx, bPending, id); r != nil {
				if !bytes.Equal(r.Fingerprint, fp) {
					return fmt.Errorf("idempotency key %q is already queued for a different operation: %w", op.IdempotencyKey, ErrKeyConflict)
				}
				e = r.entry(Pending)
				return nil
			}
			if r := getRecord(tx, bRefused, id); r != nil {
				if !bytes.Equal(r.Fingerprint, fp) {
					return fmt.Errorf("idempotency key %q was already used for a different operation: %w", op.IdempotencyKey, ErrKeyConflict)
				}
				e = r.entry(Refused)
				return nil
			}
			if t := getTombstone(tx, id); t != nil {
				// The payload is gone, so a conflict can only be told
				// from the kind and amount.
				if t.Kind != op.Kind || t.Amount != op.AmountCents {
					return fmt.Errorf("idempotency key %q was already used for a different operation: %w", op.IdempotencyKey, ErrKeyConflict)
				}
				e = t.entry()
				return nil
			}
		}
		if !op.Online {
			if err := o.checkLimits(tx, stamp, op.AmountCents); err != nil {
				return err
			}
		}
		if err := o.keepLimitClock(tx); err != nil {
			return err
		}
		pending := tx.Bucket(bPending)
		id, err := pending.NextSequence()
		if err != nil {
			return err
		}
		claims := tx.Bucket(bClaims)
		var claim string
		for {
			if claim, err = newClaimCode(); err != nil {
				return err
			}
			if claims.Get([]byte(claim)) == nil {
				break
			}
		}
		payload := append([]byte(nil), op.Payload...)
		if op.PersonalData {
			if payload, err = o.seal.seal(id, op.IdempotencyKey, op.Payload); err != nil {
				return err
			}
		}
		r := &record{ID: id, Kind: op.Kind, Key: op.IdempotencyKey, Claim: claim, Amount: op.AmountCents,
			Personal: op.PersonalData, Enqueued: now, Stamp: stamp, Payload: payload, Fingerprint: fp}
		if err := putJSON(pending, id, r); err != nil {
			return err
		}
		idb := idKey(id)
		if err := tx.Bucket(bPayload).Put(idb, payload); err != nil {
			return err
		}
		if err := claims.Put([]byte(claim), idb); err != nil {
			return err
		}
		if err := tx.Bucket(bKeys).Put([]byte(op.IdempotencyKey), idb); err != nil {
			return err
		}
		if err := addCounters(tx, 1, op.AmountCents); err != nil {
			return err
		}
		if op.Now {
			// Held before the commit makes it visible to the Sender.
			o.hold(id)
		}
		e = r.entry(Pending)
		return nil
	})
	if err != nil {
		if op.Now && e.ID != 0 {
			o.release(e.ID)
		}
		if errors.Is(err, ErrLimit) {
			// The refusal's transaction wrote nothing; the limit clock
			// that decided it is kept all the same, so no restart with
			// the wall clock set back makes the queue younger.
			if kerr := o.keepLimitClockIfDue(); kerr != nil {
				err = errors.Join(err, kerr)
			}
		}
		return Entry{}, err
	}
	e.Payload = nil
	if !op.Now {
		o.wakeup()
	}
	return e, nil
}

// euros keeps the point as the decimal separator these English messages have
// always used; fees.Amount does the digits so no second formatter exists.
func euros(c int64) string { return fees.Amount(c, '.', 0) + " EUR" }

// readStats reads the queue's figures; ages are measured at now on the
// limit clock (limits.go).
func readStats(tx *bbolt.Tx, now time.Time) Stats {
	meta := tx.Bucket(bMeta)
	st := Stats{Pending: int(getUint(meta, kCount)), AmountCents: int64(getUint(meta, kAmount))}
	if _, v := tx.Bucket(bPending).Cursor().First(); v != nil {
		var r record
		if json.Unmarshal(v, &r) == nil {
			st.Oldest = r.Enqueued
			st.OldestAge = now.Sub(r.stampOf())
		}
	}
	st.Refused = tx.Bucket(bRefused).Stats().KeyN
	return st
}

// Stats returns the queue's figures for the status bar. The status bar
// asks every few seconds, so this is also where the limit clock is kept in
// the file while nothing else is written.
func (o *Outbox) Stats() (Stats, error) {
	now := o.limitNow()
	var st Stats
	err := o.view(func(tx *bbolt.Tx) error {
		st = readStats(tx, now)
		return nil
	})
	if err == nil {
		err = o.keepLimitClockIfDue()
	}
	st.Limits = o.Limits()
	return st, err
}

// Pending lists the queued operations in delivery order, without payloads.
func (o *Outbox) Pending() ([]Entry, error) { return o.list(bPending, Pending, false) }

// Refused lists the operations the hub refused, with payloads, for the
// operator to review and dismiss.
func (o *Outbox) Refused() ([]Entry, error) { return o.list(bRefused, Refused, true) }

func (o *Outbox) list(bucket []byte, st State, withPayload bool) ([]Entry, error) {
	var out []Entry
	err := o.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			e := r.entry(st)
			if withPayload {
				loadPayload(tx, &r)
				// One unreadable payload must not hide the others from
				// the operator; its entry is listed without it.
				e.Payload, _ = o.payload(&r)
			} else {
				e.Payload = nil
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

func (o *Outbox) payload(r *record) ([]byte, error) {
	if !r.Personal {
		return r.Payload, nil
	}
	if o.seal == nil {
		return nil, errUnsealed
	}
	return o.seal.open(r.ID, r.Key, r.Payload)
}

// ErrNotFound is returned by Lookup for a well-formed code the outbox does
// not know (never issued here, or its tombstone was purged).
var ErrNotFound = errors.New("no operation with this claim code is known to this kiosk")

// Lookup finds an operation by the claim code printed on its receipt, in any
// state, without its payload.
func (o *Outbox) Lookup(claimCode string) (Entry, error) {
	code, err := ParseClaimCode(claimCode)
	if err != nil {
		return Entry{}, err
	}
	return o.lookup(bClaims, code)
}

// LookupKey finds an operation by its idempotency key.
func (o *Outbox) LookupKey(key string) (Entry, error) { return o.lookup(bKeys, key) }

func (o *Outbox) lookup(index []byte, k string) (Entry, error) {
	var e Entry
	err := o.view(func(tx *bbolt.Tx) error {
		idb := tx.Bucket(index).Get([]byte(k))
		if idb == nil {
			return ErrNotFound
		}
		var ok bool
		if e, ok = entryOf(tx, binary.BigEndian.Uint64(idb)); !ok {
			return ErrNotFound
		}
		return nil
	})
	e.Payload = nil
	return e, err
}

// entryOf finds operation id in tx in whatever state it is: pending, set
// aside (refused) or done (its tombstone).
func entryOf(tx *bbolt.Tx, id uint64) (Entry, bool) {
	if r := getRecord(tx, bPending, id); r != nil {
		return r.entry(Pending), true
	}
	if r := getRecord(tx, bRefused, id); r != nil {
		return r.entry(Refused), true
	}
	if t := getTombstone(tx, id); t != nil {
		return t.entry(), true
	}
	return Entry{}, false
}

// Dismiss drops a refused operation once the operator has seen it: its
// payload is deleted and a tombstone with the refusal's reason code stays.
func (o *Outbox) Dismiss(id uint64) error {
	now := o.clock.Now()
	return o.update(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bRefused, id)
		if r == nil {
			return fmt.Errorf("operation %d is not among the refused operations", id)
		}
		if err := errors.Join(tx.Bucket(bRefused).Delete(idKey(id)), tx.Bucket(bPayload).Delete(idKey(id))); err != nil {
			return err
		}
		t := r.tombstone(Dismissed, now, "")
		if r.Refusal != nil {
			t.Reason = r.Refusal.Reason
		}
		if err := putJSON(tx.Bucket(bDone), id, t); err != nil {
			return err
		}
		return markDirty(tx)
	})
}

// Purge deletes tombstones older than the retention period, with their
// claim codes and idempotency keys, and returns how many went.
func (o *Outbox) Purge() (int, error) {
	cutoff := o.clock.Now().Add(-o.opts.Retention)
	n := 0
	err := o.update(func(tx *bbolt.Tx) error {
		done := tx.Bucket(bDone)
		var old []tombstone
		err := done.ForEach(func(k, v []byte) error {
			var t tombstone
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.DoneAt.Before(cutoff) {
				old = append(old, t)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range old {
			if err := errors.Join(done.Delete(idKey(t.ID)),
				tx.Bucket(bClaims).Delete([]byte(t.Claim)),
				tx.Bucket(bKeys).Delete([]byte(t.Key))); err != nil {
				return err
			}
			if t.Kept {
				// Never collected: its request goes with it.
				if err := errors.Join(tx.Bucket(bPayload).Delete(idKey(t.ID)), markDirty(tx)); err != nil {
					return err
				}
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}

// Compact rewrites the file with only its live data and replaces the old
// file atomically. bbolt deletes by freeing pages, not by overwriting them,
// so until a compaction the bytes of a deleted payload (encrypted) can stay
// in the file's free space. The Sender compacts when idle (at most every
// SenderOptions.CompactEvery); Close and Open
// compact when anything personal was deleted since the last compaction.
func (o *Outbox) Compact() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.db == nil {
		return ErrClosed
	}
	return o.compactLocked()
}

func (o *Outbox) compactLocked() error {
	tmp := o.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dst, err := boltfile.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("compacting the outbox: %w", err)
	}
	err = bbolt.Compact(dst, o.db, 0)
	if err == nil {
		err = dst.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bMeta).Delete(kDirty) })
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compacting the outbox: %w", err)
	}
	if err := o.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compacting the outbox: %w", err)
	}
	o.db = nil
	renameErr := os.Rename(tmp, o.path)
	if renameErr == nil {
		// Without this a power cut could bring the old file back after
		// writes were committed to the new one.
		renameErr = syncDir(filepath.Dir(o.path))
	} else {
		os.Remove(tmp)
	}
	db, err := openDB(o.path)
	if err != nil {
		return errors.Join(renameErr, err)
	}
	o.db = db
	if renameErr != nil {
		return fmt.Errorf("compacting the outbox: %w", renameErr)
	}
	o.log.Debug("outbox compacted", slog.String("path", o.path))
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// head returns the oldest pending operation with its payload, or ok false
// when nothing is pending, or when the oldest is being delivered by
// Outbox.Deliver: the queue goes on in order once that delivery ends.
func (o *Outbox) head() (e Entry, ok bool, err error) {
	err = o.view(func(tx *bbolt.Tx) error {
		_, v := tx.Bucket(bPending).Cursor().First()
		if v == nil {
			return nil
		}
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if o.isHeld(r.ID) {
			return nil
		}
		// An error is reported to the sender with the entry, so the
		// operation can be set aside instead of blocking the queue.
		var perr error
		e, perr = o.pendingEntry(tx, &r)
		ok = true
		return perr
	})
	return e, ok, err
}

// pendingEntry is pending record r with its payload opened; when the
// payload cannot be opened the entry comes without it, with the error.
func (o *Outbox) pendingEntry(tx *bbolt.Tx, r *record) (Entry, error) {
	loadPayload(tx, r)
	e := r.entry(Pending)
	p, err := o.payload(r)
	if err != nil {
		e.Payload = nil
		return e, err
	}
	e.Payload = p
	return e, nil
}

// delivered replaces a pending operation with its tombstone, and puts the
// result's print jobs in the spool in the same commit: a crash leaves
// either the operation pending (to be sent again under its key) or
// delivered with every document still to print.
func (o *Outbox) delivered(id uint64, res Result) (Entry, error) {
	now := o.clock.Now()
	sealed, err := o.sealJobs(res.Jobs)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	err = o.update(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bPending, id)
		if r == nil {
			return fmt.Errorf("operation %d is no longer pending", id)
		}
		t := r.tombstone(Delivered, now, res.Ref)
		if err := tx.Bucket(bPending).Delete(idKey(id)); err != nil {
			return err
		}
		if res.Keep {
			t.Kept, t.Personal = true, r.Personal
		} else if err := tx.Bucket(bPayload).Delete(idKey(id)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bDone), id, t); err != nil {
			return err
		}
		if err := addCounters(tx, -1, -r.Amount); err != nil {
			return err
		}
		if err := putJobs(tx, sealed); err != nil {
			return err
		}
		e = t.entry()
		if r.Personal && !res.Keep {
			return markDirty(tx)
		}
		return nil
	})
	return e, err
}

// refused moves a pending operation to the refused list.
func (o *Outbox) refused(id uint64, why *Refusal) (Entry, error) {
	now := o.clock.Now()
	var e Entry
	err := o.update(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bPending, id)
		if r == nil {
			return fmt.Errorf("operation %d is no longer pending", id)
		}
		r.Refusal, r.DoneAt = why, now
		if err := tx.Bucket(bPending).Delete(idKey(id)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bRefused), id, r); err != nil {
			return err
		}
		if err := addCounters(tx, -1, -r.Amount); err != nil {
			return err
		}
		e = r.entry(Refused)
		e.Payload = nil
		return nil
	})
	return e, err
}

// failed records a retryable delivery failure on a pending operation.
func (o *Outbox) failed(id uint64, cause error) error {
	now := o.clock.Now()
	return o.update(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bPending, id)
		if r == nil {
			return nil
		}
		r.Attempts++
		r.LastError, r.LastAttempt = cause.Error(), now
		if re := (*RetryableError)(nil); errors.As(cause, &re) && re.SetAside {
			r.Failures++
		} else {
			r.Failures = 0
		}
		return putJSON(tx.Bucket(bPending), id, r)
	})
}

func (o *Outbox) dirty() bool {
	var d bool
	o.view(func(tx *bbolt.Tx) error {
		d = tx.Bucket(bMeta).Get(kDirty) != nil
		return nil
	})
	return d
}

func markDirty(tx *bbolt.Tx) error { return tx.Bucket(bMeta).Put(kDirty, []byte{1}) }

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func putJSON(b *bbolt.Bucket, id uint64, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(idKey(id), data)
}

func getRecord(tx *bbolt.Tx, bucket []byte, id uint64) *record {
	v := tx.Bucket(bucket).Get(idKey(id))
	if v == nil {
		return nil
	}
	var r record
	if json.Unmarshal(v, &r) != nil {
		return nil
	}
	return &r
}

func loadPayload(tx *bbolt.Tx, r *record) {
	if v := tx.Bucket(bPayload).Get(idKey(r.ID)); v != nil {
		r.Payload = append([]byte(nil), v...)
	}
}

func getTombstone(tx *bbolt.Tx, id uint64) *tombstone {
	v := tx.Bucket(bDone).Get(idKey(id))
	if v == nil {
		return nil
	}
	var t tombstone
	if json.Unmarshal(v, &t) != nil {
		return nil
	}
	return &t
}

func getUint(b *bbolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func addCounters(tx *bbolt.Tx, count, amount int64) error {
	meta := tx.Bucket(bMeta)
	c := int64(getUint(meta, kCount)) + count
	a := int64(getUint(meta, kAmount)) + amount
	if c < 0 || a < 0 {
		return errors.New("the outbox counters went negative; the file is inconsistent")
	}
	return errors.Join(meta.Put(kCount, binary.BigEndian.AppendUint64(nil, uint64(c))),
		meta.Put(kAmount, binary.BigEndian.AppendUint64(nil, uint64(a))))
}

func (r *record) entry(st State) Entry {
	return Entry{ID: r.ID, Op: Op{Kind: r.Kind, IdempotencyKey: r.Key, Payload: r.Payload, PersonalData: r.Personal, AmountCents: r.Amount},
		ClaimCode: r.Claim, State: st, EnqueuedAt: r.Enqueued, Attempts: r.Attempts, Failures: r.Failures, LastError: r.LastError,
		LastAttempt: r.LastAttempt, Refusal: r.Refusal, DoneAt: r.DoneAt}
}

func (r *record) tombstone(st State, at time.Time, ref string) *tombstone {
	return &tombstone{ID: r.ID, Kind: r.Kind, Key: r.Key, Claim: r.Claim, Amount: r.Amount, State: st,
		Enqueued: r.Enqueued, DoneAt: at, Ref: ref}
}

func (t *tombstone) entry() Entry {
	e := Entry{ID: t.ID, Op: Op{Kind: t.Kind, IdempotencyKey: t.Key, AmountCents: t.Amount},
		ClaimCode: t.Claim, State: t.State, EnqueuedAt: t.Enqueued, DoneAt: t.DoneAt, ResultRef: t.Ref}
	if t.Reason != "" {
		e.Refusal = &Refusal{Reason: t.Reason}
	}
	e.Kept = t.Kept
	return e
}

// KeptPayload is the payload a delivered operation keeps (Result.Keep),
// opened.
func (o *Outbox) KeptPayload(id uint64) ([]byte, error) {
	var out []byte
	err := o.view(func(tx *bbolt.Tx) error {
		t := getTombstone(tx, id)
		if t == nil || !t.Kept {
			return fmt.Errorf("operation %d keeps no payload: %w", id, ErrNotFound)
		}
		v := tx.Bucket(bPayload).Get(idKey(id))
		if v == nil {
			return fmt.Errorf("operation %d has lost the payload it keeps", id)
		}
		r := &record{ID: t.ID, Key: t.Key, Personal: t.Personal, Payload: append([]byte(nil), v...)}
		var err error
		out, err = o.payload(r)
		return err
	})
	return out, err
}

// Release deletes the payload a delivered operation kept (Result.Keep):
// what needed it is done. Releasing one that keeps nothing does nothing.
func (o *Outbox) Release(id uint64) error {
	return o.update(func(tx *bbolt.Tx) error {
		t := getTombstone(tx, id)
		if t == nil || !t.Kept {
			return nil
		}
		t.Kept = false
		if err := errors.Join(tx.Bucket(bPayload).Delete(idKey(id)), putJSON(tx.Bucket(bDone), id, t)); err != nil {
			return err
		}
		if t.Personal {
			return markDirty(tx)
		}
		return nil
	})
}
