// Package protobolt keeps the protocol register in the hub's bbolt file, on
// transactions the caller opens, so a registration commits together with
// whatever it registers (an issued certificate) or not at all.
//
// Numbers are assigned in one of two ways, never both on the same file:
//
//   - Register, inside the caller's write transaction: the year bucket's
//     sequence hands out the number, so it rolls back with the transaction
//     and a failure leaves no gap. Simple, but the document must be made
//     while the file's single write lock is held.
//   - An Allocator, in memory, for a process that holds the file (the hub):
//     the number is reserved before the document is made, so documents can
//     be rendered in parallel and registered later with Write, several to a
//     commit. A reserved number whose document is never registered is given
//     back if no later number was handed out, and otherwise annulled with a
//     protocol.Annulment entry (art. 54 DPR 445/2000) at once, or, after a
//     crash, by the recovery scan the next Allocator runs on the file: the
//     register never keeps a hole.
//
// Layout:
//
//	protocol            bucket
//	  YYYY              one bucket per year; its bbolt sequence is the
//	                    highest number registered that year
//	    seq (8 bytes BE) → entry (JSON)
//	protocol_days       YYYYMMDD ‖ year (2 bytes BE) ‖ seq (8 bytes BE) → ∅
//	protocol_complete   YYYY → seq (8 bytes BE): every number of the year up
//	                    to seq is registered, so the recovery scan starts
//	                    there instead of at the year's first entry
//
// There is no update or delete: the register is immutable (DPR 445/2000
// art. 53), and a write over an existing number is refused.
package protobolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

var (
	bucketProtocol = []byte("protocol")
	bucketDays     = []byte("protocol_days")
	bucketComplete = []byte("protocol_complete")
)

// Errors; the errors returned wrap them.
var (
	ErrNotFound       = errors.New("protocol entry not found")
	ErrImmutable      = errors.New("protocol entries cannot be changed")
	ErrNotInitialised = errors.New("protocol register not initialised")
	ErrAllocated      = errors.New("protocol numbers of this file are assigned by its allocator")
)

// Init creates the register's buckets if they are missing. Call it once in
// a write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketProtocol, bucketDays, bucketComplete} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the protocol register's bucket %q: %w", name, err)
		}
	}
	return nil
}

func yearKey(y int) []byte { return []byte(fmt.Sprintf("%04d", y)) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func dayKey(d protocol.Day, n protocol.Number) []byte {
	k := d.Key()
	k = binary.BigEndian.AppendUint16(k, uint16(n.Year))
	return binary.BigEndian.AppendUint64(k, n.Seq)
}

// Register assigns the next number of at's year (in Rome), asks fill for the
// entry that number registers, and writes it. fill runs inside the
// transaction; if it fails, or the transaction is rolled back for any other
// reason, the number is not consumed. The entry's Number and Time are set
// here, so the caller cannot register a number out of sequence. A file whose
// numbers an Allocator assigns refuses Register with ErrAllocated: the two
// would hand out the same number.
func Register(tx *bbolt.Tx, at time.Time, fill func(protocol.Number) (protocol.Entry, error)) (protocol.Entry, error) {
	bs, err := open(tx)
	if err != nil {
		return protocol.Entry{}, err
	}
	if allocatorOf(tx.DB()) != nil {
		return protocol.Entry{}, fmt.Errorf("%w: reserve a number with the Allocator and register it with Write", ErrAllocated)
	}
	n := protocol.Number{Year: protocol.YearOf(at)}
	yb, err := bs.year(n.Year)
	if err != nil {
		return protocol.Entry{}, err
	}
	if n.Seq, err = yb.NextSequence(); err != nil {
		return protocol.Entry{}, err
	}
	e, err := fill(n)
	if err != nil {
		return protocol.Entry{}, err
	}
	e.Number, e.Time = n, at
	if err := e.Validate(); err != nil {
		return protocol.Entry{}, err
	}
	return e, bs.put(yb, &e)
}

// Write registers e under its own number, one an Allocator reserved. The
// number must be free and belong to the year of e.Time in Rome; only an
// annulment may come later than its number's year, since a crash on New
// Year's Eve is recovered in January.
func Write(tx *bbolt.Tx, e protocol.Entry) error {
	bs, err := open(tx)
	if err != nil {
		return err
	}
	y := protocol.YearOf(e.Time)
	switch {
	case e.Number.Seq == 0:
		return fmt.Errorf("%w: the entry has no number", protocol.ErrInvalid)
	case e.Number.Year != y && !(e.Direction == protocol.Annulled && e.Number.Year < y):
		return fmt.Errorf("%w: number %s cannot be registered at %s, in another year", protocol.ErrInvalid, e.Number, e.Time.In(protocol.Rome).Format(time.RFC3339))
	}
	if err := e.Validate(); err != nil {
		return err
	}
	yb, err := bs.year(e.Number.Year)
	if err != nil {
		return err
	}
	return bs.put(yb, &e)
}

type buckets struct{ root, days, complete *bbolt.Bucket }

func open(tx *bbolt.Tx) (buckets, error) {
	bs := buckets{tx.Bucket(bucketProtocol), tx.Bucket(bucketDays), tx.Bucket(bucketComplete)}
	if bs.root == nil || bs.days == nil || bs.complete == nil {
		return bs, fmt.Errorf("%w: call protobolt.Init when opening the hub's file", ErrNotInitialised)
	}
	return bs, nil
}

func (bs buckets) year(y int) (*bbolt.Bucket, error) {
	yb, err := bs.root.CreateBucketIfNotExists(yearKey(y))
	if err != nil {
		return nil, fmt.Errorf("cannot open the %d protocol register: %w", y, err)
	}
	return yb, nil
}

// put writes a validated entry, refusing a used number, and moves the
// year's highest number and its complete-up-to mark.
func (bs buckets) put(yb *bbolt.Bucket, e *protocol.Entry) error {
	n := e.Number
	if yb.Get(seqKey(n.Seq)) != nil {
		return fmt.Errorf("%w: number %s is already registered", ErrImmutable, n)
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := yb.Put(seqKey(n.Seq), v); err != nil {
		return err
	}
	if err := bs.days.Put(dayKey(protocol.DayOf(e.Time), n), nil); err != nil {
		return err
	}
	if n.Seq > yb.Sequence() {
		if err := yb.SetSequence(n.Seq); err != nil {
			return err
		}
	}
	done := bs.completeUpTo(n.Year)
	if n.Seq != done+1 {
		return nil // a hole below n remains: an earlier number is still in flight
	}
	for done++; yb.Get(seqKey(done+1)) != nil; done++ {
	}
	return bs.complete.Put(yearKey(n.Year), seqKey(done))
}

func (bs buckets) completeUpTo(year int) uint64 {
	if v := bs.complete.Get(yearKey(year)); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Get returns the entry numbered n.
func Get(tx *bbolt.Tx, n protocol.Number) (protocol.Entry, error) {
	root := tx.Bucket(bucketProtocol)
	if root == nil {
		return protocol.Entry{}, fmt.Errorf("%w: call protobolt.Init when opening the hub's file", ErrNotInitialised)
	}
	var v []byte
	if yb := root.Bucket(yearKey(n.Year)); yb != nil {
		v = yb.Get(seqKey(n.Seq))
	}
	if v == nil {
		return protocol.Entry{}, fmt.Errorf("%w: there is no protocol entry %s", ErrNotFound, n)
	}
	var e protocol.Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return protocol.Entry{}, fmt.Errorf("protocol entry %s is damaged: %w", n, err)
	}
	return e, nil
}

// Last returns the last number assigned in year, zero if none.
func Last(tx *bbolt.Tx, year int) protocol.Number {
	if root := tx.Bucket(bucketProtocol); root != nil {
		if yb := root.Bucket(yearKey(year)); yb != nil && yb.Sequence() > 0 {
			return protocol.Number{Year: year, Seq: yb.Sequence()}
		}
	}
	return protocol.Number{}
}

// Day returns the entries registered on day d (in Rome), in number order:
// the daily register.
func Day(tx *bbolt.Tx, d protocol.Day) ([]protocol.Entry, error) {
	days := tx.Bucket(bucketDays)
	if days == nil {
		return nil, fmt.Errorf("%w: call protobolt.Init when opening the hub's file", ErrNotInitialised)
	}
	prefix := d.Key()
	var out []protocol.Entry
	c := days.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+10 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		n := protocol.Number{
			Year: int(binary.BigEndian.Uint16(k[len(prefix):])),
			Seq:  binary.BigEndian.Uint64(k[len(prefix)+2:]),
		}
		e, err := Get(tx, n)
		if err != nil {
			return nil, fmt.Errorf("the day index of %s names entry %s: %w", d, n, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Years lists the years that have a register, oldest first.
func Years(tx *bbolt.Tx) []int {
	var ys []int
	if root := tx.Bucket(bucketProtocol); root != nil {
		_ = root.ForEachBucket(func(k []byte) error {
			if y, err := strconv.Atoi(string(k)); err == nil {
				ys = append(ys, y)
			}
			return nil
		})
	}
	return ys
}
