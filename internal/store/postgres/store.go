package postgres

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// Store is the hub's storage in PostgreSQL: a store.Store whose
// transactions are the database's, so several hubs on one database share
// every domain (issue 16).
type Store struct {
	db     *DB
	owns   bool
	closed atomic.Bool
	// wake is rung once a transaction of this Store that enqueued a
	// notice commits; other hubs' senders find it when they next look.
	wake   chan struct{}
	nonces *nonces
	limits *limitsStore
	conn   string // the address OpenStore was given, for tests opening a second Store
	// batches is Batch's queue (batch.go).
	batches batchGroup
}

func newStore(db *DB, owns bool) *Store {
	return &Store{db: db, owns: owns, wake: make(chan struct{}, 1), nonces: &nonces{db: db}, limits: &limitsStore{db: db}}
}

var _ store.Store = (*Store)(nil)

// OpenStore opens the database at conn, bringing its schema up to date.
func OpenStore(ctx context.Context, conn string) (*Store, error) {
	return OpenStoreWith(ctx, conn, Options{})
}

// OpenStoreWith is OpenStore with opts (OpenWith).
func OpenStoreWith(ctx context.Context, conn string, opts Options) (*Store, error) {
	db, err := OpenWith(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	s := newStore(db, true)
	s.conn = conn
	return s, nil
}

// Store returns the hub's storage on db; closing it leaves db open.
func (db *DB) Store() *Store { return newStore(db, false) }

// NoticeWake fires after a transaction of s that enqueued a notice
// commits (store.Waker).
func (s *Store) NoticeWake() <-chan struct{} { return s.wake }

func (s *Store) ringNotices() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Nonces is the used nonces in the database, shared by every hub on it.
func (s *Store) Nonces() httpsig.NonceStore { return s.nonces }

// Limits is the limits' counts and alerts in the database, shared by
// every hub on it.
func (s *Store) Limits() limits.Store { return s.limits }

// Backend is "postgres".
func (s *Store) Backend() string { return "postgres" }

// Close ends the store's use of the database.
func (s *Store) Close() error {
	if !s.closed.Swap(true) && s.owns {
		s.db.Close()
	}
	return nil
}

var errStoreClosed = fmt.Errorf("the hub's database is closed: %w", ErrClosed)

// Update runs fn in one READ COMMITTED transaction. Domains that need
// more (the registry's writers, the protocol register's numbering) take
// their own locks inside it when first used.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update not started: %w", err)
	}
	if s.closed.Load() {
		return errStoreClosed
	}
	ptx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("cannot write to the database: %w: %w", ErrUnavailable, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	t := &tx{s: s, ctx: ctx, ptx: ptx, writable: true}
	defer func() {
		if err != nil {
			t.forget()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("the change was not committed: %w", err)
	}
	for _, f := range t.committed {
		f()
	}
	return nil
}

// View runs fn on one REPEATABLE READ, read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read not started: %w", err)
	}
	if s.closed.Load() {
		return errStoreClosed
	}
	ptx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("cannot read the database: %w: %w", ErrUnavailable, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // a read-only transaction has nothing to keep
	return fn(&tx{s: s, ctx: ctx, ptx: ptx})
}

// tx is one database transaction; each domain's view is made on first
// use.
type tx struct {
	s        *Store
	ctx      context.Context
	ptx      pgx.Tx
	writable bool

	reg *writer
	// committed run once the transaction has committed.
	committed []func()
	aud       *auditLog
}

// afterCommit runs f once t commits, not at all if it does not.
func (t *tx) afterCommit(f func()) { t.committed = append(t.committed, f) }

func (t *tx) flush() error {
	if t.reg != nil {
		return t.reg.finish()
	}
	return nil
}

func (t *tx) forget() {
	if t.reg != nil {
		t.reg.forgetAssigned()
	}
}

// Registry returns the registry's view. Its writer takes the registry's
// advisory lock on its first change, so a transaction that only reads
// the registry (an issuance) does not queue behind registry writers.
func (t *tx) Registry() registry.Writer {
	if !t.writable {
		return store.ReadOnlyRegistry(&reader{ctx: t.ctx, tx: t.ptx})
	}
	if t.reg == nil {
		t.reg = &writer{reader: reader{ctx: t.ctx, tx: t.ptx}, tx: t.ptx, batch: &pgx.Batch{}, lazyLock: true}
		w := t.reg
		w.sync = func() error { return w.send("", nil) }
	}
	return t.reg
}

// Audit returns the audit log's view. Its first Append locks the chain's
// head until the transaction ends.
func (t *tx) Audit() audit.Tx {
	if t.aud == nil {
		t.aud = &auditLog{ctx: t.ctx, tx: t.ptx, writable: t.writable}
	}
	if !t.writable {
		return store.ReadOnlyAudit(t.aud)
	}
	return t.aud
}

// Certificates is the issued certificates' view (certificates.go).
func (t *tx) Certificates() certificate.Tx {
	return &certs{ctx: t.ctx, tx: t.ptx, writable: t.writable}
}
