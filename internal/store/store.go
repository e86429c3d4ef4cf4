// Package store is the hub's storage seen from above: one transaction
// that spans every domain, on whichever backend the city runs (bbolt for
// one machine, PostgreSQL for several hubs on one database).
//
// Each domain package owns the interface of its view of a transaction
// (registry.Writer, certificate.Tx, protocol.Tx, audit.Tx, …), its
// sentinel errors and a conformance suite every backend passes; this
// package only gathers those views, so an issuance commits its record, its
// protocol entry and its audit entries at once on any backend. The
// backends live below it, side by side: internal/store/bolt and
// internal/store/postgres. Nothing above the stores imports bbolt or pgx.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
)

// Store is the hub's storage.
type Store interface {
	// Update runs fn in one read-write transaction: everything fn changes
	// through tx's views is committed together, or nothing if fn (or the
	// commit) fails. fn must not keep tx or the views after it returns.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn on a consistent read-only snapshot; a change through
	// its views fails with ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
	// Batch is Update for many small concurrent writers (an issuance per
	// request): the backend may commit several calls in one transaction,
	// so fn may run more than once and must only change what it is given
	// through tx. Backends without group commit run Update.
	Batch(ctx context.Context, fn func(Tx) error) error
	// Backend names the backend for logs and metrics: "bolt" or
	// "postgres".
	Backend() string
	Close() error
	// Numbering hands out the protocol register's numbers outside any
	// transaction (reserve, registered, abandon, close a day, recover);
	// on a database several hubs share, from the database, so the hubs
	// number one sequence.
	Numbering() protocol.Numbering

	// Nonces remembers the signed API's used nonces (httpsig.Verifier's
	// NonceStore) for every hub on the same data: a request accepted by
	// one is a replay to all (issue 16). It lives as long as the Store.
	Nonces() httpsig.NonceStore
	// Limits keeps the request limits' daily counts and alerts
	// (limits.Guard's Store), shared by every hub on the same data; the
	// hub flushes it before it closes the Store.
	Limits() limits.Store
}

// Tx is one transaction; each method hands out one domain's view of it.
// Domains are added here as their interfaces are (issue 16: certificates,
// protocol register, audit, operators and devices, staff and sessions,
// city settings, nonces, payments, notices, limits).
type Tx interface {
	// Registry is the register of residents. In a View it is read-only:
	// its Put and Delete methods fail with ErrReadOnly.
	Registry() registry.Writer
	// Payments are the payments self-service requests are paid with; the
	// desk marks one used in the transaction that issues its certificate.
	Payments() payment.Tx
	// Notices is the queue of notifications to certificates' subjects;
	// the desk enqueues one in the transaction that issues its
	// certificate.
	Notices() notify.Tx
	// Protocol is the protocol register: a document's entry is written
	// here, in the transaction that stores the document. In a View its
	// Write fails with ErrReadOnly.
	Protocol() protocol.Tx
	// Audit is the audit log of reads of persons' data. In a View its
	// Append and Prune fail with ErrReadOnly.
	Audit() audit.Tx
	// Certificates is the issued certificates' records (their PDFs are
	// kept outside the transaction, in a blob.Store).
	Certificates() certificate.Tx
	// Staff is the console's records: staff accounts, sessions, failed
	// log-in tallies, the daily counters of refusals.
	Staff() staff.Tx
	// City is the city's settings: what staff changed of the defaults.
	City() city.Tx
	// Operators is operators, their devices and enrolment codes, clerks
	// and their sessions.
	Operators() operators.Tx
	// Delegations is the citizens' delegations and the acts done under
	// them (issue 17); a certificate obtained by a delegate records its
	// use in the transaction that issues it.
	Delegations() delegation.Tx
	// Reminders is the citizens' choices of channel per kind of reminder;
	// reminder.Enqueue reads them in the transaction that queues a
	// reminder (Tx is a reminder.Txs).
	Reminders() reminder.Tx
	// Requests is the demographic requests filed with the registry office
	// (issue 17): a request commits with its protocol entry and audit
	// entries, and its acceptance with the registry's change.
	Requests() request.Tx
	// Appointments is the registry offices, their calendars and closures,
	// and the bookings (issue 17).
	Appointments() appointment.Tx
}

var _ reminder.Txs = Tx(nil)

// ErrReadOnly is a change attempted in a View.
var ErrReadOnly = errors.New("read-only transaction")

// Domain adapts a Store to one domain's view, for a domain's conformance
// suite and for code that needs only that domain: Domain(s, Tx.Audit).
func Domain[T any](s Store, view func(Tx) T) Runner[T] {
	return runner[T]{s: s, view: view}
}

// Runner runs functions on one domain's view of a Store's transactions.
type Runner[T any] interface {
	Update(ctx context.Context, fn func(T) error) error
	View(ctx context.Context, fn func(T) error) error
}

type runner[T any] struct {
	s    Store
	view func(Tx) T
}

func (r runner[T]) Update(ctx context.Context, fn func(T) error) error {
	return r.s.Update(ctx, func(tx Tx) error { return fn(r.view(tx)) })
}

// Batch is Store.Batch on the domain's view; code that would share
// commits asks for it by type assertion.
func (r runner[T]) Batch(ctx context.Context, fn func(T) error) error {
	return r.s.Batch(ctx, func(tx Tx) error { return fn(r.view(tx)) })
}

func (r runner[T]) View(ctx context.Context, fn func(T) error) error {
	return r.s.View(ctx, func(tx Tx) error { return fn(r.view(tx)) })
}

// RegistryOf is s seen as a registry.Store, for code that needs the
// register of residents alone (seeding, look-ups, registry/storetest).
func RegistryOf(s Store) registry.Store { return registryStore{s} }

type registryStore struct{ s Store }

func (r registryStore) View(ctx context.Context, fn func(registry.Reader) error) error {
	return r.s.View(ctx, func(tx Tx) error { return fn(tx.Registry()) })
}

// Update takes the registry's writer lock before fn reads anything, where
// the store locks lazily (PostgreSQL: a hub transaction's writer locks at
// its first change, so issuances that only read do not queue): fn's
// read-modify-write is then not lost to another hub's.
func (r registryStore) Update(ctx context.Context, fn func(registry.Writer) error) error {
	return r.s.Update(ctx, func(tx Tx) error {
		w := tx.Registry()
		if l, ok := w.(interface{ LockForUpdate() error }); ok {
			if err := l.LockForUpdate(); err != nil {
				return err
			}
		}
		return fn(w)
	})
}

func (r registryStore) Close() error { return r.s.Close() }

// PaymentsOf is s seen as a payment.Store, each call one transaction, for
// the payment service.
func PaymentsOf(s Store) payment.Store { return payment.Over(Domain(s, Tx.Payments)) }

// NoticesOf is s seen as the notification queue the sender works on, each
// call one transaction.
func NoticesOf(s Store) notify.Store { return notify.Over(Domain(s, Tx.Notices)) }

// Waker is a Store that says when a transaction that enqueued a notice
// has committed, so the sender need not poll for it; on a database
// shared by several hubs it hears only its own hub's commits.
type Waker interface {
	NoticeWake() <-chan struct{}
}

// CityOf is the city's settings kept in s, with defaults for the fields
// staff never set; a new fee cap is checked against the operators'
// agreements in the transaction that sets it.
func CityOf(s Store, now func() time.Time, defaults city.Config) *city.Settings {
	return city.NewSettings[Tx](s, Tx.City, Tx.Operators, now, defaults)
}

// ReadOnlyRegistry is the registry's view in a View: r's reads, and every
// change refused with ErrReadOnly (each backend hands it out).
func ReadOnlyRegistry(r registry.Reader) registry.Writer { return readOnlyRegistry{r} }

type readOnlyRegistry struct{ registry.Reader }

func (readOnlyRegistry) PutPerson(*registry.Person) error { return ErrReadOnly }
func (readOnlyRegistry) PutFamily(*registry.Family) error { return ErrReadOnly }
func (readOnlyRegistry) PutEvent(*registry.Event) error   { return ErrReadOnly }
func (readOnlyRegistry) PutPlaces([]places.Place) error   { return ErrReadOnly }

// AppointmentsOf is the appointments' service on s: each call one
// transaction, its audit entry in it, the person read from the registry
// in it, and a delegate's act recorded under the delegation and notified
// to the delegator in it.
func AppointmentsOf(s Store, now func() time.Time) *appointment.Service {
	return appointment.NewService[Tx](s, Tx.Appointments, Tx.Audit, func(tx Tx) registry.Reader { return tx.Registry() }, appointmentDelegations, now)
}

func appointmentDelegations(tx Tx) appointment.Delegated {
	return appointment.Delegated{Delegations: tx.Delegations(), Notify: func(a appointment.Acted) error {
		_, err := reminder.Enqueue(tx, reminder.DelegationActed{DelegatorCF: a.DelegatorCF, DelegationID: a.DelegationID, ActID: a.ActID,
			DelegateName: a.DelegateName, What: a.What, At: a.At}.Reminder(), a.At)
		return err
	}}
}
