package payment

import (
	"context"
	"time"
)

// Tx is the payments' view of one hub transaction (store.Tx.Payments):
// what the desk changes in the transaction that issues a certificate
// (Use) and what the payment service reads and writes. Every backend
// passes the suite in package paymenttest.
type Tx interface {
	Lister
	// Create stores a new payment. It fails with ErrKeyTaken when a live
	// payment (Payment.Live) holds p.RequestKey, and with ErrCodeTaken
	// when p is a till payment whose code a payment of the same operator
	// holds that is pending and not yet expired at p.Created. An expired
	// or cancelled payment of the same key is kept; the key then names p.
	Create(p *Payment) error
	// Get returns the payment with id, or ErrNotFound.
	Get(id string) (Payment, error)
	// ByKey returns the payment the request key names now (the latest
	// created for it), or ErrNotFound.
	ByKey(requestKey string) (Payment, error)
	// ByTillCode returns the latest till payment of operatorID with
	// code, whatever its state, or ErrNotFound.
	ByTillCode(operatorID, code string) (Payment, error)
	// Since returns the payments of operatorID created at or after since,
	// oldest first.
	Since(operatorID string, since time.Time) ([]Payment, error)
	// Put stores p over the payment with its id, which must exist
	// (ErrNotFound otherwise). Its request key, operator, till code and
	// creation time are what Create stored: they index it.
	Put(p *Payment) error
	// Use marks payment id used by certificate certID at now, as
	// Payment.Use decides (ErrUsed, ErrMismatch, ErrNotPaid …): the desk
	// calls it in the transaction that stores the certificate, so both
	// commit or neither does. It holds the payment against a concurrent
	// Use until the transaction ends.
	Use(id string, c Claim, certID string, now time.Time) error
}

// Store keeps payments outside any transaction of the caller: each call
// is a transaction of its own. The payment service uses it; Over makes
// one from the hub's store.
type Store interface {
	// Create is Tx.Create.
	Create(p *Payment) error
	// Get is Tx.Get.
	Get(id string) (Payment, error)
	// ByKey is Tx.ByKey.
	ByKey(requestKey string) (Payment, error)
	// ByTillCode is Tx.ByTillCode.
	ByTillCode(operatorID, code string) (Payment, error)
	// Since is Tx.Since.
	Since(operatorID string, since time.Time) ([]Payment, error)
	// Update reads the payment with id, lets fn change it and stores the
	// result, atomically; fn's error aborts it and is returned.
	Update(id string, fn func(*Payment) error) (Payment, error)
}

// Runner runs functions on the payments' view of a transaction:
// store.Domain(s, store.Tx.Payments) is one.
type Runner interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Over is the Store whose calls are each one transaction of r.
func Over(r Runner) Store { return over{r} }

type over struct{ r Runner }

func (o over) Create(p *Payment) error {
	return o.r.Update(context.Background(), func(tx Tx) error { return tx.Create(p) })
}

func (o over) Get(id string) (p Payment, err error) {
	err = o.r.View(context.Background(), func(tx Tx) error { p, err = tx.Get(id); return err })
	return p, err
}

func (o over) ByKey(key string) (p Payment, err error) {
	err = o.r.View(context.Background(), func(tx Tx) error { p, err = tx.ByKey(key); return err })
	return p, err
}

func (o over) ByTillCode(op, code string) (p Payment, err error) {
	err = o.r.View(context.Background(), func(tx Tx) error { p, err = tx.ByTillCode(op, code); return err })
	return p, err
}

func (o over) Since(op string, since time.Time) (ps []Payment, err error) {
	err = o.r.View(context.Background(), func(tx Tx) error { ps, err = tx.Since(op, since); return err })
	return ps, err
}

func (o over) Update(id string, fn func(*Payment) error) (p Payment, err error) {
	err = o.r.Update(context.Background(), func(tx Tx) error {
		if p, err = tx.Get(id); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		return tx.Put(&p)
	})
	return p, err
}

// Check says whether payment id pays for claim now (Payment.Admits), before
// the desk reserves a number; Tx.Use decides again in the issuing
// transaction.
func Check(s Store, id string, c Claim, now time.Time) (Payment, error) {
	p, err := s.Get(id)
	if err != nil {
		return p, err
	}
	return p, p.Admits(c, now)
}
