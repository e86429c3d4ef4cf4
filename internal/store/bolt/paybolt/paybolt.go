// Package paybolt keeps payments in the hub's bbolt file, beside the
// certificates, so that the desk marks a payment used in the very
// transaction that issues its certificate (payment.Tx.Use).
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
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/payment"
)

var (
	bucketPayments = []byte("pay_payments")
	bucketKeys     = []byte("pay_keys")
	bucketCodes    = []byte("pay_codes")
	bucketByOp     = []byte("pay_byop")
	allBuckets     = [][]byte{bucketPayments, bucketKeys, bucketCodes, bucketByOp}
)

// In is the payments' view of btx. In a read-only transaction its changes
// fail with bbolt's ErrTxNotWritable.
func In(btx *bbolt.Tx) payment.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

// bucket returns the bucket name, made on a write's first use; nil when a
// read finds the file without payments.
func (t txn) bucket(name []byte) (*bbolt.Bucket, error) {
	if b := t.tx.Bucket(name); b != nil || !t.tx.Writable() {
		return b, nil
	}
	for _, n := range allBuckets {
		if _, err := t.tx.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("cannot create the payments' bucket %q: %w", n, err)
		}
	}
	return t.tx.Bucket(name), nil
}

func (t txn) value(name, key []byte) ([]byte, error) {
	b, err := t.bucket(name)
	if b == nil || err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

func (t txn) put(name, key, value []byte) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return b.Put(key, value)
}

func codeKey(op, code string) []byte { return append(append([]byte(op), 0), code...) }

func opKey(op string, created time.Time, id string) []byte {
	k := append([]byte(op), 0)
	k = binary.BigEndian.AppendUint64(k, uint64(created.UnixNano()))
	return append(k, id...)
}

func (t txn) Get(id string) (payment.Payment, error) {
	var p payment.Payment
	v, err := t.value(bucketPayments, []byte(id))
	if err != nil {
		return p, err
	}
	if v == nil {
		return p, fmt.Errorf("%w: %q", payment.ErrNotFound, id)
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return p, fmt.Errorf("the record of payment %s is damaged: %w", id, err)
	}
	return p, nil
}

func (t txn) store(p *payment.Payment) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return t.put(bucketPayments, []byte(p.ID), v)
}

func (t txn) Create(p *payment.Payment) error {
	if p.ID == "" || p.RequestKey == "" || p.OperatorID == "" {
		return errors.New("a payment needs an id, a request key and an operator")
	}
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if v, err := t.value(bucketPayments, []byte(p.ID)); err != nil || v != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("payment id %s is taken", p.ID)
	}
	id, err := t.value(bucketKeys, []byte(p.RequestKey))
	if err != nil {
		return err
	}
	if id != nil {
		prev, err := t.Get(string(id))
		if err != nil {
			return err
		}
		prev.Due(p.Created)
		if prev.Live() {
			return fmt.Errorf("%w: payment %s", payment.ErrKeyTaken, prev.ID)
		}
	}
	if p.TillCode != "" {
		id, err := t.value(bucketCodes, codeKey(p.OperatorID, p.TillCode))
		if err != nil {
			return err
		}
		if id != nil {
			prev, err := t.Get(string(id))
			if err != nil {
				return err
			}
			if prev.State == payment.Pending && p.Created.Before(prev.Expires) {
				return fmt.Errorf("%w: %s", payment.ErrCodeTaken, p.TillCode)
			}
		}
		if err := t.put(bucketCodes, codeKey(p.OperatorID, p.TillCode), []byte(p.ID)); err != nil {
			return err
		}
	}
	if err := t.put(bucketKeys, []byte(p.RequestKey), []byte(p.ID)); err != nil {
		return err
	}
	if err := t.put(bucketByOp, opKey(p.OperatorID, p.Created, p.ID), nil); err != nil {
		return err
	}
	return t.store(p)
}

func (t txn) ByKey(key string) (payment.Payment, error) {
	id, err := t.value(bucketKeys, []byte(key))
	if err != nil {
		return payment.Payment{}, err
	}
	if id == nil {
		return payment.Payment{}, fmt.Errorf("%w: no payment for this request", payment.ErrNotFound)
	}
	return t.Get(string(id))
}

func (t txn) ByTillCode(op, code string) (payment.Payment, error) {
	id, err := t.value(bucketCodes, codeKey(op, code))
	if err != nil {
		return payment.Payment{}, err
	}
	if id == nil {
		return payment.Payment{}, fmt.Errorf("%w: no till payment %s at this shop", payment.ErrNotFound, code)
	}
	return t.Get(string(id))
}

func (t txn) Since(op string, since time.Time) (ps []payment.Payment, err error) {
	b, err := t.bucket(bucketByOp)
	if b == nil || err != nil {
		return nil, err
	}
	prefix := append([]byte(op), 0)
	start := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(max(since.UnixNano(), 0)))
	c := b.Cursor()
	for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		p, err := t.Get(string(k[len(prefix)+8:]))
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func (t txn) Put(p *payment.Payment) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if _, err := t.Get(p.ID); err != nil {
		return err
	}
	return t.store(p)
}

func (t txn) Use(id string, c payment.Claim, certID string, now time.Time) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	p, err := t.Get(id)
	if err != nil {
		return err
	}
	if err := p.Use(c, certID, now); err != nil {
		return err
	}
	return t.store(&p)
}

// Store is payment.Store on a bbolt file, each call one transaction.
//
// Deprecated: use the hub's store.Store (payment.Over(store.Domain(s,
// store.Tx.Payments))); kept until every caller has moved.
type Store struct {
	payment.Store
	db *bbolt.DB
}

// New opens the payments of db.
func New(db *bbolt.DB) (*Store, error) {
	return &Store{Store: payment.Over(runner{db}), db: db}, nil
}

// Check is payment.Check.
func (s *Store) Check(id string, c payment.Claim, now time.Time) (payment.Payment, error) {
	return payment.Check(s.Store, id, c, now)
}

// UseIn marks payment id used by certificate certID inside tx, the
// transaction that stores the certificate: both commit or neither does.
func (s *Store) UseIn(tx *bbolt.Tx, id string, c payment.Claim, certID string, now time.Time) error {
	return In(tx).Use(id, c, certID, now)
}

type runner struct{ db *bbolt.DB }

func (r runner) Update(_ context.Context, fn func(payment.Tx) error) error {
	return r.db.Update(func(tx *bbolt.Tx) error { return fn(In(tx)) })
}

func (r runner) View(_ context.Context, fn func(payment.Tx) error) error {
	return r.db.View(func(tx *bbolt.Tx) error { return fn(In(tx)) })
}
