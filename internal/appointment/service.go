package appointment

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
)

// More sentinel errors of the service: each is a refusal with its own
// reason code (internal/fault/hubfault).
var (
	// ErrNotASlot: the time asked is not a slot of the office's calendar
	// of the service that day (or it has begun).
	ErrNotASlot = errors.New("not a bookable slot")
	// ErrClosed: the office is closed that day (a holiday, a closure).
	ErrClosed = errors.New("the office is closed that day")
	// ErrTooFar: the day is beyond the booking horizon.
	ErrTooFar = errors.New("the day is beyond the booking horizon")
	// ErrNotYours: the booking is not of the person asking.
	ErrNotYours = errors.New("the booking belongs to someone else")
	// ErrNotToday: a check-in of a booking of another day.
	ErrNotToday = errors.New("the booking is not for today")
	// ErrNoPerson: the person is not in the registry (or has died).
	ErrNoPerson = errors.New("no living person of the registry has this codice fiscale")
)

// Horizon is how far ahead a booking may be made: the offices open their
// calendars about three months ahead.
const Horizon = 92 * 24 * time.Hour

// RenewalWindow is how many days before its expiry a CIE may be renewed:
// from the 180th day, the rule every comune applies (e.g. Firenze's
// "rinnovo carta d'identità" page); DL 112/2008 art. 31 has comuni tell
// holders of the expiry between 180 and 90 days before it. The renewal is
// offered from then on.
const RenewalWindow = 180

// Transactor runs functions on a hub transaction of type T: the hub's
// store.Store is one, for T = store.Tx.
type Transactor[T any] interface {
	Update(ctx context.Context, fn func(T) error) error
	View(ctx context.Context, fn func(T) error) error
}

// in is what a service's transaction offers it: the appointments, the
// audit log and the registry of the same transaction.
type in struct {
	appts Tx
	audit audit.Tx
	reg   registry.Reader
	deleg Delegated
}

// Delegated is what an act for someone else needs of the transaction
// (issue 17): the delegations, whose use is recorded under the
// delegation's lock in the act's own transaction, and the enqueuing of
// the delegator's notice. Notify is passed in because internal/reminder,
// which writes the notice, imports this package.
type Delegated struct {
	Delegations delegation.Tx
	Notify      func(Acted) error
}

// Acted is a delegate's act on the delegator's appointment, of which the
// delegator is told (reminder.DelegationActed).
type Acted struct {
	DelegatorCF  string
	DelegationID string
	// ActID is one per act: the reference and what was done to it.
	ActID        string
	DelegateName string
	What         string
	At           time.Time
}

// Service is the appointments as the kiosk API, the console and the
// commands use them: each call one transaction, with its audit entry in
// the same transaction as the change it records.
type Service struct {
	run  func(ctx context.Context, write bool, fn func(in) error) error
	now  func() time.Time
	rand io.Reader
}

// NewService returns the service on s's transactions: appts, aud and reg
// give the appointments', the audit log's and the registry's views of
// one, deleg its delegations (nil: nobody acts for another). now is the
// hub's clock.
func NewService[T any](s Transactor[T], appts func(T) Tx, aud func(T) audit.Tx, reg func(T) registry.Reader, deleg func(T) Delegated, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{
		run: func(ctx context.Context, write bool, fn func(in) error) error {
			f := func(tx T) error {
				t := in{appts: appts(tx), audit: aud(tx), reg: reg(tx)}
				if deleg != nil {
					t.deleg = deleg(tx)
				}
				return fn(t)
			}
			if write {
				return s.Update(ctx, f)
			}
			return s.View(ctx, f)
		},
		now:  now,
		rand: rand.Reader,
	}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Offices returns every office, by id.
func (s *Service) Offices(ctx context.Context) (os []Office, err error) {
	err = s.run(ctx, false, func(t in) error { os, err = t.appts.Offices(); return err })
	return os, err
}

// Office returns the office with id.
func (s *Service) Office(ctx context.Context, id string) (o Office, err error) {
	err = s.run(ctx, false, func(t in) error { o, err = t.appts.Office(id); return err })
	return o, err
}

// PutOffice stores o, new or changed. Bookings already made keep their
// seats: a calendar changed under them is staff's to rearrange.
func (s *Service) PutOffice(ctx context.Context, o *Office) error {
	return s.run(ctx, true, func(t in) error { return t.appts.PutOffice(o) })
}

// Closures returns every closure.
func (s *Service) Closures(ctx context.Context) (cs []Closure, err error) {
	err = s.run(ctx, false, func(t in) error { cs, err = t.appts.Closures(); return err })
	return cs, err
}

// PutClosure stores c; an empty ID is given one.
func (s *Service) PutClosure(ctx context.Context, c *Closure) error {
	if c.ID == "" {
		id, err := s.code(8)
		if err != nil {
			return err
		}
		c.ID = "CH" + id
	}
	return s.run(ctx, true, func(t in) error { return t.appts.PutClosure(c) })
}

// DeleteClosure removes closure id.
func (s *Service) DeleteClosure(ctx context.Context, id string) error {
	return s.run(ctx, true, func(t in) error { return t.appts.DeleteClosure(id) })
}

// Availability is service k's slots at office on day with their free
// counters, or why the office is closed that day.
type Availability struct {
	Office Office
	Day    registry.Date
	Closed string // the holiday or closure, when closed
	Slots  []Slot
}

// Available returns the slots of service k at office on day.
func (s *Service) Available(ctx context.Context, office string, k ServiceKind, day registry.Date) (a Availability, err error) {
	if !k.Known() {
		return a, fmt.Errorf("%w: unknown service %q", ErrInvalid, k)
	}
	err = s.run(ctx, false, func(t in) error {
		a, err = s.available(t, office, k, day)
		return err
	})
	return a, err
}

func (s *Service) available(t in, office string, k ServiceKind, day registry.Date) (Availability, error) {
	a := Availability{Day: day}
	o, err := t.appts.Office(office)
	if err != nil {
		return a, err
	}
	a.Office = o
	cs, err := t.appts.Closures()
	if err != nil {
		return a, err
	}
	if why, closed := ClosedOn(office, day, cs); closed {
		a.Closed = why
		return a, nil
	}
	from := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, Rome)
	live, err := t.appts.Day(office, from, from.AddDate(0, 0, 1))
	if err != nil {
		return a, err
	}
	a.Slots = Slots(&o, k, day, cs, live, s.now())
	return a, nil
}

// Actor is who books, moves, cancels or checks in, and where.
type Actor struct {
	// Audit names the device, operator or member of staff in the audit
	// log.
	Audit   audit.Actor
	Channel Channel
	// Clerk is the shop's named clerk, when there is one.
	Clerk audit.Clerk
	// ForCF, when set, is the person the identified citizen acts for as
	// their delegate (DPR 445/2000 art. 38 c. 3): a delegation in force
	// from ForCF to them must grant the appointments scope, and the
	// booking is ForCF's. Refused otherwise with
	// delegation_out_of_scope or delegation_not_found.
	ForCF string
}

// Request is a booking to make.
type Request struct {
	Office  string
	Service ServiceKind
	Start   time.Time
	// CF is the person the appointment is for; RequesterCF who asked, when
	// someone else (staff booking on the phone leave it empty).
	CF          string
	RequesterCF string
	By          Actor
}

// Book books the slot the request names for its person, on the first
// free counter, with a new reference, and records it in the audit log.
// A slot that just went is ErrSlotTaken.
func (s *Service) Book(ctx context.Context, req Request) (b Booking, err error) {
	ref, err := s.code(8)
	if err != nil {
		return b, err
	}
	err = s.run(ctx, true, func(t in) error {
		now := s.now()
		var g *delegation.Delegation
		forCF := req.CF
		if req.By.ForCF != "" {
			d, err := s.delegated(t, req.CF, req.By.ForCF, now)
			if err != nil {
				return err
			}
			g, forCF = &d, d.DelegatorCF
		}
		p, err := person(t.reg, forCF)
		if err != nil {
			return err
		}
		cal, counters, err := s.slot(t, req.Office, req.Service, req.Start)
		if err != nil {
			return err
		}
		// A reference is 8 characters of 30: a clash is rare, so look
		// before writing rather than fail the transaction.
		for {
			if _, err := t.appts.Get(ref); errors.Is(err, ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
			if ref, err = s.code(8); err != nil {
				return err
			}
		}
		b = Booking{Ref: ref, OfficeID: req.Office, Service: req.Service, Start: req.Start.UTC(), Minutes: cal.Minutes,
			CF: p.CF, Name: strings.TrimSpace(p.GivenNames + " " + p.Surname), Channel: req.By.Channel, By: req.By.Audit.ID,
			State: Booked, Created: now.UTC(), Updated: now.UTC()}
		// A delegate is not made the booking's requester: what they may
		// change of it is what their delegation in force allows, so a
		// revoked delegation leaves them nothing (the delegation's uses
		// and the audit log name them).
		if g == nil && req.RequesterCF != "" && !strings.EqualFold(req.RequesterCF, p.CF) {
			b.RequesterCF = strings.ToUpper(req.RequesterCF)
		}
		if err := t.appts.Book(&b, counters); err != nil {
			return err
		}
		return s.recordAct(t, req.By, req.CF, g, b, "prenotazione appuntamento", "prenotazione")
	})
	return b, err
}

// slot checks that start is a bookable slot of service k at office and
// returns the calendar and its counters, lowest first.
func (s *Service) slot(t in, office string, k ServiceKind, start time.Time) (Calendar, []int, error) {
	if !k.Known() {
		return Calendar{}, nil, fmt.Errorf("%w: unknown service %q", ErrInvalid, k)
	}
	now := s.now()
	day := registry.DateOf(start.In(Rome))
	if start.Sub(now) > Horizon {
		return Calendar{}, nil, fmt.Errorf("%w: %s", ErrTooFar, day)
	}
	a, err := s.available(t, office, k, day)
	if err != nil {
		return Calendar{}, nil, err
	}
	if a.Closed != "" {
		return Calendar{}, nil, fmt.Errorf("%w: %s (%s)", ErrClosed, day, a.Closed)
	}
	cal, ok := a.Office.Calendar(k)
	if !ok {
		return Calendar{}, nil, fmt.Errorf("%w: office %s does not book %s", ErrNotASlot, office, k)
	}
	for _, sl := range a.Slots {
		if sl.Start.Equal(start) {
			counters := slices.Clone(cal.Counters)
			slices.Sort(counters)
			return cal, counters, nil
		}
	}
	return Calendar{}, nil, fmt.Errorf("%w: %s at %s", ErrNotASlot, k, start.In(Rome).Format("2006-01-02 15:04"))
}

// person is the living registry person with cf.
func person(r registry.Reader, cf string) (*registry.Person, error) {
	p, err := r.PersonByCF(strings.ToUpper(strings.TrimSpace(cf)))
	if errors.Is(err, registry.ErrNotFound) || (err == nil && !p.Alive()) {
		return nil, fmt.Errorf("%w: %s", ErrNoPerson, cf)
	}
	return p, err
}

// record appends the audit entry of a booking's change: the person's
// name and appointment were read and written for them.
func (s *Service) record(t in, by Actor, b Booking, what string) error {
	_, err := t.audit.Append(audit.Entry{Time: s.now(), Actor: by.Audit, Subject: b.CF, Channel: auditChannel(by.Channel),
		Purpose: what + ", " + b.Service.Italian(), Data: "appuntamento " + b.Ref, Request: b.Ref, Clerk: by.Clerk})
	return err
}

// auditChannel is c as the audit log names channels.
func auditChannel(c Channel) string {
	if ch := map[Channel]string{Kiosk: "self_service", Shop: "counter", Console: "admin"}[c]; ch != "" {
		return ch
	}
	return "office"
}

// mine checks that cf may change b: the person, or whoever booked it for
// them at a shop. Staff (cf empty, channel Console) may change any.
func mine(b Booking, by Actor, cf string) error {
	if by.Channel == Console {
		return nil
	}
	cf = strings.ToUpper(strings.TrimSpace(cf))
	if cf == "" || (cf != b.CF && cf != b.RequesterCF) {
		return fmt.Errorf("%w: %s", ErrNotYours, b.Ref)
	}
	return nil
}

// allowed checks that cf may change b (mine), or, acting for by.ForCF,
// that a delegation in force grants cf the appointments scope and b is
// the delegator's: that delegation is returned.
func (s *Service) allowed(t in, b Booking, by Actor, cf string) (*delegation.Delegation, error) {
	if by.ForCF == "" {
		return nil, mine(b, by, cf)
	}
	g, err := s.delegated(t, cf, by.ForCF, s.now())
	if err != nil {
		return nil, err
	}
	if !delegation.Same(b.CF, g.DelegatorCF) {
		return nil, fmt.Errorf("%w: %s", ErrNotYours, b.Ref)
	}
	return &g, nil
}

// delegated returns the delegation in force at now from forCF to the
// identified delegateCF that grants the appointments scope. One in force
// that covers other services only refuses with delegation_out_of_scope,
// none with delegation_not_found (both 403, catalogued).
func (s *Service) delegated(t in, delegateCF, forCF string, now time.Time) (delegation.Delegation, error) {
	delegateCF = strings.ToUpper(strings.TrimSpace(delegateCF))
	forCF = strings.ToUpper(strings.TrimSpace(forCF))
	var given []delegation.Delegation
	if t.deleg.Delegations != nil && delegateCF != "" {
		var err error
		if given, err = t.deleg.Delegations.Received(delegateCF); err != nil {
			return delegation.Delegation{}, err
		}
	}
	live := false
	for _, g := range given {
		if !delegation.Same(g.DelegatorCF, forCF) || !delegation.Same(g.DelegateCF, delegateCF) || !g.Live(now) {
			continue
		}
		live = true
		if g.Scope.Appointments {
			return g, nil
		}
	}
	if live {
		return delegation.Delegation{}, fault.New(fault.Forbidden, delegation.ReasonOutOfScope,
			fmt.Sprintf("La delega ricevuta da %s non comprende gli appuntamenti.", forCF))
	}
	return delegation.Delegation{}, fault.New(fault.Forbidden, delegation.ReasonNotFound,
		fmt.Sprintf("Non risulta una delega in vigore di %s alla persona identificata.", forCF))
}

// ActingFor returns forCF when a delegation in force grants delegateCF
// the appointments of forCF (see Actor.ForCF): whose appointments a
// delegate's kiosk lists.
func (s *Service) ActingFor(ctx context.Context, delegateCF, forCF string) (cf string, err error) {
	err = s.run(ctx, false, func(t in) error {
		g, err := s.delegated(t, delegateCF, forCF, s.now())
		cf = g.DelegatorCF
		return err
	})
	return cf, err
}

// Person returns the living registry person with cf.
func (s *Service) Person(ctx context.Context, cf string) (p *registry.Person, err error) {
	err = s.run(ctx, false, func(t in) error { p, err = person(t.reg, cf); return err })
	return p, err
}

// recordAct records b's change: the person's audit entry and, done by
// delegateCF under g, the delegation's use (refused there if revoked
// meanwhile), the delegate's own audit entry and the delegator's notice,
// all in the change's transaction.
func (s *Service) recordAct(t in, by Actor, delegateCF string, g *delegation.Delegation, b Booking, what, verb string) error {
	if g == nil {
		return s.record(t, by, b, what)
	}
	delegateCF = strings.ToUpper(strings.TrimSpace(delegateCF))
	now := s.now()
	if err := s.record(t, by, b, fmt.Sprintf("%s per delega %s di %s a %s (art. 38 DPR 445/2000)", what, g.ID, g.DelegatorCF, delegateCF)); err != nil {
		return err
	}
	if err := t.deleg.Delegations.RecordUse(delegation.Use{DelegationID: g.ID, At: now, Service: verb + " appuntamento " + b.Service.Italian(),
		Ref: b.Ref, Channel: auditChannel(by.Channel), Place: by.Audit.ID}); err != nil {
		return err
	}
	if _, err := t.audit.Append(audit.Entry{Time: now, Actor: by.Audit, Subject: delegateCF, Channel: auditChannel(by.Channel), Clerk: by.Clerk,
		Request: b.Ref, Data: "atto per delega: " + verb + " appuntamento " + b.Ref + " di " + g.DelegatorCF,
		Purpose: fmt.Sprintf("%s per delega %s (art. 38 DPR 445/2000), %s", what, g.ID, b.Service.Italian())}); err != nil {
		return err
	}
	if t.deleg.Notify == nil {
		return nil
	}
	name := delegateCF
	if p, err := person(t.reg, delegateCF); err == nil {
		name = strings.TrimSpace(p.GivenNames + " " + p.Surname)
	}
	at := b.Start.In(Rome).Format("02/01/2006 15:04")
	return t.deleg.Notify(Acted{DelegatorCF: g.DelegatorCF, DelegationID: g.ID, ActID: b.Ref + "-" + verb + "-" + strconv.FormatInt(now.Unix(), 10),
		DelegateName: name, What: fmt.Sprintf("%s dell'appuntamento %s (%s, %s)", verb, FormatRef(b.Ref), b.Service.Italian(), at), At: now})
}

// Move moves booking ref to start at office (the same service), for cf
// (see Cancel), keeping its reference.
func (s *Service) Move(ctx context.Context, ref, cf, office string, start time.Time, by Actor) (b Booking, err error) {
	ref = NormalizeRef(ref)
	err = s.run(ctx, true, func(t in) error {
		old, err := t.appts.Get(ref)
		if err != nil {
			return err
		}
		g, err := s.allowed(t, old, by, cf)
		if err != nil {
			return err
		}
		if old.State != Booked {
			return fmt.Errorf("%w: %s is %s", ErrNotBooked, ref, old.State)
		}
		cal, counters, err := s.slot(t, office, old.Service, start)
		if err != nil {
			return err
		}
		if b, err = t.appts.Move(ref, office, start.UTC(), cal.Minutes, counters, s.now().UTC()); err != nil {
			return err
		}
		return s.recordAct(t, by, cf, g, b, "spostamento appuntamento", "spostamento")
	})
	return b, err
}

// Cancel cancels booking ref for cf: the person, or who booked it for
// them; staff (by.Channel Console) cancel any.
func (s *Service) Cancel(ctx context.Context, ref, cf string, by Actor) (b Booking, err error) {
	ref = NormalizeRef(ref)
	err = s.run(ctx, true, func(t in) error {
		if b, err = t.appts.Get(ref); err != nil {
			return err
		}
		g, err := s.allowed(t, b, by, cf)
		if err != nil {
			return err
		}
		if b.State != Booked {
			return fmt.Errorf("%w: %s is %s", ErrNotBooked, ref, b.State)
		}
		b.State, b.Updated = Cancelled, s.now().UTC()
		if err := t.appts.Put(&b); err != nil {
			return err
		}
		return s.recordAct(t, by, cf, g, b, "annullamento appuntamento", "annullamento")
	})
	return b, err
}

// CheckIn records the arrival of the booking whose confirmation code
// (the QR's text, or the reference typed) was scanned at office: it must
// be the office's, today's and still booked.
func (s *Service) CheckIn(ctx context.Context, code, office string, by Actor) (b Booking, err error) {
	ref, err := ParseCode(code)
	if err != nil {
		return b, err
	}
	err = s.run(ctx, true, func(t in) error {
		if b, err = t.appts.Get(ref); err != nil {
			return err
		}
		now := s.now()
		if office != "" && b.OfficeID != office {
			return fmt.Errorf("%w: %s is booked at office %s", ErrNotYours, ref, b.OfficeID)
		}
		if b.State != Booked {
			return fmt.Errorf("%w: %s is %s", ErrNotBooked, ref, b.State)
		}
		if b.Day() != registry.DateOf(now.In(Rome)) {
			return fmt.Errorf("%w: %s is on %s", ErrNotToday, ref, b.Day())
		}
		b.State, b.CheckedIn, b.Updated = CheckedIn, now.UTC(), now.UTC()
		if err := t.appts.Put(&b); err != nil {
			return err
		}
		return s.record(t, by, b, "accoglienza appuntamento")
	})
	return b, err
}

// Get returns booking ref (the QR's text or the reference).
func (s *Service) Get(ctx context.Context, code string) (b Booking, err error) {
	ref, err := ParseCode(code)
	if err != nil {
		return b, err
	}
	err = s.run(ctx, false, func(t in) error { b, err = t.appts.Get(ref); return err })
	return b, err
}

// Day returns office's live bookings on day, by start and counter: the
// office's list of the day.
func (s *Service) Day(ctx context.Context, office string, day registry.Date) (bs []Booking, err error) {
	from := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, Rome)
	err = s.run(ctx, false, func(t in) error {
		if _, err := t.appts.Office(office); err != nil {
			return err
		}
		bs, err = t.appts.Day(office, from, from.AddDate(0, 0, 1))
		return err
	})
	return bs, err
}

// ByPerson returns every booking of cf, whatever its state, by start: the
// person's appointments (the dossier).
func (s *Service) ByPerson(ctx context.Context, cf string) (bs []Booking, err error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	err = s.run(ctx, false, func(t in) error { bs, err = t.appts.ByPerson(cf); return err })
	return bs, err
}

// Upcoming returns cf's bookings still booked and not yet begun.
func (s *Service) Upcoming(ctx context.Context, cf string) ([]Booking, error) {
	bs, err := s.ByPerson(ctx, cf)
	now := s.now()
	return slices.DeleteFunc(bs, func(b Booking) bool { return b.State != Booked || !b.Start.After(now) }), err
}

// Due returns the bookings still booked whose day (in Rome) is day, every
// office: DueTomorrow's list, for the reminders.
func (s *Service) Due(ctx context.Context, day registry.Date) (bs []Booking, err error) {
	from := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, Rome)
	err = s.run(ctx, false, func(t in) error { bs, err = t.appts.Starting(from, from.AddDate(0, 0, 1)); return err })
	return bs, err
}

// DueTomorrow returns the bookings of tomorrow (Rome), to remind the day
// before.
func (s *Service) DueTomorrow(ctx context.Context) ([]Booking, error) {
	today := s.now().In(Rome)
	return s.Due(ctx, registry.DateOf(time.Date(today.Year(), today.Month(), today.Day()+1, 12, 0, 0, 0, Rome)))
}

// RenewalDue returns p's CIE when it expires within RenewalWindow days of
// today or has expired, and p holds no other valid CIE beyond the window:
// the kiosk then offers the renewal first.
func RenewalDue(p *registry.Person, today registry.Date) (registry.Document, bool) {
	limit := registry.DateOf(today.Time().AddDate(0, 0, RenewalWindow))
	var latest *registry.Document
	for i := range p.Documents {
		d := &p.Documents[i]
		if d.Kind != registry.CIE || d.Revoked {
			continue
		}
		if latest == nil || latest.Expires.Before(d.Expires) {
			latest = d
		}
	}
	if latest == nil || limit.Before(latest.Expires) {
		return registry.Document{}, false
	}
	return *latest, true
}

// Offer is what the kiosk offers a person to book, the renewal of a CIE
// about to expire first.
type Offer struct {
	Services []ServiceKind
	// Renewal is the CIE whose renewal is offered, when one is.
	Renewal *registry.Document
}

// OfferFor returns the services to offer cf: every service, the CIE
// renewal first when RenewalDue (and then not the first issue), and the
// renewal left out when the person has no CIE to renew.
func (s *Service) OfferFor(ctx context.Context, cf string) (o Offer, err error) {
	err = s.run(ctx, false, func(t in) error {
		p, err := person(t.reg, cf)
		if err != nil {
			return err
		}
		today := registry.DateOf(s.now().In(Rome))
		if doc, due := RenewalDue(p, today); due {
			o.Renewal = &doc
			o.Services = []ServiceKind{CIERenewal, Residence, Other}
			return nil
		}
		hasCIE := slices.ContainsFunc(p.Documents, func(d registry.Document) bool { return d.Kind == registry.CIE && !d.Revoked })
		if hasCIE {
			o.Services = []ServiceKind{CIERenewal, Residence, Other}
		} else {
			o.Services = []ServiceKind{CIEIssue, Residence, Other}
		}
		return nil
	})
	return o, err
}

// refAlphabet is Crockford's base 32 without the letters read as digits
// (I, L, O) and U: a reference read aloud or typed is not mistaken.
const refAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (s *Service) code(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(s.rand, buf); err != nil {
		return "", fmt.Errorf("cannot draw a booking reference: %w", err)
	}
	for i := range buf {
		buf[i] = refAlphabet[buf[i]%32]
	}
	return string(buf), nil
}

// QRPrefix starts the text of a confirmation's QR code, so that the
// office's scanner tells it from a certificate's seal.
const QRPrefix = "SPORTELLO-APPUNTAMENTO:"

// QRText is the text of the QR code printed on b's confirmation.
func QRText(ref string) string { return QRPrefix + ref }

// FormatRef is ref as printed: two groups of four.
func FormatRef(ref string) string {
	if len(ref) == 8 {
		return ref[:4] + "-" + ref[4:]
	}
	return ref
}

// NormalizeRef is a reference as typed (lower case, a dash, spaces) as
// stored.
func NormalizeRef(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(s)
}

// ParseCode reads a scanned QR's text or a typed reference.
func ParseCode(code string) (string, error) {
	c := strings.TrimSpace(code)
	if len(c) >= len(QRPrefix) && strings.EqualFold(c[:len(QRPrefix)], QRPrefix) {
		c = c[len(QRPrefix):]
	}
	ref := NormalizeRef(c)
	if len(ref) != 8 || strings.Trim(ref, refAlphabet) != "" {
		return "", fmt.Errorf("%w: %q is not a booking reference or its QR code", ErrInvalid, code)
	}
	return ref, nil
}
