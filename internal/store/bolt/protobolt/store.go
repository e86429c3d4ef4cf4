package protobolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

// In returns the register's view of bbolt transaction tx (protocol.Tx).
// Write registers only numbers the file's Allocator handed out and still
// holds (protocol.ErrNotReserved otherwise), so no number reaches the
// register behind the allocator's back.
func In(tx *bbolt.Tx) protocol.Tx { return txView{tx} }

type txView struct{ tx *bbolt.Tx }

func (v txView) Write(e protocol.Entry) error {
	if e.Direction == protocol.Annulled {
		return fmt.Errorf("%w: annulment %s is registered by the numbering (Abandon, Recover), not written", protocol.ErrInvalid, e.Number)
	}
	a := allocatorOf(v.tx.DB())
	if a == nil || !a.Outstanding(e.Number) {
		return fmt.Errorf("%w: number %s was not handed out by this file's numbering, or was given back or annulled", protocol.ErrNotReserved, e.Number)
	}
	if err := Init(v.tx); err != nil {
		return err
	}
	return Write(v.tx, e)
}

func (v txView) Get(n protocol.Number) (protocol.Entry, error) {
	if v.tx.Bucket(bucketProtocol) == nil {
		return protocol.Entry{}, fmt.Errorf("%w: there is no protocol entry %s", ErrNotFound, n)
	}
	return Get(v.tx, n)
}

func (v txView) Last(year int) (protocol.Number, error) { return Last(v.tx, year), nil }

func (v txView) Day(d protocol.Day) ([]protocol.Entry, error) {
	if v.tx.Bucket(bucketDays) == nil {
		return nil, nil
	}
	return Day(v.tx, d)
}

func (v txView) Years() ([]int, error) { return Years(v.tx), nil }

func (v txView) Floor() (time.Time, error) {
	if v.tx.Bucket(bucketProtocol) == nil {
		return time.Time{}, nil
	}
	return Floor(v.tx)
}

func (v txView) Closed(d protocol.Day) (protocol.Closing, bool, error) {
	b := v.tx.Bucket(bucketClosed)
	if b == nil {
		return protocol.Closing{}, false, nil
	}
	raw := b.Get(d.Key())
	if raw == nil {
		return protocol.Closing{}, false, nil
	}
	var c protocol.Closing
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, false, fmt.Errorf("the closing record of %s is damaged: %w", d, err)
	}
	return c, true, nil
}

func (v txView) LastClosed() (protocol.Closing, bool, error) {
	if v.tx.Bucket(bucketClosed) == nil {
		return protocol.Closing{}, false, nil
	}
	bs, err := open(v.tx)
	if err != nil {
		return protocol.Closing{}, false, err
	}
	return bs.lastClosed()
}

func (v txView) Closings() ([]protocol.Closing, error) {
	b := v.tx.Bucket(bucketClosed)
	if b == nil {
		return nil, nil
	}
	var out []protocol.Closing
	err := b.ForEach(func(k, raw []byte) error {
		var c protocol.Closing
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("the closing record of day %s is damaged: %w", k, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// Numbering is protocol.Numbering on a bbolt file: the file's Allocator
// (AllocatorFor), made on first use, whose recovery scan then runs. A
// bbolt file is held by one process, so the allocator knows every
// reservation; numbers reserved by a process that stopped are the holes
// the scan finds at the next start.
type Numbering struct {
	db       *bbolt.DB
	annulled func(*bbolt.Tx, []protocol.Entry) error

	mu sync.Mutex
	a  *Allocator
}

var _ protocol.Numbering = (*Numbering)(nil)

// NewNumbering returns the numbering of db; nothing is read until it is
// used. annulled (nil: nothing) records the annulments it makes in their
// own transaction (AllocatorOptions.Annulled): the hub's audit log.
func NewNumbering(db *bbolt.DB, annulled func(*bbolt.Tx, []protocol.Entry) error) *Numbering {
	return &Numbering{db: db, annulled: annulled}
}

// allocator returns the file's allocator, making it (and running the
// recovery scan, dated at) on first use. A failed start is retried by
// the next call.
func (n *Numbering) allocator(at time.Time) (*Allocator, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.a != nil {
		return n.a, nil
	}
	a, err := AllocatorFor(n.db, AllocatorOptions{Start: at, Annulled: n.annulled})
	if err != nil {
		return nil, err
	}
	n.a = a
	return a, nil
}

// Reserve hands out the next number (protocol.Numbering).
func (n *Numbering) Reserve(ctx context.Context, at time.Time, reg protocol.Register) (protocol.Number, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	if err := reg.Check(); err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	a, err := n.allocator(at)
	if err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	// Annulments waiting from earlier failures are dated by this clock
	// reading, not the allocator's own clock.
	_, _ = a.SettleAt(at)
	num, stamped, err := a.Reserve(at)
	if err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	num.Register = reg
	return num, stamped, nil
}

// Registered declares num's entry committed (protocol.Numbering).
func (n *Numbering) Registered(ctx context.Context, num protocol.Number, at time.Time) ([]protocol.Entry, error) {
	a, err := n.allocator(at)
	if err != nil {
		return nil, err
	}
	a.Registered(num)
	return a.SettleAt(at)
}

// Abandon ends a reserved number (protocol.Numbering).
func (n *Numbering) Abandon(ctx context.Context, num protocol.Number, at time.Time, reason, ref string) (*protocol.Entry, error) {
	a, err := n.allocator(at)
	if err != nil {
		return nil, err
	}
	return a.AbandonAt(num, at, reason, ref)
}

// CloseDay closes the register of d (protocol.Numbering).
func (n *Numbering) CloseDay(ctx context.Context, d protocol.Day, at time.Time) (protocol.Closing, []protocol.Entry, error) {
	if err := ctx.Err(); err != nil {
		return protocol.Closing{}, nil, err
	}
	a, err := n.allocator(at)
	if err != nil {
		return protocol.Closing{}, nil, err
	}
	return a.CloseDayAt(d, at)
}

// Recover returns the annulments of the recovery scan the file's
// allocator ran when it started in this process (once), and writes the
// annulments still waiting. Numbers in flight in this process are the
// allocator's to settle, so no further scan runs while it holds the file.
func (n *Numbering) Recover(ctx context.Context, at time.Time) ([]protocol.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := n.allocator(at)
	if err != nil {
		return nil, err
	}
	out := append([]protocol.Entry(nil), a.TakeRecovered()...)
	settled, err := a.SettleAt(at)
	return append(out, settled...), err
}
