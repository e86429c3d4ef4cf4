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

// Store is a limits.Store on a bbolt file.
type Store struct{ db *bbolt.DB }

// New returns the store on db, creating its buckets when db is writable.
func New(db *bbolt.DB) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(Init); err != nil {
			return nil, err
		}
	}
	return &Store{db: db}, nil
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

func (s *Store) TakeDaily(ctx context.Context, day string, caps []limits.Cap) (full int, counts []int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	full = -1
	counts = make([]int, len(caps))
	err = s.db.Update(func(tx *bbolt.Tx) error {
		root, err := bucket(tx, bucketDaily)
		if err != nil {
			return err
		}
		b := root.Bucket([]byte(day))
		if b == nil {
			if err := prune(root, day); err != nil {
				return err
			}
			if b, err = root.CreateBucket([]byte(day)); err != nil {
				return err
			}
		}
		for i, c := range caps {
			counts[i] = count(b.Get([]byte(c.Key)))
			if counts[i] >= c.Max {
				full = i
				return nil
			}
		}
		for i, c := range caps {
			counts[i]++
			if err := b.Put([]byte(c.Key), binary.BigEndian.AppendUint64(nil, uint64(counts[i]))); err != nil {
				return err
			}
		}
		return nil
	})
	return full, counts, err
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
		alerts, err := bucket(tx, bucketAlerts)
		if err != nil {
			return err
		}
		open, err := bucket(tx, bucketOpen)
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

func (s *Store) Alerts(ctx context.Context) (out []limits.Alert, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketAlerts)
		if err != nil {
			return err
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
		alerts, err := bucket(tx, bucketAlerts)
		if err != nil {
			return err
		}
		open, err := bucket(tx, bucketOpen)
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
