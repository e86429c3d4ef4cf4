// Package citybolt keeps the city's settings in the hub's bbolt file, in
// the bucket city_config under the key "config" (JSON city.Config).
//
// Settings live in the same file as the operators, so a new fee cap is
// checked against the agreements in the very transaction that stores it,
// and an agreement against the cap in the transaction that stores it
// (opbolt's PolicyIn): neither can slip past the other.
package citybolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/store/bolt/opbolt"
)

var (
	bucketCity = []byte("city_config")
	keyConfig  = []byte("config")
)

// Init creates the bucket.
func Init(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketCity); err != nil {
		return fmt.Errorf("cannot create the city's bucket %q: %w", bucketCity, err)
	}
	return nil
}

// Get returns the settings as stored; a file without any gives the zero
// Config (every field unset).
func Get(tx *bbolt.Tx) (city.Config, error) {
	var c city.Config
	b := tx.Bucket(bucketCity)
	if b == nil {
		return c, nil
	}
	v := b.Get(keyConfig)
	if v == nil {
		return c, nil
	}
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("the stored city settings are damaged: %w", err)
	}
	return c, nil
}

// Put stores c.
func Put(tx *bbolt.Tx, c city.Config) error {
	if !tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := tx.CreateBucketIfNotExists(bucketCity)
	if err != nil {
		return fmt.Errorf("cannot create the city's bucket %q: %w", bucketCity, err)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.Put(keyConfig, v)
}

// In is the settings' view of btx (city.Tx). A bbolt write transaction
// holds the file's one writer lock, so Get needs no lock of its own.
func In(btx *bbolt.Tx) city.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

func (t txn) Get() (city.Config, error) { return Get(t.tx) }
func (t txn) Put(c city.Config) error   { return Put(t.tx, c) }

// Store reads and changes the settings. Defaults are what unset fields
// stand for: the hub's flags and Milan's programme.
type Store struct {
	db       *bbolt.DB
	now      func() time.Time
	Defaults city.Config
}

// New returns the store on db, creating the bucket when db is writable.
func New(db *bbolt.DB, now func() time.Time, defaults city.Config) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if !db.IsReadOnly() {
		if err := db.Update(Init); err != nil {
			return nil, err
		}
	}
	return &Store{db: db, now: now, Defaults: defaults}, nil
}

// In returns the effective settings as of transaction tx.
func (s *Store) In(tx *bbolt.Tx) (city.Config, error) {
	c, err := Get(tx)
	return c.Effective(s.Defaults), err
}

// PolicyIn is the operators' policy as of tx, for opbolt.Store.PolicyIn.
func (s *Store) PolicyIn(tx *bbolt.Tx) (operators.Policy, error) {
	c, err := s.In(tx)
	return c.Policy(), err
}

// Current returns the effective settings.
func (s *Store) Current() (c city.Config, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { c, err = s.In(tx); return err })
	return c, err
}

// Stored returns the settings as stored, to tell set fields from defaults.
func (s *Store) Stored() (c city.Config, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { c, err = Get(tx); return err })
	return c, err
}

// Set applies edit e by staff member by, checking a new fee cap against
// every operator's agreement in the same transaction, and returns the
// effective settings after it.
func (s *Store) Set(e city.Edit, by string) (c city.Config, err error) {
	at := s.now()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		stored, err := Get(tx)
		if err != nil {
			return err
		}
		var ops []*operators.Operator
		if e.FeeCapCents != nil {
			// A file that never held operators has no agreements to break.
			if ops, err = opbolt.Operators(tx); err != nil && !errors.Is(err, opbolt.ErrNotInitialised) {
				return err
			}
		}
		if err := stored.Apply(e, s.Defaults, ops, at, by); err != nil {
			return err
		}
		c = stored.Effective(s.Defaults)
		return Put(tx, stored)
	})
	return c, err
}
