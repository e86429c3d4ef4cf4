package protobolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

// DefaultAuthor signs the annulments the allocator registers on its own.
const DefaultAuthor = protocol.DefaultAuthor

// Reasons of the annulments the allocator and its callers register.
const (
	ReasonRecovered = protocol.ReasonRecovered
	ReasonFailed    = protocol.ReasonFailed
)

// AllocatorOptions tune an Allocator; the zero value is right for a hub.
type AllocatorOptions struct {
	// Now dates annulments; nil is time.Now.
	Now func() time.Time
	// Author signs annulments; empty is DefaultAuthor.
	Author string
	// Annulled, when set, is called in every transaction that writes
	// annulments (the recovery scan's, and each annulment of a number
	// abandoned below a registered one) with the annulments it wrote, so
	// that what records them (the audit log) commits with them or not at
	// all: a crash between the two would otherwise lose the record.
	Annulled func(tx *bbolt.Tx, annulled []protocol.Entry) error
	// Start, when set, dates the recovery scan's annulments instead of
	// Now: the caller's clock reading when it opened the numbering.
	Start time.Time
}

// Allocator hands out protocol numbers in memory so that documents can be
// made before their registration and outside the file's write lock. It
// relies on being the only source of numbers of its file, which is why
// AllocatorFor gives one per open *bbolt.DB and Register refuses to run
// beside it, and on bbolt's file lock keeping other processes out.
//
// Every number Reserve returns must end in exactly one of: Registered, once
// its entry committed (Write), or Abandon.
//
// A number is annulled only when it can no longer be given back: its
// document failed and a later number of its year was registered. While
// every later number is still in flight the decision waits, so when a
// whole run of issuances fails together (a full disk) every number comes
// back and none is annulled.
type Allocator struct {
	db       weak.Pointer[bbolt.DB] // weak, so the process-wide table does not keep closed files alive
	now      func() time.Time
	author   string
	annulled func(tx *bbolt.Tx, annulled []protocol.Entry) error

	mu sync.Mutex
	// years holds the numbering of each year in use.
	years map[int]*numbering
	// latest is the latest time handed out or registered, or the first
	// instant after the last closed day: the next entry is dated no
	// earlier (protocol.Stamp).
	latest    time.Time
	unsettled []protocol.Entry
	retry     atomic.Bool // unsettled is not empty
	recovered []protocol.Entry
	// reported is set once the recovery scan's annulments were handed to
	// a caller (TakeRecovered), so they are reported once.
	reported bool
}

// numbering is one year's state of an Allocator.
type numbering struct {
	last       uint64 // highest number handed out
	registered uint64 // highest number known to be registered
	// back holds the abandoned numbers above registered, waiting for the
	// numbers above them: given back if those are too, annulled with
	// their reason if one of those is registered.
	back map[uint64]abandoned
}

type abandoned struct {
	reason, ref string
	reg         protocol.Register // the codes the number was handed out under
}

// The allocators of the open files of this process.
var allocators struct {
	sync.Mutex
	m map[weak.Pointer[bbolt.DB]]*Allocator
}

func allocatorOf(db *bbolt.DB) *Allocator {
	allocators.Lock()
	defer allocators.Unlock()
	return allocators.m[weak.Make(db)]
}

// AllocatorFor returns the allocator of db, creating it on first use:
// then it initialises the register's buckets and runs the recovery scan,
// which annuls every number left without an entry below a year's highest
// one (Recover). Later calls return the same allocator and ignore opts.
func AllocatorFor(db *bbolt.DB, opts AllocatorOptions) (*Allocator, error) {
	key := weak.Make(db)
	allocators.Lock()
	defer allocators.Unlock()
	if a := allocators.m[key]; a != nil {
		return a, nil
	}
	a := &Allocator{db: key, now: opts.Now, author: opts.Author, annulled: opts.Annulled, years: map[int]*numbering{}}
	if a.now == nil {
		a.now = time.Now
	}
	if a.author == "" {
		a.author = DefaultAuthor
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if err := Init(tx); err != nil {
			return err
		}
		var err error
		start := opts.Start
		if start.IsZero() {
			start = a.now()
		}
		if a.recovered, err = Recover(tx, start, a.author); err != nil {
			return err
		}
		if a.annulled != nil && len(a.recovered) > 0 {
			if err := a.annulled(tx, a.recovered); err != nil {
				return fmt.Errorf("the annulments of the recovery scan could not be recorded: %w", err)
			}
		}
		a.latest, err = Floor(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the protocol register could not be checked for unregistered numbers: %w", err)
	}
	if allocators.m == nil {
		allocators.m = map[weak.Pointer[bbolt.DB]]*Allocator{}
	}
	allocators.m[key] = a
	runtime.AddCleanup(db, func(k weak.Pointer[bbolt.DB]) {
		allocators.Lock()
		delete(allocators.m, k)
		allocators.Unlock()
	}, key)
	return a, nil
}

// Recovered returns the annulments the recovery scan registered when the
// allocator was created, for the hub's log.
func (a *Allocator) Recovered() []protocol.Entry { return a.recovered }

// TakeRecovered returns the recovery scan's annulments the first time it
// is called, nil after: for the caller's log (the Annulled option
// recorded them with the scan).
func (a *Allocator) TakeRecovered() []protocol.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reported {
		return nil
	}
	a.reported = true
	return a.recovered
}

// Outstanding reports whether n was handed out by Reserve and has not
// been given back or annulled by the allocator: a number Write may still
// register (one already registered is refused there as a duplicate).
func (a *Allocator) Outstanding(n protocol.Number) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	y := a.years[n.Year]
	if y == nil || n.Seq == 0 || n.Seq > y.last {
		return false
	}
	_, back := y.back[n.Seq]
	return !back
}
func (a *Allocator) file() (*bbolt.DB, error) {
	db := a.db.Value()
	if db == nil {
		return nil, errors.New("the protocol register's file is closed")
	}
	return db, nil
}

// Reserve hands out the next number and its registration time for an entry
// made when the clock reads at: at itself, or the register's latest time if
// at is a little before it; protocol.ErrClockBehind if at is further back
// (protocol.Stamp). The number is of the registration time's year, in
// Rome, and numbers are handed out in time order. It fails otherwise only
// if the year's register cannot be read on its first use.
func (a *Allocator) Reserve(at time.Time) (protocol.Number, time.Time, error) {
	a.Settle()
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := protocol.Stamp(at, a.latest)
	if err != nil {
		return protocol.Number{}, t, err
	}
	n := protocol.Number{Year: protocol.YearOf(t)}
	y, err := a.year(n.Year)
	if err != nil {
		return n, t, err
	}
	y.last++
	n.Seq = y.last
	a.latest = t
	return n, t, nil
}

// year returns the numbering of year y, read from the file on first use.
// a.mu is held.
func (a *Allocator) year(y int) (*numbering, error) {
	if nb := a.years[y]; nb != nil {
		return nb, nil
	}
	db, err := a.file()
	if err != nil {
		return nil, err
	}
	var last uint64
	if err := db.View(func(tx *bbolt.Tx) error { last = Last(tx, y).Seq; return nil }); err != nil {
		return nil, fmt.Errorf("cannot read the %d protocol register: %w", y, err)
	}
	nb := &numbering{last: last, registered: last, back: map[uint64]abandoned{}}
	a.years[y] = nb
	return nb, nil
}

// Registered tells the allocator that n's entry has committed. Abandoned
// numbers below n can then no longer be given back: their annulments are
// queued, and Settle (which Reserve calls) writes them; call it after
// Registered to have them written at once.
func (a *Allocator) Registered(n protocol.Number) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.registered(n)
}

// registered is Registered with a.mu held.
func (a *Allocator) registered(n protocol.Number) {
	y := a.years[n.Year]
	if y == nil {
		return // not a number this allocator handed out
	}
	delete(y.back, n.Seq)
	y.last = max(y.last, n.Seq)
	if n.Seq <= y.registered {
		return
	}
	y.registered = n.Seq
	for seq, ab := range y.back {
		if seq < y.registered {
			delete(y.back, seq)
			// Dated when written, by Settle.
			a.unsettled = append(a.unsettled, protocol.Annulment(protocol.Number{Register: ab.reg, Year: n.Year, Seq: seq}, a.latest, a.author, protocol.RuleUnregistered, ab.reason, ab.ref))
			a.retry.Store(true)
		}
	}
}

// Abandon ends a reserved number whose document will not be registered.
// If no later number of its year was registered it is held back: given back
// once every number above it is given back too (the next Reserve then
// returns it again: nothing was registered under it, so nothing is lost),
// or annulled with reason (ref names the document it was meant for, if
// any) as soon as one above it is registered. If a later number is already
// registered it is annulled at once, and the annulment is returned. An
// annulment that cannot be written is kept and retried by Settle, and, if
// the process ends first, made by the next recovery scan: the error says
// so.
func (a *Allocator) Abandon(n protocol.Number, reason, ref string) (*protocol.Entry, error) {
	return a.AbandonAt(n, a.now(), reason, ref)
}

// AbandonAt is Abandon with an annulment made now dated at (or the
// register's latest time, if later).
func (a *Allocator) AbandonAt(n protocol.Number, at time.Time, reason, ref string) (*protocol.Entry, error) {
	a.mu.Lock()
	y := a.years[n.Year]
	if y == nil || n.Seq > y.last {
		a.mu.Unlock()
		return nil, fmt.Errorf("protocol number %s was not handed out by this register's allocator", n)
	}
	if n.Seq > y.registered {
		y.back[n.Seq] = abandoned{reason, ref, n.Register}
		for y.last > y.registered {
			if _, ok := y.back[y.last]; !ok {
				break
			}
			delete(y.back, y.last)
			y.last--
		}
		a.mu.Unlock()
		return nil, nil
	}
	a.mu.Unlock()
	e := protocol.Annulment(n, at, a.author, protocol.RuleUnregistered, reason, ref)
	e, err := a.write(e)
	if err != nil {
		a.mu.Lock()
		a.unsettled = append(a.unsettled, e)
		a.retry.Store(true)
		a.mu.Unlock()
		return nil, fmt.Errorf("the annulment of protocol number %s could not be registered and will be retried: %w", n, err)
	}
	return &e, nil
}

// Settle writes the annulments waiting to be written: those Abandon could
// not write, and those of numbers held back when a later number was
// registered. Reserve calls it; it costs an atomic load when there is
// nothing to do.
func (a *Allocator) Settle() { _, _ = a.SettleAt(a.now()) }

// SettleAt is Settle dating the annulments at (or the register's latest
// time, if later); it returns the annulments it wrote, and an error if
// some could not be written (they stay queued for the next call).
func (a *Allocator) SettleAt(at time.Time) ([]protocol.Entry, error) {
	if !a.retry.Load() {
		return nil, nil
	}
	a.mu.Lock()
	pending := a.unsettled
	a.unsettled = nil
	a.retry.Store(false)
	a.mu.Unlock()
	var failed, written []protocol.Entry
	var first error
	for _, e := range pending {
		// Dated now, not when first attempted: the register records when
		// the annulment was made.
		e = protocol.Annulment(e.Number, at, e.Correspondent, e.Authorisation, e.Reason(), e.Ref)
		e, err := a.write(e)
		switch {
		case err == nil:
			written = append(written, e)
		case !errors.Is(err, ErrImmutable):
			failed = append(failed, e)
			if first == nil {
				first = err
			}
		}
	}
	if len(failed) > 0 {
		a.mu.Lock()
		a.unsettled = append(a.unsettled, failed...)
		a.retry.Store(true)
		a.mu.Unlock()
		return written, fmt.Errorf("%d annulments of the protocol register could not be written and will be retried: %w", len(failed), first)
	}
	return written, nil
}

// write registers annulment e, dated no earlier than anything the register
// holds or the allocator handed out (an annulment is never refused for the
// clock: it only records that a number carries no document), and returns
// it as written.
func (a *Allocator) write(e protocol.Entry) (protocol.Entry, error) {
	db, err := a.file()
	if err != nil {
		return e, err
	}
	a.mu.Lock()
	if e.Time.Before(a.latest) {
		e = protocol.Annulment(e.Number, a.latest, e.Correspondent, e.Authorisation, e.Reason(), e.Ref)
	}
	a.latest = e.Time
	a.mu.Unlock()
	err = db.Update(func(tx *bbolt.Tx) error {
		floor, err := Floor(tx)
		if err != nil {
			return err
		}
		if e.Time.Before(floor) {
			e = protocol.Annulment(e.Number, floor, e.Correspondent, e.Authorisation, e.Reason(), e.Ref)
		}
		if err := Write(tx, e); err != nil {
			return err
		}
		if a.annulled != nil {
			return a.annulled(tx, []protocol.Entry{e})
		}
		return nil
	})
	if err == nil {
		a.Registered(e.Number)
	}
	return e, err
}

// CloseDay closes the register of d, which must be over: the SHA-256 of
// its CSV (protocol.WriteCSV) is fixed, and from then on nothing is filed
// into d or any day before it; a registration still in flight with a date
// in d fails with protocol.ErrDayClosed when it commits, and its issuance
// is retried under a new number and date. It returns the closing and the
// day's entries, the ones the closing covers. Closing a closed day changes
// nothing and checks the day still matches its closing.
func (a *Allocator) CloseDay(d protocol.Day) (c protocol.Closing, es []protocol.Entry, err error) {
	return a.CloseDayAt(d, a.now())
}

// CloseDayAt is CloseDay when the clock reads now.
func (a *Allocator) CloseDayAt(d protocol.Day, now time.Time) (c protocol.Closing, es []protocol.Entry, err error) {
	db, err := a.file()
	if err != nil {
		return c, nil, err
	}
	a.mu.Lock()
	if now.Before(a.latest) {
		now = a.latest
	}
	a.mu.Unlock()
	if err := db.Update(func(tx *bbolt.Tx) (err error) { c, es, err = closeDay(tx, d, now); return err }); err != nil {
		return c, nil, err
	}
	a.mu.Lock()
	if d.End().After(a.latest) {
		a.latest = d.End()
	}
	a.mu.Unlock()
	return c, es, nil
}

// Recover annuls, at time at (or the register's latest time, if later) and
// signed by, every number without an entry
// below the highest registered number of each year: the numbers an
// allocator had handed out when its process stopped, whose documents were
// never registered while later ones were. Numbers above the highest are not
// holes and are handed out again. It returns the annulments, in order.
func Recover(tx *bbolt.Tx, at time.Time, by string) ([]protocol.Entry, error) {
	bs, err := open(tx)
	if err != nil {
		return nil, err
	}
	// Dated no earlier than the register's latest entry, whatever the
	// clock says at start: an annulment is never refused for the clock.
	floor, err := Floor(tx)
	if err != nil {
		return nil, err
	}
	if at.Before(floor) {
		at = floor
	}
	var out []protocol.Entry
	for _, y := range Years(tx) {
		yb := bs.root.Bucket(yearKey(y))
		last := yb.Sequence()
		done := bs.completeUpTo(y)
		if done >= last {
			continue
		}
		// Each hole is annulled under the codes of the registration that
		// follows it: the codes in use when its number was handed out
		// (they change only between numbers, see protocol.Number).
		type hole struct {
			seq uint64
			reg protocol.Register
		}
		var holes []hole
		var reg protocol.Register
		next := done + 1
		c := yb.Cursor()
		for k, v := c.Seek(seqKey(next)); k != nil && next <= last; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			var w struct {
				Number protocol.Number `json:"number"`
			}
			if err := json.Unmarshal(v, &w); err != nil {
				return nil, fmt.Errorf("protocol entry %d/%d is damaged: %w", y, binary.BigEndian.Uint64(k), err)
			}
			reg = w.Number.Register
			for s := binary.BigEndian.Uint64(k); next < s; next++ {
				holes = append(holes, hole{next, reg})
			}
			next++
		}
		for ; next <= last; next++ {
			holes = append(holes, hole{next, reg})
		}
		for _, h := range holes {
			e := protocol.Annulment(protocol.Number{Register: h.reg, Year: y, Seq: h.seq}, at, by, protocol.RuleUnregistered, ReasonRecovered, "")
			if err := Write(tx, e); err != nil {
				return nil, fmt.Errorf("cannot annul the unregistered protocol number %s: %w", e.Number, err)
			}
			out = append(out, e)
		}
		if err := bs.complete.Put(yearKey(y), seqKey(last)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
