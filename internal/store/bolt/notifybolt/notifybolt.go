// Package notifybolt keeps the notification queue in the hub's bbolt file.
// Items are written by Enqueue inside the transaction that issues the
// certificate they are about, so a certificate is never issued without its
// notification queued nor the reverse; each delivery's progress is then
// committed by Mark before the sender moves on.
//
// Layout:
//
//	notify_items  item id → notify.Item (JSON)
package notifybolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/notify"
)

var bucketItems = []byte("notify_items")

// Store is the queue.
type Store struct {
	db   *bbolt.DB
	wake chan struct{}
	mu   sync.Mutex // serialises Mark's read-modify-write with Enqueue's
}

var _ notify.Queue = (*Store)(nil)

// New creates the bucket if missing.
func New(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketItems)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot set up the notification queue: %w", err)
	}
	return &Store{db: db, wake: make(chan struct{}, 1)}, nil
}

// Wake fires after a transaction that enqueued something commits.
func (s *Store) Wake() <-chan struct{} { return s.wake }

// Enqueue writes it in tx unless an item with its id is already queued (a
// certificate is notified once, whatever asks again). The sender is woken
// once tx commits.
func (s *Store) Enqueue(tx *bbolt.Tx, it notify.Item) error {
	if it.ID == "" {
		return errors.New("a notification needs the id of what it is about")
	}
	if err := it.Message.Validate(); err != nil {
		return fmt.Errorf("notification %s cannot be queued: %w", it.ID, err)
	}
	b, err := tx.CreateBucketIfNotExists(bucketItems)
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
	tx.OnCommit(func() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	})
	return nil
}

func decode(k, v []byte) (notify.Item, error) {
	var it notify.Item
	if err := json.Unmarshal(v, &it); err != nil {
		return it, fmt.Errorf("notification %q is damaged: %w", k, err)
	}
	return it, nil
}

func (s *Store) each(fn func(notify.Item) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			it, err := decode(k, v)
			if err != nil {
				return err
			}
			return fn(it)
		})
	})
}

// Due implements notify.Queue.
func (s *Store) Due(now time.Time, channels []string) (due []notify.Item, err error) {
	err = s.each(func(it notify.Item) error {
		for _, ch := range channels {
			d := it.Delivery(ch)
			if !d.Done() && (d.State == notify.Sending || !d.NextAt.After(now)) {
				due = append(due, it)
				break
			}
		}
		return nil
	})
	slices.SortFunc(due, func(a, b notify.Item) int { return a.Enqueued.Compare(b.Enqueued) })
	return due, err
}

// Next returns the earliest time a delivery on channels is due, and false
// when none is waiting.
func (s *Store) Next(channels []string) (at time.Time, ok bool, err error) {
	err = s.each(func(it notify.Item) error {
		for _, ch := range channels {
			d := it.Delivery(ch)
			if d.Done() {
				continue
			}
			if !ok || d.NextAt.Before(at) {
				at, ok = d.NextAt, true
			}
		}
		return nil
	})
	return at, ok, err
}

// Mark implements notify.Queue: it commits before returning.
func (s *Store) Mark(id, channel string, d notify.Delivery) error {
	return s.change(id, func(it *notify.Item) {
		if it.Deliveries == nil {
			it.Deliveries = map[string]notify.Delivery{}
		}
		it.Deliveries[channel] = d
	})
}

// Settle implements notify.Queue.
func (s *Store) Settle(id string) error {
	return s.change(id, func(it *notify.Item) { it.Message.Markdown, it.Message.Email = "", "" })
}

func (s *Store) change(id string, fn func(*notify.Item)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems)
		if b == nil {
			return notify.ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("%w: %s", notify.ErrNotFound, id)
		}
		it, err := decode([]byte(id), v)
		if err != nil {
			return err
		}
		fn(&it)
		data, err := json.Marshal(it)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), data)
	})
}

// List implements notify.Queue.
func (s *Store) List() (items []notify.Item, err error) {
	err = s.each(func(it notify.Item) error { items = append(items, it); return nil })
	slices.SortFunc(items, func(a, b notify.Item) int { return b.Enqueued.Compare(a.Enqueued) })
	return items, err
}
