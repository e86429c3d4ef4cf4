package city

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/operators"
)

// Settings reads and changes the city's settings on any backend, each
// call in a hub transaction of its own; defaults are what unset fields
// stand for (the hub's flags and Milan's programme). On a database several
// hubs share, a change made through one hub holds for all from their next
// read: nothing is cached.
type Settings struct {
	run func(ctx context.Context, write bool, fn func(Tx, func() ([]*operators.Operator, error)) error) error
	now func() time.Time
	// Defaults stand for the fields staff never set.
	Defaults Config
}

// NewSettings returns the settings kept in s's transactions: view gives
// the settings' view of one, operators the operators' (a fee cap is
// checked against every agreement in the transaction that sets it).
func NewSettings[T any](s operators.Transactor[T], view func(T) Tx, ops func(T) operators.Tx, now func() time.Time, defaults Config) *Settings {
	if now == nil {
		now = time.Now
	}
	return &Settings{
		run: func(ctx context.Context, write bool, fn func(Tx, func() ([]*operators.Operator, error)) error) error {
			in := func(tx T) error {
				return fn(view(tx), func() ([]*operators.Operator, error) { return ops(tx).Operators() })
			}
			if write {
				return s.Update(ctx, in)
			}
			return s.View(ctx, in)
		},
		now:      now,
		Defaults: defaults,
	}
}

// Current returns the effective settings: what staff set, the defaults
// for the rest.
func (s *Settings) Current() (c Config, err error) {
	err = s.run(context.Background(), false, func(tx Tx, _ func() ([]*operators.Operator, error)) error {
		stored, err := tx.Get()
		c = stored.Effective(s.Defaults)
		return err
	})
	return c, err
}

// Stored returns the settings as stored, to tell set fields from
// defaults.
func (s *Settings) Stored() (c Config, err error) {
	err = s.run(context.Background(), false, func(tx Tx, _ func() ([]*operators.Operator, error)) error {
		c, err = tx.Get()
		return err
	})
	return c, err
}

// Set applies edit e by staff member by, checking a new fee cap against
// every operator's agreement in the same transaction, and returns the
// effective settings after it.
func (s *Settings) Set(e Edit, by string) (c Config, err error) {
	at := s.now()
	err = s.run(context.Background(), true, func(tx Tx, operatorsOf func() ([]*operators.Operator, error)) error {
		stored, err := tx.Get()
		if err != nil {
			return err
		}
		var ops []*operators.Operator
		if e.FeeCapCents != nil {
			if ops, err = operatorsOf(); err != nil {
				return err
			}
		}
		if err := stored.Apply(e, s.Defaults, ops, at, by); err != nil {
			return err
		}
		c = stored.Effective(s.Defaults)
		return tx.Put(stored)
	})
	return c, err
}
