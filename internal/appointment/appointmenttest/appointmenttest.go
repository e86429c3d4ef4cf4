// Package appointmenttest is the suite every backend's appointment.Tx
// must pass (store.Tx.Appointments), so that PostgreSQL behaves as bbolt
// does and no backend ever double-books a seat.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given):
//
//	func TestAppointments(t *testing.T) { appointmenttest.Run(t, open, twin) }
package appointmenttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// t0 is "now" in the suite: a Monday morning in Rome.
var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, appointment.Rome).UTC()

// Office is the office the suite books at: three counters, the CIE on 1
// and 2 in 20-minute slots, residence on 3.
func Office(id string) *appointment.Office {
	hours := func(from, to string) []appointment.Hours {
		var hs []appointment.Hours
		for wd := time.Monday; wd <= time.Friday; wd++ {
			hs = append(hs, appointment.Hours{Weekday: wd, From: from, To: to})
		}
		return hs
	}
	return &appointment.Office{ID: id, Name: "Anagrafe " + id, Address: "Via Roma 1",
		Counters: []appointment.Counter{{Number: 1}, {Number: 2}, {Number: 3, Name: "Sportello residenze"}},
		Calendars: []appointment.Calendar{
			{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1, 2}, Hours: hours("08:30", "12:30")},
			{Service: appointment.Residence, Minutes: 30, Counters: []int{3}, Hours: hours("09:00", "12:00")},
		}}
}

func booking(ref, office, cf string, start time.Time) *appointment.Booking {
	return &appointment.Booking{Ref: ref, OfficeID: office, Service: appointment.CIEIssue, Start: start, Minutes: 20,
		CF: cf, Name: "Persona " + cf, Channel: appointment.Kiosk, By: "dev-1", State: appointment.Booked,
		Created: t0, Updated: t0}
}

func update(t *testing.T, s store.Store, fn func(appointment.Tx) error) error {
	t.Helper()
	return s.Update(context.Background(), func(tx store.Tx) error { return fn(tx.Appointments()) })
}

func view(t *testing.T, s store.Store, fn func(appointment.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), func(tx store.Tx) error { return fn(tx.Appointments()) }); err != nil {
		t.Fatal(err)
	}
}

func refs(bs []appointment.Booking) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%s@%d", b.Ref, b.Counter))
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	t.Run("Offices", func(t *testing.T) { testOffices(t, open(t)) })
	t.Run("Closures", func(t *testing.T) { testClosures(t, open(t)) })
	t.Run("BookFillsCounters", func(t *testing.T) { testBook(t, open(t)) })
	t.Run("CancelReleases", func(t *testing.T) { testCancel(t, open(t)) })
	t.Run("Move", func(t *testing.T) { testMove(t, open(t)) })
	t.Run("Lists", func(t *testing.T) { testLists(t, open(t)) })
	t.Run("FailedUpdateLeavesNothing", func(t *testing.T) { testAtomic(t, open(t)) })
	t.Run("ViewRefusesWrites", func(t *testing.T) { testView(t, open(t)) })
	t.Run("TwoHubsNeverDoubleBook", func(t *testing.T) {
		a := open(t)
		testConcurrent(t, a, twin(t, a))
	})
}

func testOffices(t *testing.T, s store.Store) {
	view(t, s, func(tx appointment.Tx) error {
		if os, err := tx.Offices(); err != nil || len(os) != 0 {
			t.Errorf("offices of an empty store: %v %v", os, err)
		}
		if _, err := tx.Office("centro"); !errors.Is(err, appointment.ErrNotFound) {
			t.Errorf("absent office: %v, want ErrNotFound", err)
		}
		return nil
	})
	bad := Office("bad")
	bad.Calendars[1].Counters = []int{2} // counter 2 already serves the CIE
	err := update(t, s, func(tx appointment.Tx) error {
		for _, o := range []*appointment.Office{Office("nord"), Office("centro")} {
			if err := tx.PutOffice(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := update(t, s, func(tx appointment.Tx) error { return tx.PutOffice(bad) }); !errors.Is(err, appointment.ErrInvalid) {
		t.Errorf("an office whose counter serves two calendars: %v, want ErrInvalid", err)
	}
	changed := Office("nord")
	changed.Name = "Anagrafe Nord (nuova sede)"
	if err := update(t, s, func(tx appointment.Tx) error { return tx.PutOffice(changed) }); err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx appointment.Tx) error {
		os, err := tx.Offices()
		if err != nil || len(os) != 2 || os[0].ID != "centro" || os[1].ID != "nord" {
			t.Errorf("offices: %+v %v, want centro then nord", os, err)
		}
		o, err := tx.Office("nord")
		if err != nil || !reflect.DeepEqual(o, *changed) {
			t.Errorf("office nord: %+v %v, want %+v", o, err, *changed)
		}
		if _, err := tx.Office("bad"); !errors.Is(err, appointment.ErrNotFound) {
			t.Errorf("the refused office was stored: %v", err)
		}
		return nil
	})
}

func testClosures(t *testing.T, s store.Store) {
	d := func(m time.Month, day int) registry.Date { return registry.Date{Year: 2026, Month: m, Day: day} }
	cs := []*appointment.Closure{
		{ID: "sciopero", OfficeID: "nord", From: d(12, 18), To: d(12, 18), Reason: "Sciopero"},
		{ID: "patrono", From: d(12, 7), To: d(12, 7), Reason: "Sant'Ambrogio"},
		{ID: "trasloco", OfficeID: "centro", From: d(12, 14), To: d(12, 16), Reason: "Trasloco"},
	}
	err := update(t, s, func(tx appointment.Tx) error {
		for _, c := range cs {
			if err := tx.PutClosure(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := update(t, s, func(tx appointment.Tx) error {
		return tx.PutClosure(&appointment.Closure{ID: "x", From: d(12, 9), To: d(12, 8), Reason: "backwards"})
	}); !errors.Is(err, appointment.ErrInvalid) {
		t.Errorf("a closure ending before it starts: %v, want ErrInvalid", err)
	}
	view(t, s, func(tx appointment.Tx) error {
		got, err := tx.Closures()
		want := []appointment.Closure{*cs[1], *cs[2], *cs[0]}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("closures: %+v %v, want %+v", got, err, want)
		}
		return nil
	})
	if err := update(t, s, func(tx appointment.Tx) error { return tx.DeleteClosure("trasloco") }); err != nil {
		t.Fatal(err)
	}
	if err := update(t, s, func(tx appointment.Tx) error { return tx.DeleteClosure("trasloco") }); !errors.Is(err, appointment.ErrNotFound) {
		t.Errorf("deleting an absent closure: %v, want ErrNotFound", err)
	}
	view(t, s, func(tx appointment.Tx) error {
		if got, err := tx.Closures(); err != nil || len(got) != 2 {
			t.Errorf("closures after a deletion: %+v %v", got, err)
		}
		return nil
	})
}

func testBook(t *testing.T, s store.Store) {
	slot := t0.Add(time.Hour) // 09:00
	var b1, b2 *appointment.Booking
	err := update(t, s, func(tx appointment.Tx) error {
		b1 = booking("REF1", "nord", "AAA", slot)
		if err := tx.Book(b1, []int{1, 2}); err != nil {
			return err
		}
		b2 = booking("REF2", "nord", "BBB", slot)
		return tx.Book(b2, []int{1, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	if b1.Counter != 1 || b2.Counter != 2 {
		t.Errorf("counters %d and %d, want 1 and 2", b1.Counter, b2.Counter)
	}
	for name, c := range map[string]struct {
		b    *appointment.Booking
		want error
	}{
		"the slot is full":        {booking("REF3", "nord", "CCC", slot), appointment.ErrSlotTaken},
		"the reference is taken":  {booking("REF1", "nord", "CCC", slot.Add(20*time.Minute)), appointment.ErrRefTaken},
		"the person holds one":    {booking("REF4", "nord", "AAA", slot.Add(40*time.Minute)), appointment.ErrAlreadyBooked},
		"the booking is unsound":  {booking("REF5", "nord", "", slot.Add(40*time.Minute)), appointment.ErrInvalid},
		"at another office, same": {booking("REF6", "centro", "BBB", slot), appointment.ErrAlreadyBooked},
	} {
		if err := update(t, s, func(tx appointment.Tx) error { return tx.Book(c.b, []int{1, 2}) }); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Another service, or a person's booking of the same service that is
	// already past, does not stop a booking.
	err = update(t, s, func(tx appointment.Tx) error {
		r := booking("REF7", "nord", "AAA", slot)
		r.Service, r.Minutes = appointment.Residence, 30
		if err := tx.Book(r, []int{3}); err != nil {
			return fmt.Errorf("residence: %w", err)
		}
		later := booking("REF8", "nord", "BBB", slot.Add(24*time.Hour))
		later.Created = slot.Add(time.Minute)
		return tx.Book(later, []int{1, 2})
	})
	if err != nil {
		t.Error(err)
	}
	view(t, s, func(tx appointment.Tx) error {
		got, err := tx.Get("REF1")
		if err != nil || !reflect.DeepEqual(got, *b1) {
			t.Errorf("get: %+v %v, want %+v", got, err, *b1)
		}
		if _, err := tx.Get("NONE"); !errors.Is(err, appointment.ErrNotFound) {
			t.Errorf("absent booking: %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testCancel(t *testing.T, s store.Store) {
	slot := t0.Add(time.Hour)
	err := update(t, s, func(tx appointment.Tx) error {
		if err := tx.Book(booking("A1", "nord", "AAA", slot), []int{1, 2}); err != nil {
			return err
		}
		return tx.Book(booking("B1", "nord", "BBB", slot), []int{1, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = update(t, s, func(tx appointment.Tx) error {
		b, err := tx.Get("A1")
		if err != nil {
			return err
		}
		b.State, b.Updated = appointment.Cancelled, t0.Add(time.Minute)
		return tx.Put(&b)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := booking("C1", "nord", "CCC", slot)
	a := booking("A2", "nord", "AAA", slot.Add(20*time.Minute)) // A's booking was cancelled: A may book again
	err = update(t, s, func(tx appointment.Tx) error {
		if err := tx.Book(c, []int{1, 2}); err != nil {
			return err
		}
		return tx.Book(a, []int{1, 2})
	})
	if err != nil {
		t.Fatalf("booking the seat a cancellation released: %v", err)
	}
	if c.Counter != 1 {
		t.Errorf("counter %d, want 1, the one released", c.Counter)
	}
	// A seat changes only by moving.
	err = update(t, s, func(tx appointment.Tx) error {
		b, err := tx.Get("B1")
		if err != nil {
			return err
		}
		b.Counter = 3
		return tx.Put(&b)
	})
	if !errors.Is(err, appointment.ErrSeatChange) {
		t.Errorf("Put changing the counter: %v, want ErrSeatChange", err)
	}
	if err := update(t, s, func(tx appointment.Tx) error { return tx.Put(booking("NONE", "nord", "X", slot)) }); !errors.Is(err, appointment.ErrNotFound) {
		t.Errorf("Put of an absent booking: %v, want ErrNotFound", err)
	}
	view(t, s, func(tx appointment.Tx) error {
		day, err := tx.Day("nord", slot, slot.Add(time.Minute))
		if got, want := refs(day), []string{"C1@1", "B1@2"}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("the slot's live bookings: %v %v, want %v", got, err, want)
		}
		return nil
	})
}

func testMove(t *testing.T, s store.Store) {
	slot := t0.Add(time.Hour)
	next := slot.Add(20 * time.Minute)
	err := update(t, s, func(tx appointment.Tx) error {
		for _, b := range []*appointment.Booking{booking("A", "nord", "AAA", slot), booking("B", "nord", "BBB", next), booking("C", "nord", "CCC", next)} {
			if err := tx.Book(b, []int{1, 2}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Into a full slot: refused, and A keeps its seat.
	err = update(t, s, func(tx appointment.Tx) error {
		_, err := tx.Move("A", "nord", next, 20, []int{1, 2}, t0.Add(time.Minute))
		return err
	})
	if !errors.Is(err, appointment.ErrSlotTaken) {
		t.Errorf("moving into a full slot: %v, want ErrSlotTaken", err)
	}
	// C moves to A's slot (counter 2 free); then B can move to C's seat.
	var moved appointment.Booking
	err = update(t, s, func(tx appointment.Tx) error {
		var err error
		moved, err = tx.Move("C", "nord", slot, 20, []int{1, 2}, t0.Add(2*time.Minute))
		if err != nil {
			return err
		}
		_, err = tx.Move("B", "nord", next, 20, []int{2, 1}, t0.Add(2*time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Counter != 2 || !moved.Start.Equal(slot) || moved.Moves != 1 || !moved.Updated.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("moved: %+v", moved)
	}
	// A checked-in booking stays where it is.
	err = update(t, s, func(tx appointment.Tx) error {
		b, err := tx.Get("A")
		if err != nil {
			return err
		}
		b.State, b.CheckedIn = appointment.CheckedIn, slot
		if err := tx.Put(&b); err != nil {
			return err
		}
		_, err = tx.Move("A", "nord", slot.Add(time.Hour), 20, []int{1, 2}, slot)
		return err
	})
	if !errors.Is(err, appointment.ErrNotBooked) {
		t.Errorf("moving a checked-in booking: %v, want ErrNotBooked", err)
	}
	view(t, s, func(tx appointment.Tx) error {
		day, err := tx.Day("nord", slot, slot.Add(time.Hour))
		if got, want := refs(day), []string{"A@1", "C@2", "B@2"}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("the day after the moves: %v %v, want %v", got, err, want)
		}
		a, err := tx.Get("A")
		if err != nil || a.State != appointment.Booked {
			t.Errorf("A after a failed update: %+v %v, want still booked", a, err)
		}
		return nil
	})
}

func testLists(t *testing.T, s store.Store) {
	view(t, s, func(tx appointment.Tx) error {
		if bs, err := tx.All(); err != nil || len(bs) != 0 {
			t.Errorf("every booking of an empty store: %v %v", refs(bs), err)
		}
		return nil
	})
	mon := t0.Add(time.Hour)
	tue := mon.Add(24 * time.Hour)
	bs := []*appointment.Booking{
		booking("P3", "nord", "AAA", tue),
		booking("P1", "centro", "BBB", mon.Add(20*time.Minute)),
		booking("P2", "nord", "CCC", mon),
		booking("P4", "nord", "DDD", mon),
		booking("P5", "nord", "EEE", tue.Add(20*time.Minute)),
	}
	r := booking("R1", "nord", "AAA", mon)
	r.Service, r.Minutes = appointment.Residence, 30
	bs = append(bs, r)
	err := update(t, s, func(tx appointment.Tx) error {
		for _, b := range bs {
			counters := []int{1, 2}
			if b.Service == appointment.Residence {
				counters = []int{3}
			}
			if err := tx.Book(b, counters); err != nil {
				return err
			}
		}
		// P5 is cancelled, P4 checked in: neither is due.
		for ref, st := range map[string]appointment.State{"P5": appointment.Cancelled, "P4": appointment.CheckedIn} {
			b, err := tx.Get(ref)
			if err != nil {
				return err
			}
			b.State = st
			if err := tx.Put(&b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx appointment.Tx) error {
		check := func(name string, got []appointment.Booking, err error, want ...string) {
			t.Helper()
			if g := refs(got); err != nil || !reflect.DeepEqual(g, append([]string{}, want...)) {
				t.Errorf("%s: %v %v, want %v", name, g, err, want)
			}
		}
		got, err := tx.Day("nord", mon.Add(-time.Hour), mon.Add(12*time.Hour))
		check("Monday at nord", got, err, "P2@1", "P4@2", "R1@3")
		got, err = tx.Day("nord", tue, tue.Add(time.Hour))
		check("Tuesday at nord (P5 cancelled)", got, err, "P3@1")
		got, err = tx.ByPerson("AAA")
		check("AAA's bookings", got, err, "R1@3", "P3@1")
		got, err = tx.ByPerson("EEE")
		check("EEE's bookings, cancelled too", got, err, "P5@1")
		got, err = tx.ByPerson("ZZZ")
		check("nobody's bookings", got, err)
		got, err = tx.Starting(mon, tue)
		check("due on Monday (P4 checked in)", got, err, "P2@1", "R1@3", "P1@1")
		got, err = tx.Starting(tue, tue.Add(24*time.Hour))
		check("due on Tuesday (P5 cancelled)", got, err, "P3@1")
		got, err = tx.Starting(mon.Add(20*time.Minute), mon.Add(21*time.Minute))
		check("due at 09:20 exactly", got, err, "P1@1")
		got, err = tx.All()
		check("every booking, cancelled and checked in too", got, err, "P2@1", "P4@2", "R1@3", "P1@1", "P3@1", "P5@1")
		return nil
	})
}

func testAtomic(t *testing.T, s store.Store) {
	if err := update(t, s, func(tx appointment.Tx) error { return tx.PutOffice(Office("nord")) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	slot := t0.Add(time.Hour)
	err := update(t, s, func(tx appointment.Tx) error {
		if err := tx.Book(booking("GONE", "nord", "AAA", slot), []int{1}); err != nil {
			return err
		}
		if err := tx.PutClosure(&appointment.Closure{ID: "c", From: registry.DateOf(slot), To: registry.DateOf(slot), Reason: "x"}); err != nil {
			return err
		}
		o := Office("nord")
		o.Name = "changed"
		if err := tx.PutOffice(o); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v, want boom", err)
	}
	view(t, s, func(tx appointment.Tx) error {
		if _, err := tx.Get("GONE"); !errors.Is(err, appointment.ErrNotFound) {
			t.Errorf("a booking of a failed update: %v", err)
		}
		if cs, err := tx.Closures(); err != nil || len(cs) != 0 {
			t.Errorf("closures of a failed update: %v %v", cs, err)
		}
		if o, err := tx.Office("nord"); err != nil || o.Name != "Anagrafe nord" {
			t.Errorf("office after a failed update: %+v %v", o, err)
		}
		for name, f := range map[string]func() ([]appointment.Booking, error){
			"day":       func() ([]appointment.Booking, error) { return tx.Day("nord", slot, slot.Add(time.Hour)) },
			"by person": func() ([]appointment.Booking, error) { return tx.ByPerson("AAA") },
			"starting":  func() ([]appointment.Booking, error) { return tx.Starting(slot, slot.Add(time.Hour)) },
		} {
			if bs, err := f(); err != nil || len(bs) != 0 {
				t.Errorf("%s after a failed update: %v %v", name, refs(bs), err)
			}
		}
		return nil
	})
	// The seat is free: the same counter books.
	b := booking("KEPT", "nord", "AAA", slot)
	if err := update(t, s, func(tx appointment.Tx) error { return tx.Book(b, []int{1}) }); err != nil || b.Counter != 1 {
		t.Errorf("booking after a failed update: %v (counter %d)", err, b.Counter)
	}
}

func testView(t *testing.T, s store.Store) {
	slot := t0.Add(time.Hour)
	if err := update(t, s, func(tx appointment.Tx) error { return tx.Book(booking("V", "nord", "AAA", slot), []int{1}) }); err != nil {
		t.Fatal(err)
	}
	cancelled := *booking("V", "nord", "AAA", slot)
	cancelled.Counter, cancelled.State = 1, appointment.Cancelled
	for name, fn := range map[string]func(appointment.Tx) error{
		"PutOffice": func(tx appointment.Tx) error { return tx.PutOffice(Office("x")) },
		"PutClosure": func(tx appointment.Tx) error {
			return tx.PutClosure(&appointment.Closure{ID: "c", From: registry.DateOf(slot), To: registry.DateOf(slot), Reason: "x"})
		},
		"DeleteClosure": func(tx appointment.Tx) error { return tx.DeleteClosure("c") },
		"Book":          func(tx appointment.Tx) error { return tx.Book(booking("W", "nord", "BBB", slot), []int{2}) },
		"Put":           func(tx appointment.Tx) error { return tx.Put(&cancelled) },
		"Move": func(tx appointment.Tx) error {
			_, err := tx.Move("V", "nord", slot.Add(time.Hour), 20, []int{1}, slot)
			return err
		},
	} {
		err := s.View(context.Background(), func(st store.Tx) error {
			if _, err := st.Appointments().Get("V"); err != nil {
				t.Errorf("%s: a View cannot read: %v", name, err)
			}
			return fn(st.Appointments())
		})
		if !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s in a View: %v, want ErrReadOnly", name, err)
		}
	}
	view(t, s, func(tx appointment.Tx) error {
		if b, err := tx.Get("V"); err != nil || b.State != appointment.Booked || !b.Start.Equal(slot) {
			t.Errorf("V after the Views: %+v %v", b, err)
		}
		if _, err := tx.Get("W"); !errors.Is(err, appointment.ErrNotFound) {
			t.Errorf("a View booked: %v", err)
		}
		return nil
	})
}

// testConcurrent books the last seats from many goroutines on two hubs at
// once: exactly as many succeed as there are seats, each seat once.
func testConcurrent(t *testing.T, a, b store.Store) {
	slot := t0.Add(time.Hour)
	if err := update(t, a, func(tx appointment.Tx) error {
		return tx.Book(booking("FIRST", "nord", "P00", slot), []int{1, 2, 3})
	}); err != nil {
		t.Fatal(err)
	}
	const clients = 40
	var wg sync.WaitGroup
	errs := make([]error, clients)
	counters := make([]int, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			bk := booking(fmt.Sprintf("R%02d", i+1), "nord", fmt.Sprintf("P%02d", i+1), slot)
			errs[i] = update(t, s, func(tx appointment.Tx) error { return tx.Book(bk, []int{1, 2, 3}) })
			counters[i] = bk.Counter
		}()
	}
	// Moves into the slot race the bookings too.
	movers := []string{"M1", "M2"}
	if err := update(t, a, func(tx appointment.Tx) error {
		for i, m := range movers {
			if err := tx.Book(booking(m, "nord", "Q"+m, slot.Add(time.Duration(i+1)*time.Hour)), []int{1}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	moveErrs := make([]error, len(movers))
	for i, m := range movers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []store.Store{a, b}[i%2]
			moveErrs[i] = update(t, s, func(tx appointment.Tx) error {
				_, err := tx.Move(m, "nord", slot, 20, []int{1, 2, 3}, t0)
				return err
			})
		}()
	}
	wg.Wait()
	seats := map[int]string{}
	ok := 0
	for i, err := range append(errs, moveErrs...) {
		switch {
		case err == nil:
			ok++
			if i < clients {
				seats[counters[i]] += fmt.Sprintf("R%02d ", i+1)
			}
		case !errors.Is(err, appointment.ErrSlotTaken):
			t.Errorf("client %d: %v, want success or ErrSlotTaken", i, err)
		}
	}
	if ok != 2 {
		t.Errorf("%d bookings and moves succeeded for the last 2 seats", ok)
	}
	for c, who := range seats {
		if c != 2 && c != 3 || len(who) != 4 {
			t.Errorf("counter %d went to %q", c, who)
		}
	}
	view(t, b, func(tx appointment.Tx) error {
		day, err := tx.Day("nord", slot, slot.Add(time.Minute))
		if err != nil || len(day) != 3 || day[0].Counter != 1 || day[1].Counter != 2 || day[2].Counter != 3 {
			t.Errorf("the slot holds %v %v, want one booking on each of counters 1 to 3", refs(day), err)
		}
		return nil
	})
}
