// Package protobolt keeps the protocol register in the hub's bbolt file, on
// transactions the caller opens, so a registration commits together with
// whatever it registers (an issued certificate) or not at all.
//
// Layout:
//
//	protocol            bucket
//	  YYYY              one bucket per year; its bbolt sequence is the last
//	                    number assigned that year, so it rolls back with the
//	                    transaction and a failed issuance leaves no gap
//	    seq (8 bytes BE) → entry (JSON)
//	protocol_days       YYYYMMDD ‖ year (2 bytes BE) ‖ seq (8 bytes BE) → ∅
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
)

// Errors; the errors returned wrap them.
var (
	ErrNotFound       = errors.New("protocol entry not found")
	ErrImmutable      = errors.New("protocol entries cannot be changed")
	ErrNotInitialised = errors.New("protocol register not initialised")
)

// Init creates the register's buckets if they are missing. Call it once in
// a write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketProtocol, bucketDays} {
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
// here, so the caller cannot register a number out of sequence.
func Register(tx *bbolt.Tx, at time.Time, fill func(protocol.Number) (protocol.Entry, error)) (protocol.Entry, error) {
	root := tx.Bucket(bucketProtocol)
	days := tx.Bucket(bucketDays)
	if root == nil || days == nil {
		return protocol.Entry{}, fmt.Errorf("%w: call protobolt.Init when opening the hub's file", ErrNotInitialised)
	}
	n := protocol.Number{Year: protocol.YearOf(at)}
	yb, err := root.CreateBucketIfNotExists(yearKey(n.Year))
	if err != nil {
		return protocol.Entry{}, fmt.Errorf("cannot open the %d protocol register: %w", n.Year, err)
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
	if yb.Get(seqKey(n.Seq)) != nil {
		return protocol.Entry{}, fmt.Errorf("%w: number %s is already registered", ErrImmutable, n)
	}
	v, err := json.Marshal(&e)
	if err != nil {
		return protocol.Entry{}, err
	}
	if err := yb.Put(seqKey(n.Seq), v); err != nil {
		return protocol.Entry{}, err
	}
	if err := days.Put(dayKey(protocol.DayOf(at), n), nil); err != nil {
		return protocol.Entry{}, err
	}
	return e, nil
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
