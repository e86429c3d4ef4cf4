// Package bolt is the hub's storage in one bbolt file, for a city that
// runs one hub on one machine: it implements store.Store by handing out,
// inside one bbolt transaction, each domain's view implemented by the
// packages in this folder (registrybolt, certbolt, protobolt, auditbolt, …).
// Those packages, and this one, are the only ones of the hub that import
// bbolt.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

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
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/adminbolt"
	"github.com/sportello/sportello/internal/store/bolt/apptbolt"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
	"github.com/sportello/sportello/internal/store/bolt/certbolt"
	"github.com/sportello/sportello/internal/store/bolt/citybolt"
	"github.com/sportello/sportello/internal/store/bolt/delegationbolt"
	"github.com/sportello/sportello/internal/store/bolt/limitsbolt"
	"github.com/sportello/sportello/internal/store/bolt/noncebolt"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
	"github.com/sportello/sportello/internal/store/bolt/opbolt"
	"github.com/sportello/sportello/internal/store/bolt/paybolt"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/bolt/reminderbolt"
	"github.com/sportello/sportello/internal/store/bolt/requestbolt"
)

// Store is the hub's bbolt file seen as a store.Store.
type Store struct {
	reg *registrybolt.Store
	db  *bbolt.DB
	// wake is rung once a transaction that enqueued a notice commits.
	wake    chan struct{}
	numbers *protobolt.Numbering

	// The nonces and the limits' counts are kept in memory in front of
	// the file (one process writes it: bbolt locks it), made on first use.
	noncesOnce sync.Once
	nonces     httpsig.NonceStore
	limitsOnce sync.Once
	limits     limits.Store
}

var _ store.Store = (*Store)(nil)

// New wraps the open registry file reg, whose handle every domain shares.
// Closing the Store closes reg.
func New(reg *registrybolt.Store) *Store {
	return &Store{reg: reg, db: reg.DB(), wake: make(chan struct{}, 1), numbers: protobolt.NewNumbering(reg.DB(), auditAnnulments)}
}

// auditAnnulments records in the audit log, in the transaction that writes
// them, the annulments the numbering makes on its own (the recovery scan,
// numbers abandoned below a registered one): one commit for both, so no
// crash leaves an annulment the log does not show.
func auditAnnulments(btx *bbolt.Tx, annulled []protocol.Entry) error {
	if err := auditbolt.Init(btx); err != nil {
		return err
	}
	for _, e := range annulled {
		if _, err := auditbolt.Append(btx, audit.Annulment(e)); err != nil {
			return err
		}
	}
	return nil
}

// Open opens (creating it if need be) the hub's file at path.
func Open(path string, opts registrybolt.Options) (*Store, error) {
	reg, err := registrybolt.Open(path, opts)
	if err != nil {
		return nil, err
	}
	return New(reg), nil
}

// Registry returns the registry store on the same file.
func (s *Store) Registry() *registrybolt.Store { return s.reg }

// NoticeWake fires after a transaction that enqueued a notice commits
// (store.Waker).
func (s *Store) NoticeWake() <-chan struct{} { return s.wake }

func (s *Store) ringNotices() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Numbering is the protocol register's numbering on this file: its
// allocator, shared with every user of the same open file in this process.
func (s *Store) Numbering() protocol.Numbering { return s.numbers }

// Backend is "bolt".
func (s *Store) Backend() string { return "bolt" }

// Nonces is the used nonces of the file (noncebolt), loaded into memory
// on first use. Should the file refuse (a read-only file never opened
// writable), every Use fails with the reason, so requests are refused
// rather than let through unchecked.
func (s *Store) Nonces() httpsig.NonceStore {
	s.noncesOnce.Do(func() {
		n, err := noncebolt.Open(s.db, 0)
		if err != nil {
			s.nonces = failingNonces{err}
			return
		}
		s.nonces = n
	})
	return s.nonces
}

type failingNonces struct{ err error }

func (f failingNonces) Use(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return false, fmt.Errorf("the hub's nonces cannot be read: %w", f.err)
}

// Limits is the limits' counts and alerts of the file (limitsbolt): the
// day's counts are written behind (limitsbolt.Store.TakeDaily says why),
// so the hub flushes them before closing.
func (s *Store) Limits() limits.Store {
	s.limitsOnce.Do(func() {
		l, err := limitsbolt.New(s.db)
		if err != nil {
			s.limits = failingLimits{err}
			return
		}
		s.limits = l
	})
	return s.limits
}

type failingLimits struct{ err error }

func (f failingLimits) fail() error { return fmt.Errorf("the hub's limits cannot be read: %w", f.err) }
func (f failingLimits) TakeDaily(context.Context, string, []limits.Cap) (int, []int, error) {
	return 0, nil, f.fail()
}
func (f failingLimits) Flush(context.Context) error { return f.fail() }
func (f failingLimits) Raise(_ context.Context, a limits.Alert) (limits.Alert, bool, error) {
	return a, false, f.fail()
}
func (f failingLimits) Alerts(context.Context) ([]limits.Alert, error) { return nil, f.fail() }
func (f failingLimits) Close(context.Context, string, limits.Review) ([]limits.Alert, error) {
	return nil, f.fail()
}

// Close writes the limits' counts behind (when they were used) and closes
// the file.
func (s *Store) Close() error {
	s.limitsOnce.Do(func() {}) // no limits made from here on
	var flushErr error
	if s.limits != nil {
		flushErr = s.limits.Flush(context.Background())
	}
	return errors.Join(flushErr, s.reg.Close())
}

// Update runs fn in one bbolt write transaction.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update not started: %w", err)
	}
	var t *tx
	err := s.db.Update(func(btx *bbolt.Tx) error {
		t = &tx{s: s, btx: btx, writable: true}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush()
	})
	if err != nil && t != nil {
		t.forget()
	}
	return closedError(err)
}

// Batch runs fn through bbolt's group commit (DB.Batch): concurrent calls
// share one fsync, and a call whose batch failed runs again alone.
//
// bbolt runs fn again when another call of its batch fails (the batch is
// rolled back and retried without it), and reports the batch's commit
// error to fn's caller even though fn succeeded: each time, what fn's run
// assigned in memory (the registry's IDs) is forgotten, as Update does,
// so a record is not written under an ID its rolled-back run was given.
func (s *Store) Batch(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update not started: %w", err)
	}
	var last *tx
	err := s.db.Batch(func(btx *bbolt.Tx) error {
		if last != nil {
			last.forget() // the transaction of fn's previous run was rolled back
		}
		t := &tx{s: s, btx: btx, writable: true}
		last = t
		if err := fn(t); err != nil {
			return err
		}
		return t.flush()
	})
	if err != nil && last != nil {
		last.forget()
	}
	return closedError(err)
}

// View runs fn on a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read not started: %w", err)
	}
	return closedError(s.db.View(func(btx *bbolt.Tx) error {
		return fn(&tx{s: s, btx: btx})
	}))
}

func closedError(err error) error {
	if errors.Is(err, bberrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("the hub's data file is closed: %w", err)
	}
	if errors.Is(err, bberrors.ErrTxNotWritable) {
		return fmt.Errorf("%w: %w", store.ErrReadOnly, err)
	}
	return err
}

// tx is one bbolt transaction; each domain's view is made on first use.
type tx struct {
	s        *Store
	btx      *bbolt.Tx
	writable bool

	reg      registry.Writer
	regFlush func() error
	regUndo  func()

	proto protocol.Tx
}

// Bolt returns the bbolt transaction under t, for the bbolt packages of
// this folder only; nothing above the stores may call it.
func (t *tx) Bolt() *bbolt.Tx { return t.btx }

func (t *tx) flush() error {
	if t.regFlush != nil {
		return t.regFlush()
	}
	return nil
}

func (t *tx) forget() {
	if t.regUndo != nil {
		t.regUndo()
	}
}

func (t *tx) Registry() registry.Writer {
	if t.reg == nil {
		if t.writable {
			t.reg, t.regFlush, t.regUndo = t.s.reg.WriterIn(t.btx)
		} else {
			t.reg = store.ReadOnlyRegistry(registrybolt.ReaderOf(t.btx))
		}
	}
	return t.reg
}

// Payments is paybolt's view of t.
func (t *tx) Payments() payment.Tx { return paybolt.In(t.btx) }

// City is citybolt's view of t.
func (t *tx) City() city.Tx { return citybolt.In(t.btx) }

// Staff is adminbolt's view of t.
func (t *tx) Staff() staff.Tx { return adminbolt.In(t.btx) }

// Notices is notifybolt's view of t.
func (t *tx) Notices() notify.Tx { return notifybolt.In(t.btx, t.s.ringNotices) }

func (t *tx) Protocol() protocol.Tx {
	if t.proto == nil {
		t.proto = protobolt.In(t.btx)
		if !t.writable {
			t.proto = readOnlyProtocol{t.proto}
		}
	}
	return t.proto
}

// readOnlyProtocol is the protocol register in a View.
type readOnlyProtocol struct{ protocol.Tx }

func (readOnlyProtocol) Write(protocol.Entry) error { return store.ErrReadOnly }

// Audit returns the audit log's view.
func (t *tx) Audit() audit.Tx {
	if t.writable {
		return auditbolt.In(t.btx)
	}
	return store.ReadOnlyAudit(auditbolt.In(t.btx))
}

// Certificates is the issued certificates' view (certbolt).
func (t *tx) Certificates() certificate.Tx { return certbolt.In(t.btx) }

// Delegations is delegationbolt's view of t.
func (t *tx) Delegations() delegation.Tx { return delegationbolt.In(t.btx) }

// Reminders is reminderbolt's view of t.
func (t *tx) Reminders() reminder.Tx { return reminderbolt.In(t.btx) }

// Operators is the operators' view of the transaction.
func (t *tx) Operators() operators.Tx { return opbolt.In(t.btx) }

// Requests is requestbolt's view of t.
func (t *tx) Requests() request.Tx { return requestbolt.In(t.btx) }

// Appointments is apptbolt's view of t.
func (t *tx) Appointments() appointment.Tx { return apptbolt.In(t.btx) }
