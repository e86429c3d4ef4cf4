package protobolt

import (
	"encoding/binary"
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
const DefaultAuthor = "procedura automatica del protocollo informatico (hub Sportello)"

// Reasons of the annulments the allocator and its callers register.
const (
	ReasonRecovered = "numero assegnato a un documento non registrato prima dell'interruzione del servizio"
	ReasonFailed    = "numero assegnato a un documento la cui emissione non è riuscita"
)

// AllocatorOptions tune an Allocator; the zero value is right for a hub.
type AllocatorOptions struct {
	// Now dates annulments; nil is time.Now.
	Now func() time.Time
	// Author signs annulments; empty is DefaultAuthor.
	Author string
}

// Allocator hands out protocol numbers in memory so that documents can be
// made before their registration and outside the file's write lock. It
// relies on being the only source of numbers of its file, which is why
// AllocatorFor gives one per open *bbolt.DB and Register refuses to run
// beside it, and on bbolt's file lock keeping other processes out.
//
// Every number Reserve returns must end in exactly one of: an entry written
// with Write, or Abandon.
type Allocator struct {
	db     weak.Pointer[bbolt.DB] // weak, so the process-wide table does not keep closed files alive
	now    func() time.Time
	author string

	mu        sync.Mutex
	last      map[int]uint64 // year → last number handed out
	unsettled []protocol.Entry
	retry     atomic.Bool // unsettled is not empty
	recovered []protocol.Entry
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
	a := &Allocator{db: key, now: opts.Now, author: opts.Author, last: map[int]uint64{}}
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
		a.recovered, err = Recover(tx, a.now(), a.author)
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

func (a *Allocator) file() (*bbolt.DB, error) {
	db := a.db.Value()
	if db == nil {
		return nil, errors.New("the protocol register's file is closed")
	}
	return db, nil
}

// Reserve hands out the next number of at's year (in Rome). It fails only
// if the year's register cannot be read on its first use.
func (a *Allocator) Reserve(at time.Time) (protocol.Number, error) {
	a.Settle()
	n := protocol.Number{Year: protocol.YearOf(at)}
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.last[n.Year]
	if !ok {
		db, err := a.file()
		if err != nil {
			return n, err
		}
		if err := db.View(func(tx *bbolt.Tx) error { last = Last(tx, n.Year).Seq; return nil }); err != nil {
			return n, fmt.Errorf("cannot read the %d protocol register: %w", n.Year, err)
		}
	}
	n.Seq = last + 1
	a.last[n.Year] = n.Seq
	return n, nil
}

// Abandon ends a reserved number whose document will not be registered.
// If no later number of its year was handed out it is given back, and the
// next Reserve returns it again: nothing was registered under it, so nothing
// is lost. Otherwise it is annulled at once with reason (ref names the
// document it was meant for, if any), and the annulment is returned. An
// annulment that cannot be written is kept and retried by Settle, and, if the
// process ends first, made by the next recovery scan: the error says so.
func (a *Allocator) Abandon(n protocol.Number, reason, ref string) (*protocol.Entry, error) {
	a.mu.Lock()
	if a.last[n.Year] == n.Seq {
		a.last[n.Year]--
		a.mu.Unlock()
		return nil, nil
	}
	a.mu.Unlock()
	e := protocol.Annulment(n, a.now(), a.author, reason, ref)
	if err := a.write(e); err != nil {
		a.mu.Lock()
		a.unsettled = append(a.unsettled, e)
		a.retry.Store(true)
		a.mu.Unlock()
		return nil, fmt.Errorf("the annulment of protocol number %s could not be registered and will be retried: %w", n, err)
	}
	return &e, nil
}

// Settle retries the annulments Abandon could not write. Reserve calls it;
// it costs an atomic load when there is nothing to do.
func (a *Allocator) Settle() {
	if !a.retry.Load() {
		return
	}
	a.mu.Lock()
	pending := a.unsettled
	a.unsettled = nil
	a.retry.Store(false)
	a.mu.Unlock()
	var failed []protocol.Entry
	for _, e := range pending {
		// Dated now, not when first attempted: the register records when
		// the annulment was made.
		e = protocol.Annulment(e.Number, a.now(), e.Correspondent, e.Reason(), e.Ref)
		if err := a.write(e); err != nil && !errors.Is(err, ErrImmutable) {
			failed = append(failed, e)
		}
	}
	if len(failed) > 0 {
		a.mu.Lock()
		a.unsettled = append(a.unsettled, failed...)
		a.retry.Store(true)
		a.mu.Unlock()
	}
}

func (a *Allocator) write(e protocol.Entry) error {
	db, err := a.file()
	if err != nil {
		return err
	}
	return db.Update(func(tx *bbolt.Tx) error { return Write(tx, e) })
}

// Recover annuls, at time at and signed by, every number without an entry
// below the highest registered number of each year: the numbers an
// allocator had handed out when its process stopped, whose documents were
// never registered while later ones were. Numbers above the highest are not
// holes and are handed out again. It returns the annulments, in order.
func Recover(tx *bbolt.Tx, at time.Time, by string) ([]protocol.Entry, error) {
	bs, err := open(tx)
	if err != nil {
		return nil, err
	}
	var out []protocol.Entry
	for _, y := range Years(tx) {
		yb := bs.root.Bucket(yearKey(y))
		last := yb.Sequence()
		done := bs.completeUpTo(y)
		if done >= last {
			continue
		}
		var holes []uint64
		next := done + 1
		c := yb.Cursor()
		for k, _ := c.Seek(seqKey(next)); k != nil && next <= last; k, _ = c.Next() {
			if len(k) != 8 {
				continue
			}
			for s := binary.BigEndian.Uint64(k); next < s; next++ {
				holes = append(holes, next)
			}
			next++
		}
		for ; next <= last; next++ {
			holes = append(holes, next)
		}
		for _, s := range holes {
			e := protocol.Annulment(protocol.Number{Year: y, Seq: s}, at, by, ReasonRecovered, "")
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
