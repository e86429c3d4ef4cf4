package appointment

import "time"

// Tx is the appointments' view of one hub transaction
// (store.Tx.Appointments). In a read-only transaction every change fails
// with the store's ErrReadOnly. Every backend passes the suite in package
// appointmenttest.
type Tx interface {
	// PutOffice stores o (Check must pass), new or over the office with
	// its id.
	PutOffice(o *Office) error
	// Office returns the office with id, or ErrNotFound.
	Office(id string) (Office, error)
	// Offices returns every office, by id.
	Offices() ([]Office, error)

	// PutClosure stores c (Check must pass), new or over the closure with
	// its id.
	PutClosure(c *Closure) error
	// DeleteClosure removes the closure with id, or fails with
	// ErrNotFound.
	DeleteClosure(id string) error
	// Closures returns every closure, by first day then id.
	Closures() ([]Closure, error)

	// Book stores the new booking b (Check must pass) on the first of
	// counters that no live booking holds at (b.OfficeID, b.Start), and
	// sets b.Counter to it. It fails with ErrSlotTaken when every one is
	// held, ErrRefTaken when b.Ref names a booking, and ErrAlreadyBooked
	// when b.CF holds a Booked booking of b.Service starting at or after
	// b.Created. Whatever the number of transactions booking at once, on
	// one hub or several, a seat is held by one live booking.
	Book(b *Booking, counters []int) error
	// Get returns the booking with ref, or ErrNotFound.
	Get(ref string) (Booking, error)
	// Put stores b over the booking with its ref (ErrNotFound when none):
	// its state, check-in, names. Office, start and counter must be the
	// stored ones (ErrSeatChange); a cancelled booking releases its seat.
	// The booking is held against a concurrent change until the
	// transaction ends.
	Put(b *Booking) error
	// Move moves the Booked booking ref (ErrNotBooked otherwise) to the
	// first of counters free at (officeID, start), releasing its seat,
	// and sets Minutes, Updated (at) and Moves; ErrSlotTaken when none is
	// free, leaving the booking as it was.
	Move(ref, officeID string, start time.Time, minutes int, counters []int, at time.Time) (Booking, error)

	// Day returns the live bookings of office starting in [from, to), by
	// start, counter and reference.
	Day(officeID string, from, to time.Time) ([]Booking, error)
	// ByPerson returns every booking of cf, whatever its state, by start,
	// counter and reference: the person's appointments (the dossier).
	ByPerson(cf string) ([]Booking, error)
	// Starting returns the Booked bookings of every office starting in
	// [from, to), by start, counter and reference: the appointments due
	// tomorrow, for the reminders.
	Starting(from, to time.Time) ([]Booking, error)
	// All returns every booking of every office, whatever its state, by
	// start, counter and reference: what `hub migrate` moves.
	All() ([]Booking, error)
}
