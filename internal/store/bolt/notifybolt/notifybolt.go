// Package notifybolt keeps the notification queue in the hub's bbolt file
// (notify.Tx). Items are enqueued inside the transaction that issues the
// certificate they are about, so a certificate is never issued without its
// notification queued nor the reverse; each delivery's progress is then
// committed by its own transaction before the sender moves on.
//
// Layout:
//
//	notify_items  item id → notify.Item (JSON)
package notifybolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/notify"
)

var bucketItems = []byte("notify_items")

// In is the queue's view of btx; wake, when not nil, is called once btx
// commits having enqueued something (the sender is waiting for it).
func In(btx *bbolt.Tx, wake func()) notify.Tx { return txn{btx, wake} }

type txn struct {
	tx   *bbolt.Tx
	wake func()
}

func (t txn) bucket() (*bbolt.Bucket, error) {
	if !t.tx.Writable() {
		return t.tx.Bucket(bucketItems), nil
	}
	return t.tx.CreateBucketIfNotExists(bucketItems)
}

func (t txn) Enqueue(it notify.Item) error {
	if err := notify.CheckItem(it); err != nil {
		return err
	}
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := t.bucket()
	if err != nil {
		return err
	}
	if b.Get([]byte(it.ID)) != nil {
		return nil
	}
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(it.ID), data); err != nil {
		return err
	}
	if t.wake != nil {
		t.tx.OnCommit(t.wake)
	}
	return nil
}

func decode(k, v []byte) (notify.Item, error) {
	var it notify.Item
	if err := json.Unmarshal(v, &it); err != nil {
		return it, fmt.Errorf("notification %q is damaged: %w", k, err)
	}
	return it, nil
}

func (t txn) each(fn func(notify.Item) error) error {
	b, err := t.bucket()
	if b == nil || err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		it, err := decode(k, v)
		if err != nil {
			return err
		}
		return fn(it)
	})
}

func (t txn) Get(id string) (notify.Item, error) {
	b, err := t.bucket()
	if err != nil {
		return notify.Item{}, err
	}
	var v []byte
	if b != nil {
		v = b.Get([]byte(id))
	}
	if v == nil {
		return notify.Item{}, fmt.Errorf("%w: %s", notify.ErrNotFound, id)
	}
	return decode([]byte(id), v)
}

func (t txn) Due(now time.Time, channels []string) (due []notify.Item, err error) {
	err = t.each(func(it notify.Item) error {
		if it.Wants(now, channels) {
			due = append(due, it)
		}
		return nil
	})
	slices.SortStableFunc(due, func(a, b notify.Item) int { return a.Enqueued.Compare(b.Enqueued) })
	return due, err
}

func (t txn) Next(channels []string) (at time.Time, ok bool, err error) {
	err = t.each(func(it notify.Item) error {
		if a, due := it.NextDue(channels); due && (!ok || a.Before(at)) {
			at, ok = a, true
		}
		return nil
	})
	return at, ok, err
}

func (t txn) Mark(id, channel string, d notify.Delivery) error {
	return t.change(id, func(it *notify.Item) {
		if it.Deliveries == nil {
			it.Deliveries = map[string]notify.Delivery{}
		}
		it.Deliveries[channel] = d
	})
}

func (t txn) Settle(id string) error {
	return t.change(id, func(it *notify.Item) { it.Message.Markdown, it.Message.Email = "", "" })
}

func (t txn) change(id string, fn func(*notify.Item)) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	it, err := t.Get(id)
	if err != nil {
		return err
	}
	fn(&it)
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	b, err := t.bucket()
	if err != nil {
		return err
	}
	return b.Put([]byte(id), data)
}

func (t txn) List() (items []notify.Item, err error) {
	err = t.each(func(it notify.Item) error { items = append(items, it); return nil })
	slices.SortStableFunc(items, func(a, b notify.Item) int { return b.Enqueued.Compare(a.Enqueued) })
	return items, err
}

// Store is the queue on a bbolt file, each call one transaction.
//
// Deprecated: use the hub's store.Store (notify.Over(store.Domain(s,
// store.Tx.Notices))); kept until every caller has moved.
type Store struct {
	notify.Store
	db   *bbolt.DB
	wake chan struct{}
}

// New is the queue of db.
func New(db *bbolt.DB) (*Store, error) {
	s := &Store{db: db, wake: make(chan struct{}, 1)}
	s.Store = notify.Over(runner{s})
	return s, nil
}

// Wake fires after a transaction that enqueued something commits.
func (s *Store) Wake() <-chan struct{} { return s.wake }

func (s *Store) ring() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Enqueue queues it in tx (notify.Tx.Enqueue).
func (s *Store) Enqueue(tx *bbolt.Tx, it notify.Item) error { return In(tx, s.ring).Enqueue(it) }

type runner struct{ s *Store }

func (r runner) Update(_ context.Context, fn func(notify.Tx) error) error {
	return r.s.db.Update(func(tx *bbolt.Tx) error { return fn(In(tx, r.s.ring)) })
}

func (r runner) View(_ context.Context, fn func(notify.Tx) error) error {
	return r.s.db.View(func(tx *bbolt.Tx) error { return fn(In(tx, nil)) })
}
