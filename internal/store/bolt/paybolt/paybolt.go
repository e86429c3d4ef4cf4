// Package paybolt keeps payments in the hub's bbolt file, beside the
// certificates, so that the desk marks a payment used in the very
// transaction that issues its certificate (UseIn).
//
// Layout (keys are byte strings; values JSON):
//
//	pay_payments  payment id → payment.Payment
//	pay_keys      request key → payment id (the latest payment of the key)
//	pay_codes     operator id ‖ 0x00 ‖ till code → payment id
//	pay_byop      operator id ‖ 0x00 ‖ created (8 bytes, Unix ns, big endian) ‖ payment id → ∅
package paybolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/payment"
)

var (
	bucketPayments = []byte("pay_payments")
	bucketKeys     = []byte("pay_keys")
	bucketCodes    = []byte("pay_codes")
	bucketByOp     = []byte("pay_byop")
	allBuckets     = [][]byte{bucketPayments, bucketKeys, bucketCodes, bucketByOp}
)

// Store is payment.Store on a bbolt file.
type Store struct{ db *bbolt.DB }

var _ payment.Store = (*Store)(nil)

// New opens the payments of db, creating their buckets.
func New(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("cannot create the payments' bucket %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

func codeKey(op, code string) []byte { return append(append([]byte(op), 0), code...) }

func opKey(op string, created time.Time, id string) []byte {
	k := append([]byte(op), 0)
	k = binary.BigEndian.AppendUint64(k, uint64(created.UnixNano()))
	return append(k, id...)
}

func get(tx *bbolt.Tx, id string) (payment.Payment, error) {
	var p payment.Payment
	v := tx.Bucket(bucketPayments).Get([]byte(id))
	if v == nil {
		return p, fmt.Errorf("%w: %q", payment.ErrNotFound, id)
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return p, fmt.Errorf("the record of payment %s is damaged: %w", id, err)
	}
	return p, nil
}

func put(tx *bbolt.Tx, p *payment.Payment) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketPayments).Put([]byte(p.ID), v)
}

// Create implements payment.Store.
func (s *Store) Create(p *payment.Payment) error {
	if p.ID == "" || p.RequestKey == "" || p.OperatorID == "" {
		return errors.New("a payment needs an id, a request key and an operator")
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketPayments).Get([]byte(p.ID)) != nil {
			return fmt.Errorf("payment id %s is taken", p.ID)
		}
		if id := tx.Bucket(bucketKeys).Get([]byte(p.RequestKey)); id != nil {
			prev, err := get(tx, string(id))
			if err != nil {
				return err
			}
			prev.Due(p.Created)
			if prev.Live() {
				return fmt.Errorf("%w: payment %s", payment.ErrKeyTaken, prev.ID)
			}
		}
		if p.TillCode != "" {
			if id := tx.Bucket(bucketCodes).Get(codeKey(p.OperatorID, p.TillCode)); id != nil {
				prev, err := get(tx, string(id))
				if err != nil {
					return err
				}
				if prev.State == payment.Pending && p.Created.Before(prev.Expires) {
					return fmt.Errorf("%w: %s", payment.ErrCodeTaken, p.TillCode)
				}
			}
			if err := tx.Bucket(bucketCodes).Put(codeKey(p.OperatorID, p.TillCode), []byte(p.ID)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketKeys).Put([]byte(p.RequestKey), []byte(p.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByOp).Put(opKey(p.OperatorID, p.Created, p.ID), nil); err != nil {
			return err
		}
		return put(tx, p)
	})
}

// Get implements payment.Store.
func (s *Store) Get(id string) (p payment.Payment, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { p, err = get(tx, id); return err })
	return p, err
}

// ByKey implements payment.Store.
func (s *Store) ByKey(key string) (p payment.Payment, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketKeys).Get([]byte(key))
		if id == nil {
			return fmt.Errorf("%w: no payment for this request", payment.ErrNotFound)
		}
		p, err = get(tx, string(id))
		return err
	})
	return p, err
}

// ByTillCode implements payment.Store.
func (s *Store) ByTillCode(op, code string) (p payment.Payment, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketCodes).Get(codeKey(op, code))
		if id == nil {
			return fmt.Errorf("%w: no till payment %s at this shop", payment.ErrNotFound, code)
		}
		p, err = get(tx, string(id))
		return err
	})
	return p, err
}

// Since implements payment.Store.
func (s *Store) Since(op string, since time.Time) (ps []payment.Payment, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		prefix := append([]byte(op), 0)
		start := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(max(since.UnixNano(), 0)))
		c := tx.Bucket(bucketByOp).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			p, err := get(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return nil
	})
	return ps, err
}

// Update implements payment.Store.
func (s *Store) Update(id string, fn func(*payment.Payment) error) (p payment.Payment, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if p, err = get(tx, id); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		return put(tx, &p)
	})
	return p, err
}

// Check says whether payment id pays for claim now (payment.Payment.Admits),
// before the desk reserves a number.
func (s *Store) Check(id string, c payment.Claim, now time.Time) (payment.Payment, error) {
	p, err := s.Get(id)
	if err != nil {
		return p, err
	}
	return p, p.Admits(c, now)
}

// UseIn marks payment id used by certificate certID inside tx, the
// transaction that stores the certificate: both commit or neither does.
func (s *Store) UseIn(tx *bbolt.Tx, id string, c payment.Claim, certID string, now time.Time) error {
	p, err := get(tx, id)
	if err != nil {
		return err
	}
	if err := p.Use(c, certID, now); err != nil {
		return err
	}
	return put(tx, &p)
}
