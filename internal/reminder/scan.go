package reminder

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Source finds the scheduled reminders due at now, reading a transaction
// of the hub (a View): the CIEs expiring soon, tomorrow's appointments.
// It may return reminders queued already: their keys make Enqueue skip
// them.
type Source[T Txs] func(tx T, now time.Time) ([]Reminder, error)

// Runner is the hub's store as Scan uses it: store.Store is a
// Runner[store.Tx].
type Runner[T Txs] interface {
	View(ctx context.Context, fn func(T) error) error
	Update(ctx context.Context, fn func(T) error) error
}

// Scan is the daily scan of scheduled reminders.
type Scan[T Txs] struct {
	Store   Runner[T]
	Sources []Source[T]
	Now     func() time.Time
	Log     *slog.Logger
	// At is the hour of the day (Rome) the daily run starts, 8 when
	// zero: reminders do not arrive at night.
	At int
}

// batch is how many reminders one transaction enqueues, so a city-wide
// scan does not hold the writer for long.
const batch = 200

// RunOnce runs every source in one View, then enqueues what they found
// in transactions of batch reminders; it returns how many were new.
func (s *Scan[T]) RunOnce(ctx context.Context) (int, error) {
	now := s.Now()
	var found []Reminder
	err := s.Store.View(ctx, func(tx T) error {
		for _, src := range s.Sources {
			rs, err := src(tx, now)
			if err != nil {
				return err
			}
			found = append(found, rs...)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot look for reminders due: %w", err)
	}
	added := 0
	for start := 0; start < len(found); start += batch {
		part := found[start:min(start+batch, len(found))]
		n := 0
		err := s.Store.Update(ctx, func(tx T) error {
			n = 0 // the function may run again
			for _, r := range part {
				ok, err := Enqueue(tx, r, now)
				if err != nil {
					return fmt.Errorf("reminder %s: %w", r.ID(), err)
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return added, fmt.Errorf("cannot queue reminders: %w", err)
		}
		added += n
	}
	return added, nil
}

// next is when the run after now is due: the next day's At o'clock in
// Rome.
func (s *Scan[T]) next(now time.Time) time.Time {
	hour := s.At
	if hour <= 0 || hour > 23 {
		hour = 8
	}
	r := now.In(protocol.Rome)
	at := time.Date(r.Year(), r.Month(), r.Day(), hour, 0, 0, 0, protocol.Rome)
	if !at.After(r) {
		at = time.Date(r.Year(), r.Month(), r.Day()+1, hour, 0, 0, 0, protocol.Rome)
	}
	return at
}

// Run scans at once (a hub that was stopped catches up: sources find
// what is due, not what became due today), then every day at At o'clock,
// until ctx ends. Errors are logged; the next run tries again.
func (s *Scan[T]) Run(ctx context.Context) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		if n, err := s.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("the daily reminder scan failed; it runs again at the next scan", "err", err)
		} else {
			log.Info("reminder scan done", "queued", n)
		}
		wait := s.next(s.Now()).Sub(s.Now())
		t := time.NewTimer(max(wait, time.Minute))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// CIEWindow is how long before its expiry a CIE is reminded: 90 days
// (issue 17, item 6).
const CIEWindow = 90

// CIEExpiringSource finds the residents whose newest CIE expires
// within CIEWindow days of now (not yet expired), one reminder per card;
// bookURL is the link to book the renewal. A card replaced by a newer
// one is not reminded.
func CIEExpiringSource[T Txs](bookURL string) Source[T] {
	return func(tx T, now time.Time) ([]Reminder, error) {
		today := registry.DateOf(now.In(protocol.Rome))
		limit := registry.DateOf(now.In(protocol.Rome).AddDate(0, 0, CIEWindow))
		var out []Reminder
		err := tx.Registry().Persons(0, func(p *registry.Person) (bool, error) {
			// Only residents living here book at the city's office: not
			// the dead, not AIRE (their consulate renews), not those
			// who moved away.
			if _, resident := p.CurrentResidence(); !p.Alive() || p.CF == "" || p.AIRE || !resident {
				return true, nil
			}
			doc, ok := newestCIE(p)
			if !ok || doc.Revoked || doc.Expires.Before(today) || limit.Before(doc.Expires) {
				return true, nil
			}
			out = append(out, CIEExpiring{CF: p.CF, Number: doc.Number, Expires: doc.Expires, BookURL: bookURL}.Reminder())
			return true, nil
		})
		return out, err
	}
}

// newestCIE is p's CIE with the latest expiry.
func newestCIE(p *registry.Person) (registry.Document, bool) {
	var best registry.Document
	found := false
	for _, d := range p.Documents {
		if d.Kind != registry.CIE {
			continue
		}
		if !found || best.Expires.Before(d.Expires) {
			best, found = d, true
		}
	}
	return best, found
}

// AppointmentTxs is a hub transaction with appointments; store.Tx is one.
type AppointmentTxs interface {
	Txs
	Appointments() appointment.Tx
}

// AppointmentsTomorrowSource finds the appointments booked for the day
// after now's (Rome): one reminder per booking and start, so a booking
// moved to another day is reminded the day before its new date, and a
// cancelled one (no longer Booked) not at all. It also finds today's
// appointments not yet begun that were booked before yesterday: their
// reminder was due yesterday, and a hub stopped then sends it now, once
// (the same key), and never after the appointment began (Expires).
func AppointmentsTomorrowSource[T AppointmentTxs](tx T, now time.Time) ([]Reminder, error) {
	r := now.In(protocol.Rome)
	today := time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, protocol.Rome)
	from := time.Date(r.Year(), r.Month(), r.Day()+1, 0, 0, 0, 0, protocol.Rome)
	yesterday := time.Date(r.Year(), r.Month(), r.Day()-1, 0, 0, 0, 0, protocol.Rome)
	bs, err := tx.Appointments().Starting(today, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	offices := map[string]appointment.Office{}
	var out []Reminder
	for _, b := range bs {
		o, ok := offices[b.OfficeID]
		if !ok {
			if o, err = tx.Appointments().Office(b.OfficeID); err != nil {
				return nil, err
			}
			offices[b.OfficeID] = o
		}
		sameDay := b.Start.Before(from)
		if sameDay && (!b.Start.After(now) || !b.Created.Before(yesterday)) {
			// Begun already, or booked too late to be reminded the day
			// before: the citizen knows.
			continue
		}
		out = append(out, AppointmentTomorrow{CF: b.CF, AppointmentID: b.Ref, At: b.Start, Office: o.Name,
			Address: o.Address, Service: b.Service.Italian(), Code: b.Ref, SameDay: sameDay}.Reminder())
	}
	return out, nil
}
