// Package apptbolt keeps the appointments in the hub's bbolt file. bbolt
// has one writer at a time, so checking a seat's index and writing it in
// one transaction is enough to keep a seat to one live booking.
//
// Layout (keys are byte strings; values JSON unless said):
//
//	appt_offices   office id → appointment.Office
//	appt_closures  closure id → appointment.Closure
//	appt_bookings  ref → appointment.Booking
//	appt_seats     office id ‖ 0x00 ‖ start (8 bytes, Unix ns, big endian) ‖ counter (4 bytes) → ref, live bookings only
//	appt_person    cf ‖ 0x00 ‖ start (8) ‖ ref → ∅, every booking
//	appt_start     start (8) ‖ ref → ∅, Booked bookings only
package apptbolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/appointment"
)

var (
	bucketOffices  = []byte("appt_offices")
	bucketClosures = []byte("appt_closures")
	bucketBookings = []byte("appt_bookings")
	bucketSeats    = []byte("appt_seats")
	bucketPerson   = []byte("appt_person")
	bucketStart    = []byte("appt_start")
	allBuckets     = [][]byte{bucketOffices, bucketClosures, bucketBookings, bucketSeats, bucketPerson, bucketStart}
)

// In is the appointments' view of btx. In a read-only transaction its
// changes fail with bbolt's ErrTxNotWritable.
func In(btx *bbolt.Tx) appointment.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

// bucket returns the bucket name, made on a write's first use; nil when a
// read finds the file without appointments.
func (t txn) bucket(name []byte) (*bbolt.Bucket, error) {
	if b := t.tx.Bucket(name); b != nil || !t.tx.Writable() {
		return b, nil
	}
	for _, n := range allBuckets {
		if _, err := t.tx.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("cannot create the appointments' bucket %q: %w", n, err)
		}
	}
	return t.tx.Bucket(name), nil
}

func (t txn) get(name, key []byte) ([]byte, error) {
	b, err := t.bucket(name)
	if b == nil || err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

func (t txn) put(name, key, value []byte) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return b.Put(key, value)
}

func (t txn) del(name, key []byte) error {
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return b.Delete(key)
}

func (t txn) putJSON(name []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.put(name, []byte(key), data)
}

func ns(at time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixNano(), 0)))
}

func seatKey(office string, start time.Time, counter int) []byte {
	k := append(append([]byte(office), 0), ns(start)...)
	return binary.BigEndian.AppendUint32(k, uint32(counter))
}

func personKey(cf string, start time.Time, ref string) []byte {
	return append(append(append([]byte(cf), 0), ns(start)...), ref...)
}

func startKey(start time.Time, ref string) []byte { return append(ns(start), ref...) }

func (t txn) PutOffice(o *appointment.Office) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if err := o.Check(); err != nil {
		return err
	}
	return t.putJSON(bucketOffices, o.ID, o)
}

func (t txn) Office(id string) (appointment.Office, error) {
	var o appointment.Office
	v, err := t.get(bucketOffices, []byte(id))
	if err != nil {
		return o, err
	}
	if v == nil {
		return o, fmt.Errorf("%w: office %q", appointment.ErrNotFound, id)
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return o, fmt.Errorf("the record of office %s is damaged: %w", id, err)
	}
	return o, nil
}

func (t txn) Offices() ([]appointment.Office, error) {
	b, err := t.bucket(bucketOffices)
	if b == nil || err != nil {
		return nil, err
	}
	var out []appointment.Office
	err = b.ForEach(func(k, v []byte) error {
		var o appointment.Office
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("the record of office %s is damaged: %w", k, err)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

func (t txn) PutClosure(c *appointment.Closure) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if err := c.Check(); err != nil {
		return err
	}
	return t.putJSON(bucketClosures, c.ID, c)
}

func (t txn) DeleteClosure(id string) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	v, err := t.get(bucketClosures, []byte(id))
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: closure %q", appointment.ErrNotFound, id)
	}
	return t.del(bucketClosures, []byte(id))
}

func (t txn) Closures() ([]appointment.Closure, error) {
	b, err := t.bucket(bucketClosures)
	if b == nil || err != nil {
		return nil, err
	}
	var out []appointment.Closure
	err = b.ForEach(func(k, v []byte) error {
		var c appointment.Closure
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("the record of closure %s is damaged: %w", k, err)
		}
		out = append(out, c)
		return nil
	})
	slices.SortStableFunc(out, func(a, b appointment.Closure) int {
		switch {
		case a.From.Before(b.From):
			return -1
		case b.From.Before(a.From):
			return 1
		}
		return 0
	})
	return out, err
}

func (t txn) Get(ref string) (appointment.Booking, error) {
	var b appointment.Booking
	v, err := t.get(bucketBookings, []byte(ref))
	if err != nil {
		return b, err
	}
	if v == nil {
		return b, fmt.Errorf("%w: booking %q", appointment.ErrNotFound, ref)
	}
	if err := json.Unmarshal(v, &b); err != nil {
		return b, fmt.Errorf("the record of booking %s is damaged: %w", ref, err)
	}
	return b, nil
}

// freeSeat is the first of counters with no live booking at (office,
// start).
func (t txn) freeSeat(office string, start time.Time, counters []int) (int, error) {
	for _, c := range counters {
		v, err := t.get(bucketSeats, seatKey(office, start, c))
		if err != nil {
			return 0, err
		}
		if v == nil {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: %s at %s", appointment.ErrSlotTaken, office, start.In(appointment.Rome).Format("2006-01-02 15:04"))
}

// index writes b's index entries (hold its seat when live, list it for
// the reminders when Booked) or, with drop, removes them.
func (t txn) index(b *appointment.Booking, drop bool) error {
	type entry struct{ bucket, key, value []byte }
	entries := []entry{{bucketPerson, personKey(b.CF, b.Start, b.Ref), nil}}
	if b.State.Live() {
		entries = append(entries, entry{bucketSeats, seatKey(b.OfficeID, b.Start, b.Counter), []byte(b.Ref)})
	}
	if b.State == appointment.Booked {
		entries = append(entries, entry{bucketStart, startKey(b.Start, b.Ref), nil})
	}
	for _, e := range entries {
		var err error
		if drop {
			err = t.del(e.bucket, e.key)
		} else {
			err = t.put(e.bucket, e.key, e.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t txn) Book(b *appointment.Booking, counters []int) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if err := b.Check(); err != nil {
		return err
	}
	if v, err := t.get(bucketBookings, []byte(b.Ref)); err != nil || v != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: %s", appointment.ErrRefTaken, b.Ref)
	}
	held, err := t.ByPerson(b.CF)
	if err != nil {
		return err
	}
	for _, h := range held {
		if h.Service == b.Service && h.State == appointment.Booked && !h.Start.Before(b.Created) {
			return fmt.Errorf("%w: %s", appointment.ErrAlreadyBooked, h.Ref)
		}
	}
	c, err := t.freeSeat(b.OfficeID, b.Start, counters)
	if err != nil {
		return err
	}
	b.Counter = c
	if err := t.index(b, false); err != nil {
		return err
	}
	return t.putJSON(bucketBookings, b.Ref, b)
}

func (t txn) Put(b *appointment.Booking) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	old, err := t.Get(b.Ref)
	if err != nil {
		return err
	}
	if old.OfficeID != b.OfficeID || !old.Start.Equal(b.Start) || old.Counter != b.Counter || old.CF != b.CF {
		return fmt.Errorf("%w: %s", appointment.ErrSeatChange, b.Ref)
	}
	if err := t.index(&old, true); err != nil {
		return err
	}
	if err := t.index(b, false); err != nil {
		return err
	}
	return t.putJSON(bucketBookings, b.Ref, b)
}

func (t txn) Move(ref, office string, start time.Time, minutes int, counters []int, at time.Time) (appointment.Booking, error) {
	if !t.tx.Writable() {
		return appointment.Booking{}, bberrors.ErrTxNotWritable
	}
	b, err := t.Get(ref)
	if err != nil {
		return b, err
	}
	if b.State != appointment.Booked {
		return b, fmt.Errorf("%w: %s is %s", appointment.ErrNotBooked, ref, b.State)
	}
	c, err := t.freeSeat(office, start, counters)
	if err != nil {
		return b, err
	}
	if err := t.index(&b, true); err != nil {
		return b, err
	}
	b.OfficeID, b.Start, b.Minutes, b.Counter, b.Updated = office, start, minutes, c, at
	b.Moves++
	if err := t.index(&b, false); err != nil {
		return b, err
	}
	return b, t.putJSON(bucketBookings, b.Ref, &b)
}

// scan reads the bookings whose refs the keys from start under prefix
// give (ref returns the reference in a key and its value, false to stop).
func (t txn) scan(name, prefix, start []byte, ref func(k, v []byte) (string, bool)) ([]appointment.Booking, error) {
	b, err := t.bucket(name)
	if b == nil || err != nil {
		return nil, err
	}
	var out []appointment.Booking
	c := b.Cursor()
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r, ok := ref(k, v)
		if !ok {
			break
		}
		bk, err := t.Get(r)
		if err != nil {
			return nil, err
		}
		out = append(out, bk)
	}
	appointment.SortByStart(out)
	return out, nil
}

func (t txn) Day(office string, from, to time.Time) ([]appointment.Booking, error) {
	prefix := append([]byte(office), 0)
	end := append(append([]byte(nil), prefix...), ns(to)...)
	return t.scan(bucketSeats, prefix, append(append([]byte(nil), prefix...), ns(from)...), func(k, v []byte) (string, bool) {
		return string(v), bytes.Compare(k, end) < 0
	})
}

func (t txn) ByPerson(cf string) ([]appointment.Booking, error) {
	prefix := append([]byte(cf), 0)
	return t.scan(bucketPerson, prefix, prefix, func(k, _ []byte) (string, bool) {
		return string(k[len(prefix)+8:]), true
	})
}

func (t txn) All() ([]appointment.Booking, error) {
	return t.scan(bucketBookings, nil, nil, func(k, _ []byte) (string, bool) { return string(k), true })
}

func (t txn) Starting(from, to time.Time) ([]appointment.Booking, error) {
	end := ns(to)
	return t.scan(bucketStart, nil, ns(from), func(k, _ []byte) (string, bool) {
		return string(k[8:]), bytes.Compare(k[:8], end) < 0
	})
}
