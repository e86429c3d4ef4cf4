package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tx is the notification queue's view of one hub transaction
// (store.Tx.Notices). The desk enqueues a certificate's notice in the
// transaction that issues it, so a certificate is never issued without
// its notice queued nor the reverse. Every backend passes the suite in
// package notifytest.
type Tx interface {
	// Enqueue queues it unless an item with its id is queued already (a
	// certificate is notified once, whatever asks again). It refuses an
	// item without id or whose message fails Message.Validate.
	Enqueue(it Item) error
	// Get returns the item id, or ErrNotFound.
	Get(id string) (Item, error)
	// Due returns the items with a delivery among channels that is not
	// done and due at now (a Sending one once its lease, NextAt, has
	// passed by MaxClockSkew: its hub stopped; Item.Wants), oldest
	// enqueued first.
	Due(now time.Time, channels []string) ([]Item, error)
	// Next returns the earliest time a delivery on channels is due, and
	// false when none is waiting.
	Next(channels []string) (time.Time, bool, error)
	// Mark records channel's delivery of item id (ErrNotFound for an
	// unknown item).
	Mark(id, channel string, d Delivery) error
	// Settle drops the text and e-mail address of item id (Queue.Settle).
	Settle(id string) error
	// List returns every item, newest first, for staff.
	List() ([]Item, error)
}

// Runner runs functions on the queue's view of a transaction:
// store.Domain(s, store.Tx.Notices) is one.
type Runner interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Store is the Queue the Sender works on, each call a transaction of its
// own (so each Mark is committed before it returns), plus Next for
// Sender.Run.
type Store struct{ r Runner }

var _ Queue = Store{}

// Over is the queue kept in r's transactions.
func Over(r Runner) Store { return Store{r} }

// Enqueue queues it in a transaction of its own (Tx.Enqueue).
func (s Store) Enqueue(it Item) error {
	return s.r.Update(context.Background(), func(tx Tx) error { return tx.Enqueue(it) })
}

// Due implements Queue.
func (s Store) Due(now time.Time, channels []string) (items []Item, err error) {
	err = s.r.View(context.Background(), func(tx Tx) error { items, err = tx.Due(now, channels); return err })
	return items, err
}

// Next is Tx.Next.
func (s Store) Next(channels []string) (at time.Time, ok bool, err error) {
	err = s.r.View(context.Background(), func(tx Tx) error { at, ok, err = tx.Next(channels); return err })
	return at, ok, err
}

// Mark implements Queue: it commits before returning.
func (s Store) Mark(id, channel string, d Delivery) error {
	return s.r.Update(context.Background(), func(tx Tx) error { return tx.Mark(id, channel, d) })
}

// Settle implements Queue.
func (s Store) Settle(id string) error {
	return s.r.Update(context.Background(), func(tx Tx) error { return tx.Settle(id) })
}

// List implements Queue.
func (s Store) List() (items []Item, err error) {
	err = s.r.View(context.Background(), func(tx Tx) error { items, err = tx.List(); return err })
	return items, err
}

// Claimer is a Queue several senders may work on at once (one per hub on
// a shared database).
type Claimer interface {
	// Claim records d as channel's delivery of item id only if that
	// delivery is still seen, and says whether it did: of senders that
	// read the same delivery, one claims it.
	Claim(id, channel string, seen, d Delivery) (bool, error)
}

var _ Claimer = Store{}

// Claim implements Claimer: Tx.Get in a write transaction holds the item
// until the transaction ends, so the comparison and the mark are one step.
func (s Store) Claim(id, channel string, seen, d Delivery) (won bool, err error) {
	err = s.r.Update(context.Background(), func(tx Tx) error {
		it, err := tx.Get(id)
		if err != nil {
			return err
		}
		if !it.Delivery(channel).same(seen) {
			return nil
		}
		won = true
		return tx.Mark(id, channel, d)
	})
	return won, err
}

// same compares deliveries as stored (times to the instant).
func (d Delivery) same(o Delivery) bool {
	return d.State == o.State && d.Attempts == o.Attempts && d.NextAt.Equal(o.NextAt) && d.Receipt == o.Receipt &&
		d.SentAt.Equal(o.SentAt) && d.LastError == o.LastError
}

// Get is Tx.Get.
func (s Store) Get(id string) (it Item, err error) {
	err = s.r.View(context.Background(), func(tx Tx) error { it, err = tx.Get(id); return err })
	return it, err
}

// CheckItem is what every Tx.Enqueue checks of it before queuing it.
func CheckItem(it Item) error {
	if it.ID == "" {
		return errors.New("a notification needs the id of what it is about")
	}
	if err := it.Message.Validate(); err != nil {
		return fmt.Errorf("notification %s cannot be queued: %w", it.ID, err)
	}
	return nil
}

// Wants says whether it has a delivery among channels that is not done
// and due at now: what Tx.Due selects.
func (it *Item) Wants(now time.Time, channels []string) bool {
	for _, ch := range channels {
		d := it.Delivery(ch)
		if !d.Done() && !d.DueAt().After(now) {
			return true
		}
	}
	return false
}

// NextDue is the earliest time one of it's deliveries on channels is due,
// false when all are done: what Tx.Next folds.
func (it *Item) NextDue(channels []string) (at time.Time, ok bool) {
	for _, ch := range channels {
		d := it.Delivery(ch)
		if d.Done() {
			continue
		}
		if !ok || d.DueAt().Before(at) {
			at, ok = d.DueAt(), true
		}
	}
	return at, ok
}
