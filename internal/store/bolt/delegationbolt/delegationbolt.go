// Package delegationbolt keeps the citizens' delegations in the hub's bbolt
// file (delegation.Tx). One bbolt writer at a time orders a revocation and
// a use of the same delegation, so a use never commits after the
// revocation it did not see.
//
// Layout:
//
//	delegations            id → delegation.Delegation (JSON)
//	delegations_given      delegator CF \x00 id → nothing
//	delegations_received   delegate CF \x00 id → nothing
//	delegation_uses        id \x00 8-byte sequence → delegation.Use (JSON)
package delegationbolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/delegation"
)

var (
	bucketDelegations = []byte("delegations")
	bucketGiven       = []byte("delegations_given")
	bucketReceived    = []byte("delegations_received")
	bucketUses        = []byte("delegation_uses")
)

// In is the delegations' view of btx.
func In(btx *bbolt.Tx) delegation.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

// bucket returns the bucket, created in a writable transaction; nil in a
// read-only one where it does not exist yet.
func (t txn) bucket(name []byte) (*bbolt.Bucket, error) {
	if !t.tx.Writable() {
		return t.tx.Bucket(name), nil
	}
	return t.tx.CreateBucketIfNotExists(name)
}

func indexKey(cf, id string) []byte { return []byte(strings.ToUpper(cf) + "\x00" + id) }

func (t txn) Put(d delegation.Delegation) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if strings.TrimSpace(d.ID) == "" || d.DelegatorCF == "" || d.DelegateCF == "" {
		return fmt.Errorf("%w: a delegation needs an id, a delegator and a delegate", delegation.ErrInvalid)
	}
	b, err := t.bucket(bucketDelegations)
	if err != nil {
		return err
	}
	if b.Get([]byte(d.ID)) != nil {
		return fmt.Errorf("%w: %s", delegation.ErrExists, d.ID)
	}
	if err := t.put(b, d); err != nil {
		return err
	}
	for name, cf := range map[string]string{string(bucketGiven): d.DelegatorCF, string(bucketReceived): d.DelegateCF} {
		ib, err := t.bucket([]byte(name))
		if err != nil {
			return err
		}
		if err := ib.Put(indexKey(cf, d.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

func (t txn) put(b *bbolt.Bucket, d delegation.Delegation) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return b.Put([]byte(d.ID), data)
}

func (t txn) Get(id string) (delegation.Delegation, error) {
	b, err := t.bucket(bucketDelegations)
	if err != nil {
		return delegation.Delegation{}, err
	}
	var v []byte
	if b != nil {
		v = b.Get([]byte(id))
	}
	if v == nil {
		return delegation.Delegation{}, fmt.Errorf("%w: %s", delegation.ErrNotFound, id)
	}
	var d delegation.Delegation
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("delegation %s is damaged: %w", id, err)
	}
	return d, nil
}

func (t txn) list(index []byte, cf string) ([]delegation.Delegation, error) {
	ib, err := t.bucket(index)
	if ib == nil || err != nil {
		return nil, err
	}
	prefix := indexKey(cf, "")
	var out []delegation.Delegation
	c := ib.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		d, err := t.Get(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	delegation.Sort(out)
	return out, nil
}

func (t txn) All() ([]delegation.Delegation, error) {
	b := t.tx.Bucket(bucketDelegations)
	if b == nil {
		return nil, nil
	}
	var out []delegation.Delegation
	err := b.ForEach(func(k, v []byte) error {
		var d delegation.Delegation
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("delegation %s is damaged: %w", k, err)
		}
		out = append(out, d)
		return nil
	})
	delegation.Sort(out)
	return out, err
}

func (t txn) Given(cf string) ([]delegation.Delegation, error) { return t.list(bucketGiven, cf) }

func (t txn) Received(cf string) ([]delegation.Delegation, error) { return t.list(bucketReceived, cf) }

func (t txn) Revoke(id string, at time.Time, by string) (delegation.Delegation, error) {
	if !t.tx.Writable() {
		return delegation.Delegation{}, bberrors.ErrTxNotWritable
	}
	d, err := t.Get(id)
	if err != nil {
		return d, err
	}
	if !d.Revoked.IsZero() {
		return d, delegation.NotLive(d, at)
	}
	d.Revoked, d.RevokedBy = at, by
	b, err := t.bucket(bucketDelegations)
	if err != nil {
		return d, err
	}
	return d, t.put(b, d)
}

func (t txn) RecordUse(u delegation.Use) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	d, err := t.Get(u.DelegationID)
	if err != nil {
		return err
	}
	if !d.Live(u.At) {
		return delegation.NotLive(d, u.At)
	}
	ub, err := t.bucket(bucketUses)
	if err != nil {
		return err
	}
	seq, err := ub.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	key := append([]byte(d.ID+"\x00"), binary.BigEndian.AppendUint64(nil, seq)...)
	if err := ub.Put(key, data); err != nil {
		return err
	}
	d.Uses++
	b, err := t.bucket(bucketDelegations)
	if err != nil {
		return err
	}
	return t.put(b, d)
}

func (t txn) Uses(id string) ([]delegation.Use, error) {
	ub, err := t.bucket(bucketUses)
	if ub == nil || err != nil {
		return nil, err
	}
	prefix := []byte(id + "\x00")
	var out []delegation.Use
	c := ub.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var u delegation.Use
		if err := json.Unmarshal(v, &u); err != nil {
			return nil, fmt.Errorf("a use of delegation %s is damaged: %w", id, err)
		}
		out = append(out, u)
	}
	return out, nil
}
