package storecopy

import (
	"context"
	"fmt"
	"strings"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// ErrUnmoved is a source holding records of a domain Copy does not move
// yet: copying the rest would lose them silently, so nothing is written.
var ErrUnmoved = fmt.Errorf("the source holds records this release cannot move")

// unmoved counts, in one source transaction, the records of each domain
// Copy does not move yet; each is one count to refuse on.
var unmoved = []struct {
	what  string
	count func(tx store.Tx) (int, error)
}{
	{"appointment office closures", func(tx store.Tx) (int, error) {
		cs, err := tx.Appointments().Closures()
		return len(cs), err
	}},
	{"appointment bookings", func(tx store.Tx) (int, error) {
		bs, err := tx.Appointments().All()
		return len(bs), err
	}},
	{"requests to the registry office", func(tx store.Tx) (int, error) {
		rs, err := tx.Requests().List(request.Filter{})
		return len(rs), err
	}},
	{"delegations", func(tx store.Tx) (int, error) {
		ds, err := tx.Delegations().All()
		return len(ds), err
	}},
	{"reminder preferences", func(tx store.Tx) (int, error) {
		cs, err := tx.Reminders().All()
		return len(cs), err
	}},
}

// checkMoved refuses a source holding records of a domain not moved yet,
// naming every such domain with its count.
func checkMoved(ctx context.Context, src store.Store) error {
	var held []string
	err := src.View(ctx, func(tx store.Tx) error {
		for _, u := range unmoved {
			n, err := u.count(tx)
			if err != nil {
				return fmt.Errorf("counting the source's %s: %w", u.what, err)
			}
			if n > 0 {
				held = append(held, fmt.Sprintf("%d %s", n, u.what))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(held) > 0 {
		return fmt.Errorf("%w: it holds %s, which would be lost; nothing was written", ErrUnmoved, strings.Join(held, ", "))
	}
	return nil
}

// Appointment offices are configuration (the demo city seeds two); they
// move as they are, by id.

func officesEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		os, err := tx.Appointments().Offices()
		empty = len(os) == 0
		return err
	})
	return empty, err
}

func copyOffices(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var offices []appointment.Office
	if err := src.View(ctx, func(tx store.Tx) (err error) { offices, err = tx.Appointments().Offices(); return err }); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, offices, func(tx store.Tx, o appointment.Office) error { return tx.Appointments().PutOffice(&o) }); err != nil {
		return nil, nil, err
	}
	var got []appointment.Office
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Appointments().Offices(); return err }); err != nil {
		return nil, nil, err
	}
	if len(got) != len(offices) {
		return nil, nil, mismatch("appointment offices", len(offices), len(got))
	}
	if !same(got, offices) {
		return nil, nil, fmt.Errorf("the appointment offices read back from the destination differ from the source's")
	}
	return Counts{{"appointments", "offices", len(offices)}}, nil, nil
}
