package payment

import "time"

// Store keeps payments. Implementations: paybolt (the hub's bbolt file);
// every one passes the suite in package paymenttest.
type Store interface {
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
	// Update reads the payment with id, lets fn change it and stores the
	// result, atomically; fn's error aborts it and is returned.
	Update(id string, fn func(*Payment) error) (Payment, error)
}
