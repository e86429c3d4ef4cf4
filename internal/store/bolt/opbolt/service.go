package opbolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/operators"
)

// Store is the operators' service (operators.Service) on a bbolt file
// opened apart from the hub's store, for the bbolt packages' own tests;
// the hub makes its service on its store.Store.
type Store struct {
	*operators.Service
	db *bbolt.DB
	// PolicyIn, when set, reads the city's policy inside a transaction.
	PolicyIn func(*bbolt.Tx) (operators.Policy, error)
}

// New opens the operators' service on db, creating its buckets if needed
// (db must be writable then).
func New(db *bbolt.DB, now func() time.Time, p operators.Policy) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(Init); err != nil {
			return nil, err
		}
	}
	s := &Store{db: db}
	s.Service = operators.NewService(runner{db}, In, func(tx *bbolt.Tx) (operators.Policy, error) {
		if s.PolicyIn == nil {
			return s.Service.Policy, nil
		}
		return s.PolicyIn(tx)
	}, now, p)
	return s, nil
}

// DB is the underlying file.
func (s *Store) DB() *bbolt.DB { return s.db }

// runner runs functions in transactions of one bbolt file.
type runner struct{ db *bbolt.DB }

func (r runner) Update(_ context.Context, fn func(*bbolt.Tx) error) error { return r.db.Update(fn) }
func (r runner) View(_ context.Context, fn func(*bbolt.Tx) error) error   { return r.db.View(fn) }
