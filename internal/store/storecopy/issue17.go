package storecopy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// The domains issue 17 added: appointments, requests, delegations and
// their uses, reminder preferences. Each moves through its own view, ids,
// times and states kept, and is read back from the destination.

// Appointments: offices (configuration, the demo city seeds two), then
// closures, then bookings on their own counters. A booking is stored as a
// new one (Book) and then given its state (Put): the non-live ones first,
// each released in the transaction that books it, so they neither hold a
// seat nor count as the person's pending booking when the live ones,
// which hold their seats, are booked after them.

func appointmentsEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		a := tx.Appointments()
		os, err := a.Offices()
		if err != nil {
			return err
		}
		cs, err := a.Closures()
		if err != nil {
			return err
		}
		bs, err := a.All()
		empty = len(os) == 0 && len(cs) == 0 && len(bs) == 0
		return err
	})
	return empty, err
}

type appointmentsOf struct {
	offices  []appointment.Office
	closures []appointment.Closure
	bookings []appointment.Booking
}

func readAppointments(ctx context.Context, s store.Store) (all appointmentsOf, err error) {
	err = s.View(ctx, func(tx store.Tx) (err error) {
		a := tx.Appointments()
		if all.offices, err = a.Offices(); err != nil {
			return err
		}
		if all.closures, err = a.Closures(); err != nil {
			return err
		}
		all.bookings, err = a.All()
		return err
	})
	all.offices, all.closures, all.bookings = orEmpty(all.offices), orEmpty(all.closures), orEmpty(all.bookings)
	return all, err
}

func copyAppointments(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	from, err := readAppointments(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, from.offices, func(tx store.Tx, o appointment.Office) error { return tx.Appointments().PutOffice(&o) }); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, from.closures, func(tx store.Tx, c appointment.Closure) error { return tx.Appointments().PutClosure(&c) }); err != nil {
		return nil, nil, err
	}
	order := slices.Clone(from.bookings)
	slices.SortStableFunc(order, func(a, b appointment.Booking) int {
		switch {
		case a.State.Live() == b.State.Live():
			return 0
		case a.State.Live():
			return 1
		}
		return -1
	})
	if err := inBatches(ctx, dst, order, func(tx store.Tx, b appointment.Booking) error {
		a := tx.Appointments()
		nb := b
		if !b.State.Live() {
			nb.State = appointment.Booked
		}
		if err := a.Book(&nb, []int{b.Counter}); err != nil {
			return fmt.Errorf("booking %s: %w", b.Ref, err)
		}
		if nb.State != b.State {
			if err := a.Put(&b); err != nil {
				return fmt.Errorf("booking %s: %w", b.Ref, err)
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	got, err := readAppointments(ctx, dst)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range []struct {
		what     string
		src, dst any
		n, m     int
	}{
		{"appointment offices", from.offices, got.offices, len(from.offices), len(got.offices)},
		{"office closures", from.closures, got.closures, len(from.closures), len(got.closures)},
		{"bookings", from.bookings, got.bookings, len(from.bookings), len(got.bookings)},
	} {
		if c.n != c.m {
			return nil, nil, mismatch(c.what, c.n, c.m)
		}
		if !same(c.src, c.dst) {
			return nil, nil, fmt.Errorf("the %s read back from the destination differ from the source's", c.what)
		}
	}
	return Counts{{"appointments", "offices", len(from.offices)}, {"appointments", "closures", len(from.closures)}, {"appointments", "bookings", len(from.bookings)}}, nil, nil
}

// Requests: each is created under its protocol number, filing time and
// hash, and saved again until it reaches its version, so a desk's copy
// saved before the move is still refused as stale after it. Attachments
// are stored by their hash, one at a time (they can be large), each
// checked on the destination.

func requestsEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		rs, err := tx.Requests().List(request.Filter{})
		empty = len(rs) == 0
		return err
	})
	return empty, err
}

func allRequests(ctx context.Context, s store.Store) (rs []request.Request, err error) {
	err = s.View(ctx, func(tx store.Tx) (err error) { rs, err = tx.Requests().List(request.Filter{}); return err })
	slices.SortFunc(rs, func(a, b request.Request) int {
		if c := a.Filed.Compare(b.Filed); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return orEmpty(rs), err
}

func copyRequests(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	rs, err := allRequests(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	// An attachment two requests carry is stored once.
	var sums []string
	seen := map[string]bool{}
	for _, r := range rs {
		for _, a := range r.Attachments {
			if !seen[a.SHA256] {
				seen[a.SHA256] = true
				sums = append(sums, a.SHA256)
			}
		}
	}
	for _, sum := range sums {
		var data []byte
		if err := src.View(ctx, func(tx store.Tx) (err error) { data, err = tx.Requests().Attachment(sum); return err }); err != nil {
			return nil, nil, fmt.Errorf("reading attachment %s: %w", sum, err)
		}
		if err := dst.Update(ctx, func(tx store.Tx) error {
			got, err := tx.Requests().PutAttachment(data)
			if err == nil && got != sum {
				err = fmt.Errorf("attachment %s was stored as %s: its bytes differ from their hash", sum, got)
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
		if err := dst.View(ctx, func(tx store.Tx) error {
			back, err := tx.Requests().Attachment(sum)
			if err == nil && request.SumOf(back) != sum {
				err = fmt.Errorf("attachment %s reads back from the destination different from the source's", sum)
			}
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	if err := inBatches(ctx, dst, rs, func(tx store.Tx, r request.Request) error {
		q := tx.Requests()
		c := r
		if err := q.Create(&c); err != nil {
			return fmt.Errorf("request %s: %w", r.ID, err)
		}
		for c.Version < r.Version {
			if err := q.Put(&c); err != nil {
				return fmt.Errorf("request %s: %w", r.ID, err)
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	got, err := allRequests(ctx, dst)
	if err != nil {
		return nil, nil, err
	}
	if len(got) != len(rs) {
		return nil, nil, mismatch("requests", len(rs), len(got))
	}
	for i := range rs {
		if !same(got[i], rs[i]) {
			return nil, nil, fmt.Errorf("request %s (protocol %s) reads back from the destination different from the source's", rs[i].ID, rs[i].Protocol)
		}
	}
	return Counts{{"requests", "requests", len(rs)}, {"requests", "attachments", len(sums)}},
		Skipped{"attachments no request refers to (uploaded, never filed) stay behind: the requests' view finds attachments only through their requests"}, nil
}

// Delegations: each is stored in force, its uses recorded in their order
// (the use counter follows), then revoked as it was, by whom and when.

func delegationsEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		ds, err := tx.Delegations().All()
		empty = len(ds) == 0
		return err
	})
	return empty, err
}

type delegationOf struct {
	d    delegation.Delegation
	uses []delegation.Use
}

func readDelegations(ctx context.Context, s store.Store) (all []delegationOf, uses int, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		ds, err := tx.Delegations().All()
		if err != nil {
			return err
		}
		for _, d := range ds {
			us, err := tx.Delegations().Uses(d.ID)
			if err != nil {
				return err
			}
			all = append(all, delegationOf{d, orEmpty(us)})
			uses += len(us)
		}
		return nil
	})
	return orEmpty(all), uses, err
}

func copyDelegations(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	ds, uses, err := readDelegations(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, ds, func(tx store.Tx, of delegationOf) error {
		t := tx.Delegations()
		d := of.d
		d.Revoked, d.RevokedBy, d.Uses = time.Time{}, "", 0
		if err := t.Put(d); err != nil {
			return fmt.Errorf("delegation %s: %w", d.ID, err)
		}
		for _, u := range of.uses {
			if err := t.RecordUse(u); err != nil {
				return fmt.Errorf("a use of delegation %s: %w", d.ID, err)
			}
		}
		if !of.d.Revoked.IsZero() {
			if _, err := t.Revoke(d.ID, of.d.Revoked, of.d.RevokedBy); err != nil {
				return fmt.Errorf("delegation %s: %w", d.ID, err)
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	got, gotUses, err := readDelegations(ctx, dst)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(got) != len(ds):
		return nil, nil, mismatch("delegations", len(ds), len(got))
	case gotUses != uses:
		return nil, nil, mismatch("uses of delegations", uses, gotUses)
	}
	for i := range ds {
		if !same(got[i].d, ds[i].d) || !same(got[i].uses, ds[i].uses) {
			return nil, nil, fmt.Errorf("delegation %s or its uses read back from the destination different from the source's", ds[i].d.ID)
		}
	}
	return Counts{{"delegations", "delegations", len(ds)}, {"delegations", "uses", uses}}, nil, nil
}

// Reminder preferences: each choice with its own author and time.

func remindersEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		cs, err := tx.Reminders().All()
		empty = len(cs) == 0
		return err
	})
	return empty, err
}

func copyReminders(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var cs []reminder.Chosen
	if err := src.View(ctx, func(tx store.Tx) (err error) { cs, err = tx.Reminders().All(); return err }); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, cs, func(tx store.Tx, c reminder.Chosen) error {
		return tx.Reminders().SetPreference(c.CF, c.Kind, c.Choice, c.By, c.Updated)
	}); err != nil {
		return nil, nil, err
	}
	var got []reminder.Chosen
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Reminders().All(); return err }); err != nil {
		return nil, nil, err
	}
	if len(got) != len(cs) {
		return nil, nil, mismatch("reminder preferences", len(cs), len(got))
	}
	// The instant is compared, not its zone: PostgreSQL keeps nanoseconds
	// since the epoch and reads them back in UTC.
	for i, c := range cs {
		g := got[i]
		if g.CF != c.CF || g.Kind != c.Kind || g.Choice != c.Choice || g.By != c.By || !g.Updated.Equal(c.Updated) {
			return nil, nil, fmt.Errorf("the reminder choice of %s for %s reads back from the destination different from the source's", c.CF, c.Kind)
		}
	}
	return Counts{{"reminder preferences", "choices", len(cs)}}, nil, nil
}
