// Package limitsbolt keeps the limits' daily counts and alerts in the hub's
// bbolt file.
//
// Layout (keys are byte strings):
//
//	lim_daily   day (YYYY-MM-DD) → bucket: counter key → count (8 bytes big-endian)
//	lim_alerts  alert id → limits.Alert (JSON)
//	lim_open    device ‖ 0x00 ‖ kind → id of that device's open alert of that kind
//
// Alert ids are "al-" and the bucket's sequence, so they are never reused.
// Days older than KeepDays are dropped when a new day starts.
package limitsbolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/registry"
)

var (
	bucketDaily  = []byte("lim_daily")
	bucketAlerts = []byte("lim_alerts")
	bucketOpen   = []byte("lim_open")
)

// KeepDays is how many days of counts are kept: today's decides, the
// others are there for an operator reading the file.
const KeepDays = 7

// Store is a limits.Store on a bbolt file. The day's counts are kept in
// memory and written behind (TakeDaily); alerts are written at once.
type Store struct {
	db *bbolt.DB
	// FlushEvery is how often the counts are written behind
	// (DefaultFlushEvery when zero); Now reads the time it is measured on
	// (time.Now when nil).
	FlushEvery time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	day     string          // the day counts holds
	counts  map[string]int  // that day's counts read or taken so far
	dirty   map[string]bool // counts taken since the last write
	flushed time.Time
}

// New returns the store on db, creating its buckets when db is writable.
func New(db *bbolt.DB) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(Init); err != nil {
			return nil, err
		}
	}
	return &Store{db: db, dirty: map[string]bool{}}, nil
}

// Init creates the buckets.
func Init(tx *bbolt.Tx) error {
	for _, b := range [][]byte{bucketDaily, bucketAlerts, bucketOpen} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("cannot create the limits' bucket %q: %w", b, err)
		}
	}
	return nil
}

func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("the limits' bucket %q is missing; open the store with limitsbolt.New on a writable file", name)
	}
	return b, nil
}

// TakeDaily decides in memory and writes the counts behind, at most every
// FlushEvery: a durable commit for each signed request would cost every
// kiosk request an fsync (about 8 ms here, more than a whole issuance) and
// serialise them all on the file's one writer. A crash loses at most the
// counts of the last FlushEvery, which lets a device go over its daily cap
// by that much once; a clean stop loses none (Flush).
func (s *Store) TakeDaily(ctx context.Context, day string, caps []limits.Cap) (full int, counts []int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if day != s.day {
		// The day's first request: what the previous day still holds in
		// memory goes to the file first, then today's counts are read
		// back (a restart in the middle of a day continues from them).
		if err := s.flushLocked(); err != nil {
			return 0, nil, err
		}
		s.day, s.counts = day, map[string]int{}
	}
	full = -1
	counts = make([]int, len(caps))
	for i, c := range caps {
		n, ok := s.counts[c.Key]
		if !ok {
			if n, err = s.stored(day, c.Key); err != nil {
				return 0, nil, err
			}
			s.counts[c.Key] = n
		}
		counts[i] = n
		if n >= c.Max && full < 0 {
			full = i
		}
	}
	if full >= 0 {
		return full, counts, nil
	}
	for i, c := range caps {
		counts[i]++
		s.counts[c.Key] = counts[i]
		s.dirty[c.Key] = true
	}
	if now := s.clock(); now.Sub(s.flushed) >= s.flushEvery() {
		if err := s.flushLocked(); err != nil {
			return 0, nil, err
		}
	}
	return full, counts, nil
}

// DefaultFlushEvery is how often TakeDaily writes the counts behind.
const DefaultFlushEvery = time.Second

func (s *Store) flushEvery() time.Duration {
	if s.FlushEvery > 0 {
		return s.FlushEvery
	}
	return DefaultFlushEvery
}

func (s *Store) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// stored is the count of key on day in the file.
func (s *Store) stored(day, key string) (n int, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		root, err := bucket(tx, bucketDaily)
		if err != nil {
			return err
		}
		if b := root.Bucket([]byte(day)); b != nil {
			n = count(b.Get([]byte(key)))
		}
		return nil
	})
	return n, err
}

// Flush writes the counts taken since the last write; the hub calls it
// when it stops.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *Store) flushLocked() error {
	s.flushed = s.clock()
	if len(s.dirty) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		root, err := bucket(tx, bucketDaily)
		if err != nil {
			return err
		}
		b := root.Bucket([]byte(s.day))
		if b == nil {
			if err := prune(root, s.day); err != nil {
				return err
			}
			if b, err = root.CreateBucket([]byte(s.day)); err != nil {
				return err
			}
		}
		for k := range s.dirty {
			if err := b.Put([]byte(k), binary.BigEndian.AppendUint64(nil, uint64(s.counts[k]))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The counts stay in memory and dirty: the next flush tries again.
		return fmt.Errorf("cannot write the day's request counts: %w", err)
	}
	clear(s.dirty)
	return nil
}

// prune drops the days more than KeepDays before day.
func prune(root *bbolt.Bucket, day string) error {
	d, err := registry.ParseDate(day)
	if err != nil {
		return fmt.Errorf("day %q: %w", day, err)
	}
	oldest := registry.DateOf(d.Time().AddDate(0, 0, -KeepDays)).String()
	var old [][]byte
	c := root.Cursor()
	for k, _ := c.First(); k != nil && string(k) < oldest; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := root.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

func count(v []byte) int {
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func openKey(device string, kind limits.Kind) []byte {
	return []byte(device + "\x00" + string(kind))
}

// alertBuckets are the alerts and the index of the open ones, which Raise
// and Close change together.
func alertBuckets(tx *bbolt.Tx) (alerts, open *bbolt.Bucket, err error) {
	if alerts, err = bucket(tx, bucketAlerts); err != nil {
		return nil, nil, err
	}
	if open, err = bucket(tx, bucketOpen); err != nil {
		return nil, nil, err
	}
	return alerts, open, nil
}

func getAlert(b *bbolt.Bucket, id []byte) (limits.Alert, error) {
	var a limits.Alert
	v := b.Get(id)
	if v == nil {
		return a, fmt.Errorf("%w: %s", limits.ErrNotFound, id)
	}
	if err := json.Unmarshal(v, &a); err != nil {
		return a, fmt.Errorf("the stored alert %s is damaged: %w", id, err)
	}
	return a, nil
}

func putAlert(b *bbolt.Bucket, a limits.Alert) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put([]byte(a.ID), v)
}

func (s *Store) Raise(ctx context.Context, a limits.Alert) (stored limits.Alert, changed bool, err error) {
	if err := ctx.Err(); err != nil {
		return a, false, err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		alerts, open, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		if id := open.Get(openKey(a.Device, a.Kind)); id != nil {
			cur, err := getAlert(alerts, id)
			if err != nil {
				return err
			}
			changed = limits.Merge(&cur, a)
			stored = cur
			return putAlert(alerts, cur)
		}
		seq, err := alerts.NextSequence()
		if err != nil {
			return err
		}
		a.ID = fmt.Sprintf("al-%08d", seq)
		stored, changed = a, true
		if err := putAlert(alerts, a); err != nil {
			return err
		}
		return open.Put(openKey(a.Device, a.Kind), []byte(a.ID))
	})
	return stored, changed, err
}

var _ limits.Restorer = (*Store)(nil)

// RestoreAlerts writes as under their own ids (limits.Restorer) and moves
// the ids' sequence past the highest.
func (s *Store) RestoreAlerts(ctx context.Context, as []limits.Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		alerts, open, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		seq := alerts.Sequence()
		for _, a := range as {
			n, ok := limits.AlertSeq(a.ID)
			if !ok {
				return fmt.Errorf("alert id %q is not an alert's id", a.ID)
			}
			if alerts.Get([]byte(a.ID)) != nil {
				return fmt.Errorf("alert %s is held already", a.ID)
			}
			if err := putAlert(alerts, a); err != nil {
				return err
			}
			if a.Open() {
				if err := open.Put(openKey(a.Device, a.Kind), []byte(a.ID)); err != nil {
					return err
				}
			}
			seq = max(seq, n)
		}
		return alerts.SetSequence(seq)
	})
}

func (s *Store) Alerts(ctx context.Context) (out []limits.Alert, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		if b == nil {
			// A file no writable hub opened since it had limits (read
			// only, by hub migrate): it holds no alert.
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			a, err := getAlert(b, k)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

func (s *Store) Close(ctx context.Context, device string, r limits.Review) (out []limits.Alert, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		alerts, open, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		prefix := []byte(device + "\x00")
		var keys [][]byte
		c := open.Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			a, err := getAlert(alerts, id)
			if err != nil {
				return err
			}
			rv := r
			a.Review = &rv
			if err := putAlert(alerts, a); err != nil {
				return err
			}
			out = append(out, a)
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := open.Delete(k); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			return fmt.Errorf("%w: device %s has no open alert", limits.ErrNotFound, device)
		}
		return nil
	})
	return out, err
}

var _ limits.Store = (*Store)(nil)
