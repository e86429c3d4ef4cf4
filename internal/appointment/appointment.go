// Package appointment is the registry offices' appointments (issue 17,
// item 3): offices with their counters, the services they book (CIE issue
// and renewal, residence, other) with each service's slot length and
// opening hours, the slot calendars those give once national holidays and
// the city's closures are taken out, and the bookings made at a kiosk, at
// a shop's counter or by staff.
//
// A slot's capacity is the number of counters serving it: a booking holds
// one seat (office, start, counter), and every backend refuses a second
// live booking of a seat (bbolt: one writer checks; PostgreSQL: a unique
// index on the live seats), so no slot is ever double-booked whatever
// number of hubs book at once.
//
// The package imports no store: Tx is its view of one hub transaction
// (store.Tx.Appointments), and every backend passes the suite in
// appointmenttest.
package appointment

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Rome is the zone of opening hours and of a slot's day.
var Rome = protocol.Rome

// Sentinel errors of the stores and of the service.
var (
	// ErrNotFound: no office, closure or booking with that id.
	ErrNotFound = errors.New("not found")
	// ErrSlotTaken: every counter of the slot is booked (someone took the
	// last one first).
	ErrSlotTaken = errors.New("the slot is fully booked")
	// ErrRefTaken: a booking already has the reference.
	ErrRefTaken = errors.New("booking reference taken")
	// ErrAlreadyBooked: the person holds a booking of the same service
	// still to come.
	ErrAlreadyBooked = errors.New("the person already holds a booking for this service")
	// ErrNotBooked: the booking was cancelled or checked in, so it can no
	// longer be moved, cancelled or checked in.
	ErrNotBooked = errors.New("the booking is no longer open")
	// ErrSeatChange: Put was given a booking with another seat; seats
	// change only through Move.
	ErrSeatChange = errors.New("a booking's seat changes only by moving it")
	// ErrInvalid: an office, closure or booking that does not hold
	// together (an unknown service, hours ending before they start).
	ErrInvalid = errors.New("invalid")
)

// ServiceKind names a service an office books.
type ServiceKind string

// The services (issue 17): the CIE first issue and its renewal, a change
// of residence and anything else.
const (
	CIEIssue   ServiceKind = "cie_rilascio"
	CIERenewal ServiceKind = "cie_rinnovo"
	Residence  ServiceKind = "residenza"
	Other      ServiceKind = "altro"
)

// Services are the services in the order screens list them.
var Services = []ServiceKind{CIEIssue, CIERenewal, Residence, Other}

var serviceNames = map[ServiceKind][2]string{
	CIEIssue:   {"Rilascio carta d'identità elettronica", "Electronic identity card (CIE), first issue"},
	CIERenewal: {"Rinnovo carta d'identità elettronica", "Electronic identity card (CIE), renewal"},
	Residence:  {"Residenza e cambio di indirizzo", "Residence and change of address"},
	Other:      {"Altri servizi anagrafici", "Other registry services"},
}

// Known reports whether k is one of Services.
func (k ServiceKind) Known() bool { _, ok := serviceNames[k]; return ok }

// Italian is the service's name on Italian screens and confirmations.
func (k ServiceKind) Italian() string {
	if n, ok := serviceNames[k]; ok {
		return n[0]
	}
	return string(k)
}

// English is the service's name on English screens.
func (k ServiceKind) English() string {
	if n, ok := serviceNames[k]; ok {
		return n[1]
	}
	return string(k)
}

// DefaultMinutes is a service's usual slot length: a CIE takes the
// fingerprints, photo and signature at the counter (about 20 minutes in
// most registry offices), a residence declaration the checking of every
// person moving.
func (k ServiceKind) DefaultMinutes() int {
	switch k {
	case CIEIssue, CIERenewal:
		return 20
	case Residence:
		return 30
	}
	return 15
}

// Office is a registry office that books appointments.
type Office struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	// Counters are the office's counters (sportelli); a counter serves at
	// most one calendar.
	Counters []Counter `json:"counters"`
	// Calendars are the services the office books, each on its counters
	// and hours.
	Calendars []Calendar `json:"calendars"`
}

// Counter is one counter of an office.
type Counter struct {
	Number int    `json:"number"`
	Name   string `json:"name,omitempty"`
}

// Calendar is one service's bookable time at an office: slots of Minutes
// from each opening period's start, one seat per counter.
type Calendar struct {
	Service  ServiceKind `json:"service"`
	Minutes  int         `json:"minutes"`
	Counters []int       `json:"counters"`
	Hours    []Hours     `json:"hours"`
}

// Hours is one opening period on a weekday, local (Rome) time "HH:MM".
type Hours struct {
	Weekday time.Weekday `json:"weekday"`
	From    string       `json:"from"`
	To      string       `json:"to"`
}

// minutes reads "HH:MM" as minutes after midnight.
func minutes(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return 0, fmt.Errorf("%w: %q is not a time HH:MM", ErrInvalid, s)
	}
	return hh*60 + mm, nil
}

// Check says what is wrong with o, if anything.
func (o *Office) Check() error {
	if strings.TrimSpace(o.ID) == "" || strings.TrimSpace(o.Name) == "" {
		return fmt.Errorf("%w: an office needs an id and a name", ErrInvalid)
	}
	counters := map[int]bool{}
	for _, c := range o.Counters {
		if c.Number <= 0 || counters[c.Number] {
			return fmt.Errorf("%w: counter numbers must be positive and distinct (%d)", ErrInvalid, c.Number)
		}
		counters[c.Number] = true
	}
	used := map[int]ServiceKind{}
	services := map[ServiceKind]bool{}
	for _, cal := range o.Calendars {
		if !cal.Service.Known() {
			return fmt.Errorf("%w: unknown service %q", ErrInvalid, cal.Service)
		}
		if services[cal.Service] {
			return fmt.Errorf("%w: service %s has two calendars", ErrInvalid, cal.Service)
		}
		services[cal.Service] = true
		if cal.Minutes < 5 || cal.Minutes > 240 {
			return fmt.Errorf("%w: a slot of %s lasts 5 to 240 minutes, not %d", ErrInvalid, cal.Service, cal.Minutes)
		}
		if len(cal.Counters) == 0 {
			return fmt.Errorf("%w: service %s has no counter", ErrInvalid, cal.Service)
		}
		for _, n := range cal.Counters {
			if !counters[n] {
				return fmt.Errorf("%w: service %s names counter %d, which the office does not have", ErrInvalid, cal.Service, n)
			}
			// A counter serving two calendars of different slot lengths
			// would hold overlapping seats.
			if s, ok := used[n]; ok {
				return fmt.Errorf("%w: counter %d serves both %s and %s", ErrInvalid, n, s, cal.Service)
			}
			used[n] = cal.Service
		}
		for _, h := range cal.Hours {
			from, err := minutes(h.From)
			if err != nil {
				return err
			}
			to, err := minutes(h.To)
			if err != nil {
				return err
			}
			if h.Weekday < time.Sunday || h.Weekday > time.Saturday || to-from < cal.Minutes {
				return fmt.Errorf("%w: opening %s %s–%s of %s holds no slot", ErrInvalid, h.Weekday, h.From, h.To, cal.Service)
			}
		}
	}
	return nil
}

// Calendar returns the office's calendar of service k.
func (o *Office) Calendar(k ServiceKind) (Calendar, bool) {
	for _, c := range o.Calendars {
		if c.Service == k {
			return c, true
		}
	}
	return Calendar{}, false
}

// CounterName is the name of counter n ("Sportello n" when unnamed).
func (o *Office) CounterName(n int) string {
	for _, c := range o.Counters {
		if c.Number == n && c.Name != "" {
			return c.Name
		}
	}
	return "Sportello " + strconv.Itoa(n)
}

// Closure is a day or days an office (or, with no OfficeID, every office)
// is closed beyond the national holidays: the patron saint's day, a
// strike, a move.
type Closure struct {
	ID       string        `json:"id"`
	OfficeID string        `json:"office_id,omitempty"`
	From     registry.Date `json:"from"`
	To       registry.Date `json:"to"` // inclusive
	Reason   string        `json:"reason"`
}

// Check says what is wrong with c, if anything.
func (c *Closure) Check() error {
	if c.ID == "" || c.From.IsZero() || c.To.IsZero() || c.To.Before(c.From) || strings.TrimSpace(c.Reason) == "" {
		return fmt.Errorf("%w: a closure needs an id, a first and a last day in order and a reason", ErrInvalid)
	}
	return nil
}

// Covers reports whether c closes office on day.
func (c *Closure) Covers(office string, day registry.Date) bool {
	return (c.OfficeID == "" || c.OfficeID == office) && !day.Before(c.From) && !c.To.Before(day)
}

// State is a booking's state.
type State string

const (
	// Booked holds its seat and is still to come.
	Booked State = "booked"
	// CheckedIn: the person arrived and the office scanned the
	// confirmation; the seat stays held.
	CheckedIn State = "checked_in"
	// Cancelled releases its seat.
	Cancelled State = "cancelled"
)

// Live reports whether a booking in state s holds its seat.
func (s State) Live() bool { return s == Booked || s == CheckedIn }

// Channel is where a booking was made or changed.
type Channel string

const (
	Kiosk   Channel = "kiosk"   // self-service kiosk, CIE + PIN
	Shop    Channel = "shop"    // a shop's counter, for the requester
	Console Channel = "console" // staff in the console
)

// Booking is one appointment.
type Booking struct {
	// Ref is the booking reference printed on the confirmation and in its
	// QR code, which the office scans on arrival.
	Ref      string      `json:"ref"`
	OfficeID string      `json:"office_id"`
	Service  ServiceKind `json:"service"`
	Start    time.Time   `json:"start"`
	Minutes  int         `json:"minutes"`
	Counter  int         `json:"counter"`
	// CF and Name are the person the appointment is for.
	CF   string `json:"cf"`
	Name string `json:"name"`
	// Channel and By say who booked: a device's operator, a clerk, a
	// member of staff; RequesterCF is who asked at a shop's counter, when
	// not the person.
	Channel     Channel   `json:"channel"`
	By          string    `json:"by,omitempty"`
	RequesterCF string    `json:"requester_cf,omitempty"`
	State       State     `json:"state"`
	Created     time.Time `json:"created"`
	// Updated is the last change (a move, the cancellation, the
	// check-in); Moves counts the moves.
	Updated   time.Time `json:"updated"`
	Moves     int       `json:"moves,omitempty"`
	CheckedIn time.Time `json:"checked_in,omitzero"`
}

// End is when the appointment's slot ends.
func (b *Booking) End() time.Time { return b.Start.Add(time.Duration(b.Minutes) * time.Minute) }

// Day is the appointment's day in Rome.
func (b *Booking) Day() registry.Date { return registry.DateOf(b.Start.In(Rome)) }

// Check says what is wrong with a new booking, if anything.
func (b *Booking) Check() error {
	switch {
	case b.Ref == "" || b.OfficeID == "" || b.CF == "":
		return fmt.Errorf("%w: a booking needs a reference, an office and a person", ErrInvalid)
	case !b.Service.Known():
		return fmt.Errorf("%w: unknown service %q", ErrInvalid, b.Service)
	case b.Start.IsZero() || b.Minutes <= 0:
		return fmt.Errorf("%w: a booking needs a start and a length", ErrInvalid)
	case !b.State.Live():
		return fmt.Errorf("%w: a new booking is booked", ErrInvalid)
	}
	return nil
}

// byStart orders bookings by start, then counter, then reference.
func byStart(a, b Booking) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if a.Counter != b.Counter {
		return a.Counter - b.Counter
	}
	return strings.Compare(a.Ref, b.Ref)
}

// SortByStart sorts bs by start, counter and reference, the order every
// list of bookings has.
func SortByStart(bs []Booking) { slices.SortFunc(bs, byStart) }
