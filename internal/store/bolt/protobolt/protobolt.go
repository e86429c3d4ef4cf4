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
//     back unless a later number is registered, and then annulled with a
//     protocol.Annulment entry (art. 54 DPR 445/2000) giving the failure as
//     its reason, or, after a crash, by the recovery scan the next Allocator
//     runs on the file: the register never keeps a hole, and a failure of
//     every issuance at once (a full disk) annuls nothing.
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
//	protocol_closed     YYYYMMDD → protocol.Closing (JSON): the closed days
//	protocol_meta       "latest" → the latest entry time (Unix ns, 8 bytes BE)
//
// There is no update or delete: the register is immutable (DPR 445/2000
// art. 53), and a write over an existing number is refused. Entries are
// dated in number order: a registration is never dated before a lower
// number's registration nor after a higher one's, and an annulment, dated
// when it is made, never before the register's latest entry; nothing is
// filed into a closed day or a day before it.
package protobolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

var (
	bucketProtocol = []byte("protocol")
	bucketDays     = []byte("protocol_days")
	bucketComplete = []byte("protocol_complete")
	bucketClosed   = []byte("protocol_closed")
	bucketMeta     = []byte("protocol_meta")

	keyLatest = []byte("latest")
)

// Errors; the errors returned wrap them.
var (
	ErrNotFound       = protocol.ErrNotFound  // the register's own sentinels, so callers test either
	ErrImmutable      = protocol.ErrImmutable // (both names match)
	ErrNotInitialised = errors.New("protocol register not initialised")
	ErrAllocated      = errors.New("protocol numbers of this file are assigned by its allocator")
)

// Init creates the register's buckets if they are missing. Call it once in
// a write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketProtocol, bucketDays, bucketComplete, bucketClosed, bucketMeta} {
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

// Register assigns the next number of the year (in Rome) of the
// registration time, asks fill for the entry that number registers, and
// writes it. The registration time is at, or the register's latest time if
// at is a little before it (protocol.Stamp). fill runs inside the
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
	floor, err := Floor(tx)
	if err != nil {
		return protocol.Entry{}, err
	}
	if at, err = protocol.Stamp(at, floor); err != nil {
		return protocol.Entry{}, err
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

type buckets struct{ root, days, complete, closed, meta *bbolt.Bucket }

func open(tx *bbolt.Tx) (buckets, error) {
	bs := buckets{tx.Bucket(bucketProtocol), tx.Bucket(bucketDays), tx.Bucket(bucketComplete), tx.Bucket(bucketClosed), tx.Bucket(bucketMeta)}
	if bs.root == nil || bs.days == nil || bs.complete == nil || bs.closed == nil || bs.meta == nil {
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

// put writes a validated entry, refusing a used number, an entry out of
// date order and one in a closed day, and moves the year's highest number,
// its complete-up-to mark and the register's latest time.
func (bs buckets) put(yb *bbolt.Bucket, e *protocol.Entry) error {
	n := e.Number
	if yb.Get(seqKey(n.Seq)) != nil {
		return fmt.Errorf("%w: number %s is already registered", ErrImmutable, n)
	}
	day := protocol.DayOf(e.Time)
	if c, ok, err := bs.lastClosed(); err != nil {
		return err
	} else if ok && !c.Day.Before(day) {
		return fmt.Errorf("%w: entry %s, dated %s, would be filed into the register of %s, and the registers up to %s were closed on %s",
			protocol.ErrDayClosed, n, e.Time.In(protocol.Rome).Format(time.RFC3339), day, c.Day, c.Closed.In(protocol.Rome).Format(time.RFC3339))
	}
	latest, err := bs.latest()
	if err != nil {
		return err
	}
	if e.Direction == protocol.Annulled {
		// Dated when made, so never before anything already registered.
		if e.Time.Before(latest) {
			return fmt.Errorf("%w: the annulment of %s is dated %s, before the register's latest entry (%s)", protocol.ErrInvalid, n,
				e.Time.In(protocol.Rome).Format(time.RFC3339Nano), latest.In(protocol.Rome).Format(time.RFC3339Nano))
		}
	} else if err := inOrder(yb, e); err != nil {
		return err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := yb.Put(seqKey(n.Seq), v); err != nil {
		return err
	}
	if err := bs.days.Put(dayKey(day, n), nil); err != nil {
		return err
	}
	if e.Time.After(latest) {
		if err := bs.meta.Put(keyLatest, binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixNano()))); err != nil {
			return err
		}
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

// when is what the order check reads of a neighbouring entry.
type when struct {
	Time      time.Time          `json:"time"`
	Direction protocol.Direction `json:"direction"`
}

// inOrder checks that registration e is dated no earlier than the nearest
// registration below its number and no later than the nearest above it.
// Annulments are passed over: they are dated when the number was annulled,
// which may be after later numbers were registered.
func inOrder(yb *bbolt.Bucket, e *protocol.Entry) error {
	c := yb.Cursor()
	k, v := c.Seek(seqKey(e.Number.Seq))
	above := k
	for ; k != nil; k, v = c.Next() {
		w, err := readWhen(k, v)
		if err != nil {
			return err
		}
		if w.Direction == protocol.Annulled {
			continue
		}
		if w.Time.Before(e.Time) {
			return outOfOrder(e, protocol.Number{Year: e.Number.Year, Seq: binary.BigEndian.Uint64(k)}, w.Time)
		}
		break
	}
	if above == nil {
		k, v = c.Last()
	} else {
		c.Seek(above)
		k, v = c.Prev()
	}
	for ; k != nil; k, v = c.Prev() {
		w, err := readWhen(k, v)
		if err != nil {
			return err
		}
		if w.Direction == protocol.Annulled {
			continue
		}
		if w.Time.After(e.Time) {
			return outOfOrder(e, protocol.Number{Year: e.Number.Year, Seq: binary.BigEndian.Uint64(k)}, w.Time)
		}
		break
	}
	return nil
}

func readWhen(k, v []byte) (when, error) {
	var w when
	if len(k) != 8 {
		return w, fmt.Errorf("the protocol register has a key of %d bytes, not a number", len(k))
	}
	if err := json.Unmarshal(v, &w); err != nil {
		return w, fmt.Errorf("protocol entry %d is damaged: %w", binary.BigEndian.Uint64(k), err)
	}
	return w, nil
}

func outOfOrder(e *protocol.Entry, other protocol.Number, at time.Time) error {
	return fmt.Errorf("%w: entry %s dated %s is out of date order with entry %s dated %s", protocol.ErrInvalid, e.Number,
		e.Time.In(protocol.Rome).Format(time.RFC3339Nano), other, at.In(protocol.Rome).Format(time.RFC3339Nano))
}

// latest is the time of the register's latest entry; zero for an empty
// register. A file written before the time was kept has it from the
// entries of its latest day.
func (bs buckets) latest() (time.Time, error) {
	if v := bs.meta.Get(keyLatest); len(v) == 8 {
		return time.Unix(0, int64(binary.BigEndian.Uint64(v))).In(protocol.Rome), nil
	}
	k, _ := bs.days.Cursor().Last()
	if len(k) < 8 {
		return time.Time{}, nil
	}
	var latest time.Time
	c := bs.days.Cursor()
	for dk, _ := c.Seek(k[:8]); dk != nil && bytes.HasPrefix(dk, k[:8]) && len(dk) == 18; dk, _ = c.Next() {
		yb := bs.root.Bucket(yearKey(int(binary.BigEndian.Uint16(dk[8:]))))
		if yb == nil {
			return time.Time{}, fmt.Errorf("the day index names entry %x of a year without a register", dk[8:])
		}
		seq := dk[10:]
		w, err := readWhen(seq, yb.Get(seq))
		if err != nil {
			return time.Time{}, err
		}
		if w.Time.After(latest) {
			latest = w.Time
		}
	}
	return latest, nil
}

// lastClosed returns the latest closed day's record.
func (bs buckets) lastClosed() (protocol.Closing, bool, error) {
	k, v := bs.closed.Cursor().Last()
	if k == nil {
		return protocol.Closing{}, false, nil
	}
	var c protocol.Closing
	if err := json.Unmarshal(v, &c); err != nil {
		return c, false, fmt.Errorf("the closing record of day %s is damaged: %w", k, err)
	}
	return c, true, nil
}

// Floor is the earliest time the next entry may be dated: the latest entry's
// time, or the first instant after the last closed day if that is later.
func Floor(tx *bbolt.Tx) (time.Time, error) {
	bs, err := open(tx)
	if err != nil {
		return time.Time{}, err
	}
	latest, err := bs.latest()
	if err != nil {
		return time.Time{}, err
	}
	c, ok, err := bs.lastClosed()
	if err != nil {
		return time.Time{}, err
	}
	if ok && c.Day.End().After(latest) {
		latest = c.Day.End()
	}
	return latest, nil
}

// closeDay closes the register of d, a day over at now: it fixes the
// SHA-256 of the day's CSV (protocol.WriteCSV) and from then on put files
// nothing into d or any day before it. Closing a closed day changes nothing
// and checks the day still gives the CSV it was closed with.
func closeDay(tx *bbolt.Tx, d protocol.Day, now time.Time) (protocol.Closing, []protocol.Entry, error) {
	bs, err := open(tx)
	if err != nil {
		return protocol.Closing{}, nil, err
	}
	es, err := Day(tx, d)
	if err != nil {
		return protocol.Closing{}, nil, err
	}
	if v := bs.closed.Get(d.Key()); v != nil {
		var c protocol.Closing
		if err := json.Unmarshal(v, &c); err != nil {
			return c, nil, fmt.Errorf("the closing record of %s is damaged: %w", d, err)
		}
		// In the layout it was closed with, so a day closed before the
		// register's codes were added still gives its bytes.
		sum, err := protocol.WriteCSVFormat(io.Discard, d, es, c.CSVLayout())
		if err != nil {
			return c, nil, err
		}
		if c.SHA256 != sum || c.Entries != len(es) {
			return c, nil, fmt.Errorf("the register of %s no longer matches the one closed on %s (%d entries, SHA-256 %x; now %d entries, %x): the file was changed behind the register's back; restore the backup",
				d, c.Closed.In(protocol.Rome).Format(time.RFC3339), c.Entries, c.SHA256, len(es), sum)
		}
		return c, es, nil
	}
	if today := protocol.DayOf(now); !d.Before(today) {
		return protocol.Closing{}, nil, fmt.Errorf("the register of %s cannot be closed before the day is over (it is %s)", d, today)
	}
	sum, err := protocol.WriteCSVFormat(io.Discard, d, es, protocol.CSVFormat)
	if err != nil {
		return protocol.Closing{}, nil, err
	}
	c := protocol.Closing{Day: d, Closed: now, Entries: len(es), SHA256: sum, Format: protocol.CSVFormat}
	v, err := json.Marshal(c)
	if err != nil {
		return c, nil, err
	}
	return c, es, bs.closed.Put(d.Key(), v)
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
